import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ListStateDescriptor, MapStateDescriptor, StateTtlConfig, ValueStateDescriptor } from '../../api/state.js';
import {
  assignToKeyGroup,
  keyGroupRangeFor,
  operatorIndexForKeyGroup,
  type KeyGroupRange,
} from '../../common/keygroups.js';
import {
  createKeyedStateBackend,
  restoreKeyedState,
  type StateBackendType,
} from '../../taskmanager/state/backend-factory.js';
import { CHUNK_ENTRIES } from '../../taskmanager/state/chunk-size.js';
import { LevelKeyedStateBackend } from '../../taskmanager/state/level-backend.js';
import { readSnapshotFile, writeSnapshotFile } from '../../taskmanager/state/snapshot-file.js';
import { KeyedStateStoreImpl } from '../../taskmanager/state/state-objects.js';
import {
  VOID_NAMESPACE,
  type KeyedEntry,
  type KeyedStateBackend,
  type StateMeta,
} from '../../taskmanager/state/types.js';
import { mulberry32 } from '../reference/random.js';

const MAX_P = 128;
const FULL: KeyGroupRange = { start: 0, end: MAX_P - 1 };
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-snap-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function backendOf(
  type: StateBackendType,
  range: KeyGroupRange = FULL,
  cacheLimit = 200,
): Promise<KeyedStateBackend> {
  const dir = join(await tempDir(), 'db');
  const b = await createKeyedStateBackend(type, { maxParallelism: MAX_P, keyGroupRange: range, dir, cacheLimit });
  cleanups.push(() => b.dispose());
  return b;
}

const entryId = (e: KeyedEntry): string => `${e[0]}|${JSON.stringify(e[1])}|${typeof e[2]}:${String(e[2])}`;

/** Reads a snapshot's chunks, checking their order, size and key groups; entries by id. */
async function collect(
  chunks: AsyncIterable<{ keyGroup: number; entries: KeyedEntry[] }>,
  range: KeyGroupRange = FULL,
): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  let last = -1;
  for await (const chunk of chunks) {
    expect(chunk.keyGroup).toBeGreaterThanOrEqual(last);
    expect(chunk.keyGroup).toBeGreaterThanOrEqual(range.start);
    expect(chunk.keyGroup).toBeLessThanOrEqual(range.end);
    expect(chunk.entries.length).toBeGreaterThan(0);
    expect(chunk.entries.length).toBeLessThanOrEqual(CHUNK_ENTRIES);
    last = chunk.keyGroup;
    for (const e of chunk.entries) {
      expect(assignToKeyGroup(e[1], MAX_P)).toBe(chunk.keyGroup);
      const id = entryId(e);
      expect(out.has(id)).toBe(false);
      out.set(id, e[3]);
    }
  }
  return out;
}

/** Fills a backend through the user API (value, list, map, TTL value) and a raw per-window table. */
function populate(b: KeyedStateBackend, keys: number, seed: number): void {
  const clock = { now: () => 5000 };
  const store = new KeyedStateStoreImpl(b, clock);
  const count = store.getState(new ValueStateDescriptor<number>('count'));
  const list = store.getListState(new ListStateDescriptor<string>('seen'));
  const map = store.getMapState(new MapStateDescriptor<unknown, number>('byItem'));
  const ttlDesc = new ValueStateDescriptor<string>('session');
  ttlDesc.enableTimeToLive(StateTtlConfig.newBuilder(60_000).build());
  const session = store.getState(ttlDesc);
  const windows = b.getTable<{ sum: number; items: number[] }>({ name: '_window-contents', kind: 'raw' });
  const random = mulberry32(seed);
  for (let i = 0; i < keys; i++) {
    const key = i % 3 === 0 ? `user-${i}` : i % 3 === 1 ? i : { region: 'eu', id: i };
    b.setCurrentKey(key);
    count.update(i);
    if (i % 2 === 0) list.addAll([`a${i}`, `b${i}`]);
    if (i % 5 === 0) {
      map.put(`item-${i}`, i);
      map.put([i, 'pair'], -(i + 1));
    }
    if (i % 7 === 0) session.update(`s${i}`);
    const windowCount = Math.floor(random() * 3);
    for (let w = 0; w < windowCount; w++) windows.put(w * 1000, { sum: i + w, items: [i, w] });
  }
}

describe('keyed state snapshots', () => {
  for (const type of ['heap', 'level'] as const) {
    it(`${type}: later writes and in-place mutations do not leak into a snapshot`, async () => {
      const b = await backendOf(type, FULL, 150);
      populate(b, 1500, 1);
      const snapA = b.snapshot();
      const expected = await collect(snapA.chunks()); // read at once: nothing changed yet
      const snap = b.snapshot();
      snapA.release();
      // Keep processing: mutate objects got from the backend, overwrite, remove, add.
      const windows = b.getTable<{ sum: number; items: number[] }>({ name: '_window-contents', kind: 'raw' });
      const store = new KeyedStateStoreImpl(b, { now: () => 6000 });
      const count = store.getState(new ValueStateDescriptor<number>('count'));
      const map = store.getMapState(new MapStateDescriptor<unknown, number>('byItem'));
      const list = store.getListState(new ListStateDescriptor<string>('seen'));
      for (let i = 0; i < 1500; i++) {
        b.setCurrentKey(i % 3 === 0 ? `user-${i}` : i % 3 === 1 ? i : { region: 'eu', id: i });
        const w = windows.get(0);
        if (w) {
          w.sum += 1000;
          w.items.push(99);
          windows.put(0, w);
        }
        count.update(-1);
        if (i % 5 === 0) map.put(`item-${i}`, 12345);
        if (i % 4 === 0) list.add('later');
        if (i % 11 === 0) windows.remove(1000);
      }
      for (let i = 0; i < 300; i++) {
        b.setCurrentKey(`new-${i}`);
        count.update(i);
      }
      if (b instanceof LevelKeyedStateBackend) await b.drain(); // the batches before and after the snapshot are written
      expect(await collect(snap.chunks())).toEqual(expected);
      snap.release();
      snap.release(); // idempotent
      // The live state did change.
      b.setCurrentKey(1);
      expect(count.value()).toBe(-1);
    });
  }

  for (const type of ['heap', 'level'] as const) {
    it(`${type}: each of several pending snapshots keeps its own view of values mutated in place`, async () => {
      const b = await backendOf(type, FULL, 50);
      const plain = b.getTable<{ n: number }>({ name: 'plain', kind: 'value' });
      const windows = b.getTable<{ n: number }>({ name: '_windows', kind: 'raw' });
      const keys: unknown[] = Array.from({ length: 120 }, (_, i) =>
        i % 3 === 0 ? i : i % 3 === 1 ? `\u0000k${i}` : { id: i },
      );
      const bump = (n: number, all: unknown[] = keys) => {
        for (const k of all) {
          b.setCurrentKey(k);
          for (const [t, ns] of [
            [plain, VOID_NAMESPACE],
            [windows, 5],
            [windows, -0],
          ] as const) {
            const v = t.get(ns);
            if (v === undefined) t.put(ns, { n });
            else {
              v.n = n; // in place, then put back as the contract asks
              t.put(ns, v);
            }
          }
        }
      };
      const view = (n: number) => {
        const out = new Map<string, unknown>();
        for (const k of keys) {
          const key = JSON.stringify(k);
          out.set(`plain|${key}|string:`, { n });
          out.set(`_windows|${key}|number:5`, { n });
          out.set(`_windows|${key}|number:0`, { n });
        }
        return out;
      };
      bump(1);
      const first = b.snapshot();
      bump(2);
      const second = b.snapshot();
      bump(3);
      bump(4, keys.slice(0, 60)); // a second change in the same generation
      // A value put after the newest snapshot, then changed in place: neither snapshot sees it.
      b.setCurrentKey('fresh');
      plain.put(VOID_NAMESPACE, { n: 10 });
      const fresh = plain.get(VOID_NAMESPACE)!;
      fresh.n = 11;
      plain.put(VOID_NAMESPACE, fresh);
      if (b instanceof LevelKeyedStateBackend) await b.drain();
      expect(await collect(first.chunks())).toEqual(view(1));
      first.release();
      bump(5, keys.slice(60));
      if (b instanceof LevelKeyedStateBackend) await b.drain();
      const secondEntries: KeyedEntry[] = [];
      for await (const chunk of second.chunks()) secondEntries.push(...chunk.entries);
      expect(secondEntries.some((e) => Object.is(e[2], -0))).toBe(false); // -0 is namespace 0, as a Map key
      expect(await collect(second.chunks())).toEqual(view(2));
      second.release();
      expect(b.numEntries()).toBe(keys.length * 3 + 1);
      b.setCurrentKey(keys[0]);
      expect(windows.get(0)).toEqual({ n: 4 });
      b.setCurrentKey(keys[119]);
      expect(plain.get(VOID_NAMESPACE)).toEqual({ n: 5 });
    });
  }

  it('level: a snapshot taken with batches in flight is exact, read before or after they land', async () => {
    const b = (await backendOf('level', FULL, 64)) as LevelKeyedStateBackend;
    const t = b.getTable<number>({ name: 't', kind: 'raw' });
    const expected = new Map<string, unknown>();
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 500; k++) {
        b.setCurrentKey(k);
        if ((k + round) % 9 === 0) {
          t.remove(VOID_NAMESPACE);
          expected.delete(`t|${k}|string:`);
        } else {
          t.put(VOID_NAMESPACE, k * 10 + round);
          expected.set(`t|${k}|string:`, k * 10 + round);
        }
      }
    }
    const early = b.snapshot(); // about eight batches not acknowledged yet
    const late = b.snapshot();
    const readEarly = collect(early.chunks());
    for (let k = 0; k < 500; k++) {
      b.setCurrentKey(k);
      t.put(VOID_NAMESPACE, -1);
    }
    await b.drain();
    expect(await readEarly).toEqual(expected);
    expect(await collect(late.chunks())).toEqual(expected);
    early.release();
    late.release();
  });

  it('round-trips heap -> file -> level -> file -> heap with the same canonical entries', async () => {
    const dir = await tempDir();
    const heap = await backendOf('heap');
    populate(heap, 800, 3);
    const snap1 = heap.snapshot();
    const entries1 = await collect(snap1.chunks());
    const file1 = join(dir, 'heap.state');
    const h1 = await writeSnapshotFile(file1, {
      operatorId: 'op',
      subtaskIndex: 0,
      maxParallelism: MAX_P,
      keyGroupRange: FULL,
      operatorStates: [],
      keyed: snap1,
    });
    snap1.release();

    const level = await backendOf('level', FULL, 100);
    await restoreKeyedState(level, [{ path: file1, sha256: h1.sha256 }]);
    expect(level.numEntries()).toBe(heap.numEntries());
    const snap2 = level.snapshot();
    expect(await collect(snap2.chunks())).toEqual(entries1);
    expect(snap2.states).toEqual(snap1.states);
    const file2 = join(dir, 'level.state');
    const h2 = await writeSnapshotFile(file2, {
      operatorId: 'op',
      subtaskIndex: 0,
      maxParallelism: MAX_P,
      keyGroupRange: FULL,
      operatorStates: [],
      keyed: snap2,
    });
    snap2.release();

    const heap2 = await backendOf('heap');
    await restoreKeyedState(heap2, [{ path: file2, sha256: h2.sha256 }]);
    const snap3 = heap2.snapshot();
    expect(await collect(snap3.chunks())).toEqual(entries1);
    snap3.release();

    // The restored state reads back through the user API on both backends.
    for (const b of [level, heap2]) {
      const store = new KeyedStateStoreImpl(b, { now: () => 5000 });
      b.setCurrentKey(10);
      expect(store.getMapState(new MapStateDescriptor<unknown, number>('byItem')).get([10, 'pair'])).toBe(-11);
      expect(store.getListState(new ListStateDescriptor<string>('seen')).get()).toEqual(['a10', 'b10']);
      b.setCurrentKey('user-21');
      const ttlDesc = new ValueStateDescriptor<string>('session');
      ttlDesc.enableTimeToLive(StateTtlConfig.newBuilder(60_000).build());
      expect(store.getState(ttlDesc).value()).toBe('s21');
      b.setCurrentKey({ region: 'eu', id: 797 });
      expect(store.getState(new ValueStateDescriptor<number>('count')).value()).toBe(797);
    }
  });

  it('restores only its own key groups, and rescales 1 -> 2 -> 3 -> 1', async () => {
    const dir = await tempDir();
    const source = await backendOf('heap');
    populate(source, 1000, 4);
    const all = await collect(source.snapshot().chunks());
    const writeFrom = async (b: KeyedStateBackend, name: string, index: number) => {
      const snap = b.snapshot();
      const path = join(dir, name);
      const { sha256 } = await writeSnapshotFile(path, {
        operatorId: 'op',
        subtaskIndex: index,
        maxParallelism: MAX_P,
        keyGroupRange: b.keyGroupRange,
        operatorStates: [],
        keyed: snap,
      });
      snap.release();
      return { path, sha256 };
    };
    const files1 = [await writeFrom(source, 'p1-0', 0)];

    const restoreInto = async (
      parallelism: number,
      files: Array<{ path: string; sha256: string }>,
      types: StateBackendType[],
    ) => {
      const out: KeyedStateBackend[] = [];
      for (let i = 0; i < parallelism; i++) {
        const range = keyGroupRangeFor(MAX_P, parallelism, i);
        const b = await backendOf(types[i % types.length], range);
        await restoreKeyedState(b, files);
        const mine = await collect(b.snapshot().chunks(), range);
        // Exactly the entries whose key group this subtask owns.
        const expected = new Map(
          [...all].filter(([id]) => {
            const key = JSON.parse(id.split('|')[1]);
            return operatorIndexForKeyGroup(MAX_P, parallelism, assignToKeyGroup(key, MAX_P)) === i;
          }),
        );
        expect(mine).toEqual(expected);
        expect(b.numEntries()).toBe(expected.size);
        out.push(b);
      }
      return out;
    };
    const two = await restoreInto(2, files1, ['level', 'heap']);
    const files2 = [await writeFrom(two[0], 'p2-0', 0), await writeFrom(two[1], 'p2-1', 1)];
    const three = await restoreInto(3, files2, ['heap', 'level']);
    const files3 = await Promise.all(three.map((b, i) => writeFrom(b, `p3-${i}`, i)));
    const [one] = await restoreInto(1, files3, ['level']);
    expect(one.numEntries()).toBe(source.numEntries());
  });

  it('merges timer entries kept outside the backend into key-group order and hands them back', async () => {
    const dir = await tempDir();
    const b = await backendOf('heap');
    const t = b.getTable<number>({ name: 'v', kind: 'value' });
    for (let k = 0; k < 200; k++) {
      b.setCurrentKey(k);
      t.put(VOID_NAMESPACE, k);
    }
    const timerMeta: StateMeta = { name: '_timer-event', kind: 'raw' };
    const timers: KeyedEntry[] = [];
    for (let k = 0; k < 300; k += 3) timers.push(['_timer-event', k, VOID_NAMESPACE, [k * 1000, 'window']]);
    const snap = b.snapshot();
    const path = join(dir, 'timers.state');
    const { sha256 } = await writeSnapshotFile(path, {
      operatorId: 'op',
      subtaskIndex: 0,
      maxParallelism: MAX_P,
      keyGroupRange: FULL,
      operatorStates: [],
      keyed: snap,
      extraKeyed: { states: [timerMeta], entries: timers },
    });
    snap.release();
    const file = await readSnapshotFile(path, { expectedSha256: sha256 });
    expect(file.states.map((s) => s.name)).toEqual(['v', '_timer-event']);
    const inFile = await collect(file.chunks());
    expect(inFile.size).toBe(200 + 100);

    const restored = await backendOf('level', keyGroupRangeFor(MAX_P, 2, 1));
    const sunk: KeyedEntry[] = [];
    await restoreKeyedState(restored, [{ path, sha256 }], (meta, entry) => {
      expect(meta).toEqual(timerMeta);
      sunk.push(entry);
    });
    const range = restored.keyGroupRange;
    const inRange = (k: unknown) => {
      const kg = assignToKeyGroup(k, MAX_P);
      return kg >= range.start && kg <= range.end;
    };
    expect(sunk.map((e) => e[1]).sort((x, y) => (x as number) - (y as number))).toEqual(
      timers.map((e) => e[1]).filter(inRange),
    );
    expect(restored.numEntries()).toBe([...Array(200).keys()].filter(inRange).length);

    const noSink = await backendOf('heap');
    await expect(restoreKeyedState(noSink, [{ path, sha256 }])).rejects.toThrow(
      /timer state '_timer-event'.*nowhere to put it/,
    );
  });

  it('refuses a file written with another maxParallelism', async () => {
    const dir = await tempDir();
    const b = await backendOf('heap');
    b.setCurrentKey(1);
    b.getTable({ name: 'v', kind: 'value' }).put(VOID_NAMESPACE, 1);
    const snap = b.snapshot();
    const path = join(dir, 'f.state');
    const { sha256 } = await writeSnapshotFile(path, {
      operatorId: 'op',
      subtaskIndex: 0,
      maxParallelism: MAX_P,
      keyGroupRange: FULL,
      operatorStates: [],
      keyed: snap,
    });
    const other = await createKeyedStateBackend('heap', {
      maxParallelism: 256,
      keyGroupRange: { start: 0, end: 255 },
      dir: '',
    });
    await expect(restoreKeyedState(other, [{ path, sha256 }])).rejects.toThrow(
      /maxParallelism 128, the backend has 256/,
    );
  });
});
