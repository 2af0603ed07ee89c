import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HeapKeyedStateBackend } from '../../taskmanager/state/heap-backend.js';
import { LevelKeyedStateBackend } from '../../taskmanager/state/level-backend.js';
import { readSnapshotFile, writeSnapshotFile } from '../../taskmanager/state/snapshot-file.js';
import {
  SNAPSHOT_FORMAT,
  VOID_NAMESPACE,
  type KeyedEntry,
  type KeyedStateBackend,
  type OperatorStateEntry,
} from '../../taskmanager/state/types.js';

const MAX_P = 64;
let dir = '';
let good = '';
let goodSha = '';
const operatorStates: OperatorStateEntry[] = [
  { name: 'offsets', mode: 'split', items: [{ partition: 0, offset: 42 }] },
  { name: 'rules', mode: 'broadcast', items: [['r1', { threshold: 3 }]] },
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-file-'));
  good = join(dir, 'good.state');
  const written = await writeFilled(
    new HeapKeyedStateBackend({ maxParallelism: MAX_P, keyGroupRange: { start: 0, end: MAX_P - 1 } }),
    good,
  );
  goodSha = written.sha256;
  const bytes = await readFile(good);
  expect(written.size).toBe(bytes.length);
  expect(written.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
});

/** Puts 20 000 keys into `b` and writes its snapshot, with the operator states, to `path`. */
async function writeFilled(b: KeyedStateBackend, path: string): Promise<{ size: number; sha256: string }> {
  const t = b.getTable<{ total: number }>({ name: 'totals', kind: 'value' });
  for (let k = 0; k < 20_000; k++) {
    b.setCurrentKey(`key-${k}`);
    t.put(VOID_NAMESPACE, { total: k });
  }
  const snap = b.snapshot();
  try {
    return await writeSnapshotFile(path, {
      operatorId: 'abc',
      subtaskIndex: 0,
      maxParallelism: MAX_P,
      keyGroupRange: { start: 0, end: MAX_P - 1 },
      operatorStates,
      keyed: snap,
    });
  } finally {
    snap.release();
  }
}

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(path: string, sha?: string): Promise<number> {
  const f = await readSnapshotFile(path, { expectedSha256: sha });
  let n = 0;
  for await (const c of f.chunks()) n += c.entries.length;
  return n;
}

async function damagedCopy(name: string, change: (bytes: Buffer) => Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, change(await readFile(good)));
  return path;
}

describe('canonical state files', () => {
  it('is plain msgpack: header, operator states, keyed chunks', async () => {
    const items = new Unpackr({ useRecords: false }).unpackMultiple(await readFile(good)) as unknown[];
    expect(items[0]).toMatchObject({
      format: SNAPSHOT_FORMAT,
      version: 1,
      operatorId: 'abc',
      subtaskIndex: 0,
      maxParallelism: MAX_P,
      keyGroupRange: { start: 0, end: 63 },
      states: [{ name: 'totals', kind: 'value' }],
    });
    expect(items[1]).toEqual(operatorStates);
    const chunks = items.slice(2) as Array<{ keyGroup: number; entries: KeyedEntry[] }>;
    expect(chunks.reduce((n, c) => n + c.entries.length, 0)).toBe(20_000);
    expect(chunks.length).toBeGreaterThanOrEqual(MAX_P);
    const f = await readSnapshotFile(good, { expectedSha256: goodSha });
    expect(f.operatorStates).toEqual(operatorStates);
    expect(await readAll(good, goodSha)).toBe(20_000);
    // No temporary file is left behind.
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('reads only the chunks of a key-group range, and decodes none before it, from either backend', async () => {
    // The level backend writes its chunks' bytes itself (a msgpack fixmap), the heap's go through msgpackr.
    const level = await LevelKeyedStateBackend.open(join(dir, 'level-db'), {
      maxParallelism: MAX_P,
      keyGroupRange: { start: 0, end: MAX_P - 1 },
    });
    const fromLevel = join(dir, 'level.state');
    await writeFilled(level, fromLevel);
    await level.dispose();
    for (const path of [good, fromLevel]) {
      const chunks = (new Unpackr({ useRecords: false }).unpackMultiple(await readFile(path)) as unknown[]).slice(
        2,
      ) as Array<{ keyGroup: number }>;
      const unpack = vi.spyOn(Unpackr.prototype, 'unpack');
      try {
        const f = await readSnapshotFile(path, { keyGroupRange: { start: 10, end: 20 } });
        const groups = new Set<number>();
        unpack.mockClear();
        for await (const c of f.chunks()) groups.add(c.keyGroup);
        expect([...groups].sort((a, b) => a - b)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
        // The header, the operator states, the range's chunks and the one after it that ends the read.
        const inRange = chunks.filter((c) => c.keyGroup >= 10 && c.keyGroup <= 20).length;
        expect(unpack).toHaveBeenCalledTimes(2 + inRange + 1);
      } finally {
        unpack.mockRestore();
      }
    }
  });

  it('reports a missing file', async () => {
    await expect(readSnapshotFile(join(dir, 'nope.state'))).rejects.toThrow(/state file .*nope\.state is missing/);
    await expect(readSnapshotFile(join(dir, 'nope.state'), { expectedSha256: goodSha })).rejects.toThrow(
      /nope\.state is missing/,
    );
  });

  it('reports a truncated file, with or without a checksum', async () => {
    const path = await damagedCopy('truncated.state', (b) => b.subarray(0, b.length - 1000));
    await expect(readAll(path)).rejects.toThrow(
      /truncated\.state is damaged: it ends in the middle of an item \(truncated\)/,
    );
    await expect(readAll(path, goodSha)).rejects.toThrow(
      /truncated\.state is damaged: its sha256 is [0-9a-f]{64}, the checkpoint recorded/,
    );
    const headerOnly = join(dir, 'header-only.state');
    const header = new Packr({ useRecords: false }).pack({
      format: SNAPSHOT_FORMAT,
      version: 1,
      operatorId: 'x',
      subtaskIndex: 0,
      maxParallelism: 8,
      keyGroupRange: null,
      states: [],
    });
    await writeFile(headerOnly, header);
    await expect(readSnapshotFile(headerOnly)).rejects.toThrow(
      /header-only\.state is damaged: it ends after its header/,
    );
    const empty = join(dir, 'empty.state');
    await writeFile(empty, '');
    await expect(readSnapshotFile(empty)).rejects.toThrow(/empty\.state is damaged: it is empty/);
    const cut = join(dir, 'cut.state');
    await writeFile(cut, (await readFile(join(dir, 'truncated.state'))).subarray(0, 30));
    await expect(readSnapshotFile(cut)).rejects.toThrow(/cut\.state is damaged/);
  });

  it('detects a flipped bit through the checksum', async () => {
    const path = await damagedCopy('flipped.state', (b) => {
      const c = Buffer.from(b);
      c[Math.floor(c.length / 2)] ^= 0x04;
      return c;
    });
    await expect(readSnapshotFile(path, { expectedSha256: goodSha })).rejects.toThrow(
      /flipped\.state is damaged: its sha256/,
    );
  });

  it('refuses newer format versions and files of other formats', async () => {
    const packr = new Packr({ useRecords: false });
    const newer = join(dir, 'newer.state');
    await writeFile(
      newer,
      Buffer.concat([
        packr.pack({
          format: SNAPSHOT_FORMAT,
          version: 2,
          operatorId: 'x',
          subtaskIndex: 0,
          maxParallelism: 8,
          keyGroupRange: null,
          states: [],
        }),
        packr.pack([]),
      ]),
    );
    await expect(readSnapshotFile(newer)).rejects.toThrow(
      /newer\.state has format version 2, newer than this Weir reads \(up to 1\)/,
    );
    const other = join(dir, 'other.state');
    await writeFile(other, packr.pack({ hello: 'world' }));
    await expect(readSnapshotFile(other)).rejects.toThrow(/other\.state is not a Weir state file/);
    const text = join(dir, 'text.state');
    await writeFile(text, 'hello, world');
    await expect(readSnapshotFile(text)).rejects.toThrow(/text\.state is not a Weir state file/);
    const garbage = join(dir, 'garbage.state');
    const header = {
      format: SNAPSHOT_FORMAT,
      version: 1,
      operatorId: 'x',
      subtaskIndex: 0,
      maxParallelism: 8,
      keyGroupRange: { start: 0, end: 7 },
      states: [],
    };
    await writeFile(garbage, Buffer.concat([packr.pack(header), packr.pack([]), Buffer.from('junk')]));
    await expect(readAll(garbage)).rejects.toThrow(/garbage\.state is damaged: item 3 is not a keyed chunk/);
  });

  it('refuses chunks out of order or outside the file range', async () => {
    const packr = new Packr({ useRecords: false });
    const header = {
      format: SNAPSHOT_FORMAT,
      version: 1,
      operatorId: 'x',
      subtaskIndex: 0,
      maxParallelism: 8,
      keyGroupRange: { start: 0, end: 3 },
      states: [{ name: 's', kind: 'value' }],
    };
    const unordered = join(dir, 'unordered.state');
    await writeFile(
      unordered,
      Buffer.concat([
        packr.pack(header),
        packr.pack([]),
        packr.pack({ keyGroup: 2, entries: [['s', 1, '', 1]] }),
        packr.pack({ keyGroup: 1, entries: [['s', 2, '', 2]] }),
      ]),
    );
    await expect(readAll(unordered)).rejects.toThrow(/unordered\.state is damaged: key group 1 follows key group 2/);
    const outside = join(dir, 'outside.state');
    await writeFile(
      outside,
      Buffer.concat([packr.pack(header), packr.pack([]), packr.pack({ keyGroup: 6, entries: [] })]),
    );
    await expect(readAll(outside)).rejects.toThrow(
      /outside\.state is damaged: a chunk has key group 6, outside the file's key-group range 0\.\.3/,
    );
  });

  it('writes nothing under the final name when the keyed part fails', async () => {
    const path = join(dir, 'failed.state');
    const failing = {
      states: [],
      release: () => undefined,
      async *chunks() {
        yield { keyGroup: 0, entries: [] as KeyedEntry[] };
        throw new Error('disk on fire');
      },
    };
    await expect(
      writeSnapshotFile(path, {
        operatorId: 'x',
        subtaskIndex: 0,
        maxParallelism: 8,
        keyGroupRange: { start: 0, end: 7 },
        operatorStates: [],
        keyed: failing,
      }),
    ).rejects.toThrow(/disk on fire/);
    expect((await readdir(dir)).filter((n) => n.startsWith('failed.state'))).toEqual([]);
  });
});
