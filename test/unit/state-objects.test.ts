import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateTtlConfig,
  ValueStateDescriptor,
} from '../../api/state.js';
import type { AggregateFunction } from '../../api/windowing/types.js';
import { createKeyedStateBackend, type StateBackendType } from '../../taskmanager/state/backend-factory.js';
import { LevelKeyedStateBackend } from '../../taskmanager/state/level-backend.js';
import { createKeyedState, KeyedStateStoreImpl } from '../../taskmanager/state/state-objects.js';
import type { KeyedStateBackend } from '../../taskmanager/state/types.js';

const RANGE = { start: 0, end: 127 };
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A backend of `type` (level in a temp dir removed afterwards); a small cache so level reads hit LevelDB too. */
async function backendOf(type: StateBackendType): Promise<KeyedStateBackend> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-state-'));
  const backend = await createKeyedStateBackend(type, {
    maxParallelism: 128,
    keyGroupRange: RANGE,
    dir: join(dir, 'db'),
    cacheLimit: 8,
  });
  cleanups.push(async () => {
    await backend.dispose();
    await rm(dir, { recursive: true, force: true });
  });
  return backend;
}

const averageFn: AggregateFunction<number, { sum: number; n: number }, number> = {
  createAccumulator: () => ({ sum: 0, n: 0 }),
  add: (v, acc) => ({ sum: acc.sum + v, n: acc.n + 1 }),
  getResult: (acc) => acc.sum / acc.n,
  merge: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
};

/**
 * Writes 50 other keys, waits for LevelDB, then reads absent keys: the level backend's tiny cache
 * evicts the entries under test, so the next reads of them come from LevelDB.
 */
async function churn(backend: KeyedStateBackend, store: KeyedStateStoreImpl): Promise<void> {
  const filler = store.getState(new ValueStateDescriptor<number>('filler'));
  const current = backend.getCurrentKey();
  for (let i = 0; i < 50; i++) {
    backend.setCurrentKey(`filler-${i}`);
    filler.update(i);
  }
  if (backend instanceof LevelKeyedStateBackend) {
    await backend.drain();
    for (let i = 0; i < 60; i++) {
      backend.setCurrentKey(`absent-${i}`);
      filler.value();
    }
    expect(backend.cachedEntries()).toBeLessThan(30);
  }
  backend.setCurrentKey(current);
}

for (const type of ['heap', 'level'] as const) {
  describe(`keyed state objects on the ${type} backend`, () => {
    const clock = { time: 1000, now: () => clock.time };

    it('value state: default, update, clear, null clears', async () => {
      const b = await backendOf(type);
      const store = new KeyedStateStoreImpl(b, clock);
      const count = store.getState(new ValueStateDescriptor<number>('count', 0));
      const obj = store.getState(new ValueStateDescriptor<{ n: number }>('obj', { n: 1 }));
      const plain = store.getState(new ValueStateDescriptor<string>('plain'));
      b.setCurrentKey('a');
      expect(count.value()).toBe(0);
      expect(plain.value()).toBeNull();
      // The default is handed out as a copy: mutating it does not change it for other keys.
      obj.value()!.n = 99;
      expect(obj.value()).toEqual({ n: 1 });
      count.update(5);
      plain.update('x');
      await churn(b, store);
      expect(count.value()).toBe(5);
      expect(plain.value()).toBe('x');
      plain.update(null);
      expect(plain.value()).toBeNull();
      count.clear();
      expect(count.value()).toBe(0);
      count.update(7);
      count.update(undefined);
      expect(count.value()).toBe(0);
    });

    it('list state: add, addAll, update, get returns a copy', async () => {
      const b = await backendOf(type);
      const list = createKeyedState(b, new ListStateDescriptor<number>('list'), clock);
      b.setCurrentKey(1);
      expect(list.get()).toEqual([]);
      list.add(1);
      list.addAll([2, 3]);
      list.addAll([]);
      list.get().push(100); // a copy
      expect(list.get()).toEqual([1, 2, 3]);
      await churn(b, new KeyedStateStoreImpl(b, clock));
      expect(list.get()).toEqual([1, 2, 3]);
      list.update([9, 8]);
      expect(list.get()).toEqual([9, 8]);
      list.update([]);
      expect(list.get()).toEqual([]);
      expect(b.numEntries()).toBeGreaterThanOrEqual(0);
      expect(() => list.add(null as unknown as number)).toThrow(/must not be null/);
    });

    it('map state: put, get, remove, contains, entries, keys, values, isEmpty, structured keys', async () => {
      const b = await backendOf(type);
      const store = new KeyedStateStoreImpl(b, clock);
      const map = store.getMapState(new MapStateDescriptor<unknown, string>('map'));
      b.setCurrentKey('k');
      expect(map.isEmpty()).toBe(true);
      expect(map.get('a')).toBeNull();
      map.put('a', 'A');
      map.put({ x: [1, 2] }, 'obj');
      map.put(3, 'three');
      map.putAll([
        ['b', 'B'],
        ['\u0000tricky', 'nul'],
      ]);
      map.putAll(new Map([['c', 'C']]));
      await churn(b, store);
      expect(map.get({ x: [1, 2] })).toBe('obj'); // structured keys compare by value
      expect(map.contains('a')).toBe(true);
      expect(map.contains('zz')).toBe(false);
      expect(map.get('\u0000tricky')).toBe('nul');
      expect(map.get(3)).toBe('three');
      expect(map.get('3')).toBeNull();
      map.remove('a');
      map.remove('not-there');
      expect(map.contains('a')).toBe(false);
      expect([...map.entries()]).toEqual([
        [{ x: [1, 2] }, 'obj'],
        [3, 'three'],
        ['b', 'B'],
        ['\u0000tricky', 'nul'],
        ['c', 'C'],
      ]);
      expect([...map.keys()]).toEqual([{ x: [1, 2] }, 3, 'b', '\u0000tricky', 'c']);
      expect([...map.values()]).toEqual(['obj', 'three', 'B', 'nul', 'C']);
      expect(map.isEmpty()).toBe(false);
      for (const k of [...map.keys()]) map.remove(k);
      expect(map.isEmpty()).toBe(true);
      b.setCurrentKey('other');
      map.put('z', 'Z');
      map.clear();
      expect(map.isEmpty()).toBe(true);
      // Empty maps are not entries; only the fillers are.
      expect(b.numEntries()).toBe(50);
    });

    it('reducing and aggregating state', async () => {
      const b = await backendOf(type);
      const store = new KeyedStateStoreImpl(b, clock);
      const sum = store.getReducingState(new ReducingStateDescriptor<number>('sum', (x, y) => x + y));
      const max = store.getReducingState(
        new ReducingStateDescriptor<number>('max', { reduce: (x, y) => Math.max(x, y) }),
      );
      const avg = store.getAggregatingState(new AggregatingStateDescriptor('avg', averageFn));
      b.setCurrentKey(['composite', 1]);
      expect(sum.get()).toBeNull();
      expect(avg.get()).toBeNull();
      for (const v of [3, 9, 4]) {
        sum.add(v);
        max.add(v);
        avg.add(v);
      }
      await churn(b, store);
      expect(sum.get()).toBe(16);
      expect(max.get()).toBe(9);
      expect(avg.get()).toBeCloseTo(16 / 3);
      sum.clear();
      avg.clear();
      expect(sum.get()).toBeNull();
      expect(avg.get()).toBeNull();
      expect(max.get()).toBe(9);
    });

    it('keeps keys apart, structured keys by value, and counts entries', async () => {
      const b = await backendOf(type);
      const store = new KeyedStateStoreImpl(b, clock);
      const v = store.getState(new ValueStateDescriptor<string>('v'));
      const keys: unknown[] = [1, '1', 'a', { id: 1 }, [1, 2], true, 2.5, -7, '\u0000x', null];
      for (const k of keys) {
        b.setCurrentKey(k);
        v.update(`value of ${JSON.stringify(k)}`);
      }
      b.setCurrentKey(-0); // the same key as 0, which has nothing
      expect(v.value()).toBeNull();
      for (const k of keys) {
        b.setCurrentKey(structuredClone(k));
        expect(b.getCurrentKey()).toEqual(k);
        expect(v.value()).toBe(`value of ${JSON.stringify(k)}`);
      }
      expect(b.numEntries()).toBe(keys.length);
      b.setCurrentKey({ id: 1 });
      v.clear();
      v.clear();
      expect(b.numEntries()).toBe(keys.length - 1);
    });

    it('addresses namespaces separately (per-window state)', async () => {
      const b = await backendOf(type);
      const list = createKeyedState(b, new ListStateDescriptor<string>('contents'), clock);
      b.setCurrentKey('user');
      list.setCurrentNamespace(0);
      list.add('w0');
      list.setCurrentNamespace(1000);
      list.add('w1');
      list.setCurrentNamespace('1000'); // a string namespace is another namespace
      list.add('s');
      expect(list.getCurrentNamespace()).toBe('1000');
      list.setCurrentNamespace(0);
      expect(list.get()).toEqual(['w0']);
      list.setCurrentNamespace(1000);
      expect(list.get()).toEqual(['w1']);
      list.clear();
      expect(list.get()).toEqual([]);
      list.setCurrentNamespace('1000');
      expect(list.get()).toEqual(['s']);
      expect(b.numEntries()).toBe(2);
    });

    it('expires values with TTL (OnCreateAndWrite, NeverReturnExpired)', async () => {
      const b = await backendOf(type);
      const desc = new ValueStateDescriptor<number>('ttl-value');
      desc.enableTimeToLive(StateTtlConfig.newBuilder(100).build());
      const v = createKeyedState(b, desc, clock);
      clock.time = 1000;
      b.setCurrentKey('k');
      v.update(1);
      clock.time = 1099;
      expect(v.value()).toBe(1); // a read does not extend the TTL with OnCreateAndWrite
      clock.time = 1100;
      expect(v.value()).toBeNull();
      expect(b.numEntries()).toBe(0); // removed on access
      v.update(2);
      clock.time = 1150;
      v.update(3); // a write starts the TTL again
      clock.time = 1249;
      expect(v.value()).toBe(3);
    });

    it('TTL OnReadAndWrite extends on reads; ReturnExpiredIfNotCleanedUp returns once', async () => {
      const b = await backendOf(type);
      const onRead = new ReducingStateDescriptor<number>('ttl-sum', (x, y) => x + y);
      onRead.enableTimeToLive(StateTtlConfig.newBuilder(100).updateTtlOnReadAndWrite().build());
      const sum = createKeyedState(b, onRead, clock);
      const lax = new ListStateDescriptor<string>('ttl-list');
      lax.enableTimeToLive(StateTtlConfig.newBuilder(100).returnExpiredIfNotCleanedUp().build());
      const list = createKeyedState(b, lax, clock);
      clock.time = 0;
      b.setCurrentKey(7);
      sum.add(1);
      list.add('a');
      for (const t of [90, 180, 270]) {
        clock.time = t;
        expect(sum.get()).toBe(1); // every read pushes expiry 100 ms on
      }
      clock.time = 370;
      sum.add(5); // expired: the append starts over instead of merging into it
      expect(sum.get()).toBe(5);
      expect(list.get()).toEqual(['a']); // expired but not cleaned up yet: returned, and removed
      expect(list.get()).toEqual([]);
      list.add('b');
      clock.time = 470;
      list.add('c'); // expired 'b' is never merged into
      expect(list.get()).toEqual(['c']);
    });

    it('map state TTL applies per entry', async () => {
      const b = await backendOf(type);
      const desc = new MapStateDescriptor<string, number>('ttl-map');
      // MapStateDescriptor (shared with broadcast state) has no enableTimeToLive() yet; the field is what counts.
      Object.assign(desc, { ttlConfig: StateTtlConfig.newBuilder(100).build() });
      const store = new KeyedStateStoreImpl(b, clock);
      const map = store.getMapState(desc);
      clock.time = 0;
      b.setCurrentKey('k');
      map.put('old', 1);
      clock.time = 60;
      map.put('new', 2);
      await churn(b, store);
      clock.time = 100;
      expect(map.contains('old')).toBe(false);
      expect(map.get('new')).toBe(2);
      expect([...map.entries()]).toEqual([['new', 2]]);
      clock.time = 160;
      expect(map.isEmpty()).toBe(true);
      expect(b.numEntries()).toBe(50); // the emptied map is gone; the fillers stay
    });

    it('refuses reserved names, kind changes and wrong descriptors with clear errors', async () => {
      const b = await backendOf(type);
      const store = new KeyedStateStoreImpl(b, clock);
      expect(() => store.getState(new ValueStateDescriptor('_window'))).toThrow(/reserved/);
      store.getState(new ValueStateDescriptor<number>('x'));
      expect(store.getState(new ValueStateDescriptor<number>('x'))).toBe(
        store.getState(new ValueStateDescriptor<number>('x')),
      );
      expect(() => store.getListState(new ListStateDescriptor('x'))).toThrow(
        /'x' was already registered as value state/,
      );
      expect(() => createKeyedState(b, new ListStateDescriptor('x'), clock)).toThrow(
        /exists as value state and cannot be used as list state/,
      );
      expect(() => store.getState(new ListStateDescriptor('y') as unknown as ValueStateDescriptor<number>)).toThrow(
        /getState\(\) needs a ValueStateDescriptor/,
      );
      const withTtl = new ValueStateDescriptor<number>('x');
      withTtl.enableTimeToLive(StateTtlConfig.newBuilder(10).build());
      expect(() => createKeyedState(b, withTtl, clock)).toThrow(/time-to-live/);
    });
  });
}
