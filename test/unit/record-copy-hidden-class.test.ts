// A same-thread copy must have the hidden class of the same record decoded from a buffer: an
// operator fed by both (its own thread's half of a keyBy and the other thread's) then reads its
// fields through one map. V8 tells only with --allow-natives-syntax, so a child Node.js checks the
// built modules (dist/, built before the tests).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/package-root.js';

const dist = join(packageRoot(), 'dist', 'common');

const script = `
const { copyRecord } = await import(${JSON.stringify(join(dist, 'record-copy.js'))});
const { decodeRecords, encodeRecords } = await import(${JSON.stringify(join(dist, 'serialization.js'))});
const records = [
  { key: 7, value: 42 },
  { auction: 1, bidder: 2, price: 3.5, channel: 'c', url: 'u', dateTime: 9, extra: '' },
  { price: 3, bids: [{ auction: 1, bidder: 2 }] },
];
const same = records.map((r) => {
  const copy = copyRecord(r);
  const decoded = decodeRecords(encodeRecords([r], null)).values[0];
  return [%HaveSameMap(copy, decoded), %HaveSameMap(copy, r), %HasFastProperties(copy)];
});
process.stdout.write(JSON.stringify(same));
`;

describe('record copy hidden class', () => {
  it("is the decoded record's, and that of the literal the job wrote", () => {
    expect(existsSync(join(dist, 'record-copy.js')), 'dist/ is built before the tests').toBe(true);
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toStrictEqual([
      [true, true, true],
      [true, true, true],
      [true, true, true],
    ]);
  });
});
