import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LevelKeyedStateBackend } from '../../taskmanager/state/level-backend.js';
import { VOID_NAMESPACE } from '../../taskmanager/state/types.js';
import { mulberry32 } from '../reference/random.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function open(cacheLimit: number): Promise<LevelKeyedStateBackend> {
  const root = await mkdtemp(join(tmpdir(), 'weir-level-'));
  const b = await LevelKeyedStateBackend.open(join(root, 'db'), {
    maxParallelism: 128,
    keyGroupRange: { start: 0, end: 127 },
    cacheLimit,
  });
  cleanups.push(async () => {
    await b.dispose();
    await rm(root, { recursive: true, force: true });
  });
  return b;
}

describe('level keyed state backend', () => {
  it('keeps every value through cache eviction and counts entries exactly (randomized, fixed seed)', async () => {
    const b = await open(64);
    const values = b.getTable<{ n: number; tags: string[] }>({ name: 'values', kind: 'raw' });
    const counts = b.getTable<number>({ name: 'counts', kind: 'raw' });
    const expected = new Map<string, { n: number; tags: string[] } | number>();
    const random = mulberry32(7);
    for (let step = 0; step < 6000; step++) {
      const key = Math.floor(random() * 400);
      const ns = random() < 0.3 ? Math.floor(random() * 3) : VOID_NAMESPACE;
      const table = random() < 0.5 ? values : counts;
      const id = `${table.meta.name}|${key}|${String(ns)}|${typeof ns}`;
      b.setCurrentKey(key);
      const op = random();
      if (op < 0.45) {
        // The window operator's pattern: get, mutate in place, put back.
        if (table === values) {
          const v = values.get(ns) ?? { n: 0, tags: [] };
          v.n++;
          v.tags.push(String(step));
          values.put(ns, v);
          expected.set(id, structuredClone(v));
        } else {
          const c = (counts.get(ns) ?? 0) + 1;
          counts.put(ns, c);
          expected.set(id, c);
        }
      } else if (op < 0.6) {
        table.remove(ns);
        expected.delete(id);
      } else {
        const got = table.get(ns);
        expect(got).toEqual(expected.get(id));
      }
      expect(b.numEntries()).toBe(expected.size);
      if (step % 500 === 0) await b.drain(); // lets batches complete, so evictions happen
    }
    await b.drain();
    expect(b.cachedEntries()).toBeLessThan(400);
    for (const [id, v] of expected) {
      const [name, key, ns, nsType] = id.split('|');
      b.setCurrentKey(Number(key));
      const table = name === 'values' ? values : counts;
      expect(table.get(nsType === 'number' ? Number(ns) : ns)).toEqual(v);
    }
  });

  it('reads the newest value while a write batch is in flight', async () => {
    const b = await open(100);
    const t = b.getTable<number>({ name: 't', kind: 'raw' });
    for (let k = 0; k < 100; k++) {
      b.setCurrentKey(k);
      t.put(VOID_NAMESPACE, k); // the 100th put issues a batch
    }
    // The batch is not acknowledged yet (nothing awaited): reads must still see every value,
    // including ones changed after the batch was encoded.
    b.setCurrentKey(5);
    t.put(VOID_NAMESPACE, 500);
    b.setCurrentKey(6);
    t.remove(VOID_NAMESPACE);
    for (let k = 0; k < 100; k++) {
      b.setCurrentKey(k);
      expect(t.get(VOID_NAMESPACE)).toBe(k === 5 ? 500 : k === 6 ? undefined : k);
    }
    expect(b.numEntries()).toBe(99);
    await b.drain();
    // Now from LevelDB (after the cache has turned over).
    const other = b.getTable<number>({ name: 'other', kind: 'raw' });
    for (let k = 0; k < 300; k++) {
      b.setCurrentKey(1000 + k);
      other.put(VOID_NAMESPACE, k);
      if (k % 100 === 99) await b.drain();
    }
    for (let k = 0; k < 100; k++) {
      b.setCurrentKey(k);
      expect(t.get(VOID_NAMESPACE)).toBe(k === 5 ? 500 : k === 6 ? undefined : k);
    }
    expect(b.numEntries()).toBe(399);
  });

  it('restores megabytes of entries in batches of bounded size, every value exact (fixed seed)', async () => {
    const b = await open(20_000);
    const db = (b as unknown as { db: { batch: (ops: Array<{ key: Buffer; value?: Buffer }>) => Promise<void> } }).db;
    const batches = vi.spyOn(db, 'batch');
    const meta = { name: 'big', kind: 'value' } as const;
    const rnd = mulberry32(61);
    const expected = new Map<number, string>();
    // About 6 MB: several restore batches by size, while the entry count stays far below the cache limit.
    for (let k = 0; k < 6000; k++) {
      const value = `${k}:`.padEnd(500 + Math.floor(rnd() * 1000), String.fromCharCode(97 + (k % 26)));
      expected.set(k, value);
      b.restoreEntry(meta, k, VOID_NAMESPACE, value);
      if (k % 500 === 499) await b.awaitWriteCapacity();
    }
    await b.finishRestore();
    expect(b.numEntries()).toBe(6000);
    const sizes = batches.mock.calls.map(([ops]) =>
      ops.reduce((n, op) => n + op.key.length + (op.value?.length ?? 0), 0),
    );
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThan(2.1 * 1024 * 1024);
    const t = b.getTable<string>(meta);
    for (const [k, value] of expected) {
      b.setCurrentKey(k);
      expect(t.get(VOID_NAMESPACE)).toBe(value);
    }
  });

  it('writes a flush of large values in batches of bounded size, through eviction every value exact (fixed seed)', async () => {
    const b = await open(3000);
    const db = (b as unknown as { db: { batch: (ops: Array<{ key: Buffer; value?: Buffer }>) => Promise<void> } }).db;
    const batches = vi.spyOn(db, 'batch');
    const t = b.getTable<string>({ name: 'big', kind: 'value' });
    const rnd = mulberry32(62);
    const expected = new Map<number, string | undefined>();
    for (let i = 0; i < 12_000; i++) {
      const k = Math.floor(rnd() * 9000);
      b.setCurrentKey(k);
      if (rnd() < 0.05) {
        t.remove(VOID_NAMESPACE);
        expected.set(k, undefined);
      } else {
        const value = `${i}:`.padEnd(500 + Math.floor(rnd() * 1000), '.');
        t.put(VOID_NAMESPACE, value);
        expected.set(k, value);
      }
    }
    await b.drain();
    const sizes = batches.mock.calls.map(([ops]) =>
      ops.reduce((n, op) => n + op.key.length + (op.value?.length ?? 0), 0),
    );
    expect(sizes.length).toBeGreaterThan(3);
    for (const size of sizes) expect(size).toBeLessThan(2.1 * 1024 * 1024);
    for (const [k, value] of expected) {
      b.setCurrentKey(k);
      expect(t.get(VOID_NAMESPACE)).toBe(value);
    }
    expect(b.numEntries()).toBe([...expected.values()].filter((v) => v !== undefined).length);
  });

  it('starts empty in a directory that held something, and removes it on dispose', async () => {
    const root = await mkdtemp(join(tmpdir(), 'weir-level-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const dir = join(root, 'db');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'stale.txt'), 'left over from a previous attempt');
    const b = await LevelKeyedStateBackend.open(dir, { maxParallelism: 16, keyGroupRange: { start: 0, end: 15 } });
    expect(existsSync(join(dir, 'stale.txt'))).toBe(false);
    const t = b.getTable<string>({ name: 't', kind: 'value' });
    b.setCurrentKey('a');
    t.put(VOID_NAMESPACE, 'x');
    await b.dispose();
    expect(existsSync(dir)).toBe(false);
    expect(() => b.setCurrentKey('a') ?? t.get(VOID_NAMESPACE)).toThrow(/disposed/);
  });

  it('refuses keys outside its key groups', async () => {
    const root = await mkdtemp(join(tmpdir(), 'weir-level-'));
    const b = await LevelKeyedStateBackend.open(join(root, 'db'), {
      maxParallelism: 128,
      keyGroupRange: { start: 0, end: 63 },
    });
    cleanups.push(async () => {
      await b.dispose();
      await rm(root, { recursive: true, force: true });
    });
    const t = b.getTable<number>({ name: 't', kind: 'raw' });
    let outside = 0;
    for (let k = 0; k < 50; k++) {
      b.setCurrentKey(k);
      try {
        t.put(VOID_NAMESPACE, k);
      } catch (e) {
        expect((e as Error).message).toMatch(/outside this subtask's key groups 0\.\.63/);
        outside++;
      }
    }
    expect(outside).toBeGreaterThan(10);
    expect(b.numEntries()).toBe(50 - outside);
  });
});
