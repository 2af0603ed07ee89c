// Nexmark joins on a JobManager and two TaskManagers at parallelism 2, compared with nested loops
// over the same events: q3 (local item suggestion, a keyed co-process join) and q8 (monitor new
// users, a tumbling-window join). The generator's disorder stays within the watermark bound, so
// nothing is late and the results are exact.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nexmarkConfig } from 'weir/nexmark';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { personsAndAuctions, referenceQ3, referenceQ8 } from '../reference/joins.js';
import { expectSpreadOverTaskManagers } from '../helpers/spread.js';

describe('Nexmark joins on two TaskManagers', () => {
  let cluster: TestCluster;
  const out = mkdtempSync(join(tmpdir(), 'weir-nexmark-joins-'));
  const COUNT = 200_000;
  const OUT_OF_ORDERNESS = 200;
  const { persons, auctions } = personsAndAuctions(COUNT, nexmarkConfig({ outOfOrdernessMs: OUT_OF_ORDERNESS }));

  beforeAll(async () => {
    cluster = await startCluster({ taskManagers: 2, slots: 2 });
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  async function run(query: string, args: string[]): Promise<{ lines: string[]; job: any }> {
    const dir = join(out, query);
    const jobId = await cluster.submitExample(`nexmark/${query}`, [dir, ...args], 2);
    const job = await cluster.waitForJob(jobId, ['FINISHED'], 120_000);
    for (const v of job.vertices) expect(v.parallelism).toBe(2);
    expectSpreadOverTaskManagers(job, 2);
    return { lines: readCommittedLines(dir), job };
  }

  it('q3 (local item suggestion): category-10 auctions of sellers in OR, ID and CA', async () => {
    const expected = referenceQ3(persons, auctions);
    expect(expected.length).toBeGreaterThan(100);
    const { lines, job } = await run('q3', [String(COUNT), String(OUT_OF_ORDERNESS)]);
    expect(job.vertices.some((v: any) => v.operators.some((o: any) => o.kind === 'coProcess'))).toBe(true);
    expect(multisetDiff(lines, expected)).toEqual(NO_DIFF);
  });

  it('q8 (monitor new users): people who opened an auction in the window they registered in', async () => {
    const expected = referenceQ8(persons, auctions, 2000);
    expect(expected.length).toBeGreaterThan(100);
    const { lines } = await run('q8', [String(COUNT), '2000', String(OUT_OF_ORDERNESS)]);
    expect(multisetDiff(lines, expected)).toEqual(NO_DIFF);
  });
});
