import { describe, expect, it } from 'vitest';
import { assignToKeyGroup, keyGroupRangeFor, murmurInt, operatorIndexForKeyGroup, stringHash } from '../../common/keygroups.js';
import { consumersOf } from '../../common/partitioning.js';

describe('key groups', () => {
  it('hashes like Java: String.hashCode and murmur mixing', () => {
    expect(stringHash('hello')).toBe(99162322);
    expect(stringHash('')).toBe(0);
    expect(murmurInt(0)).not.toBe(murmurInt(1));
  });

  it('every key group belongs to exactly the subtask whose range holds it', () => {
    for (const maxP of [1, 7, 128, 300]) {
      for (let p = 1; p <= Math.min(maxP, 12); p++) {
        let covered = 0;
        for (let i = 0; i < p; i++) {
          const r = keyGroupRangeFor(maxP, p, i);
          for (let kg = r.start; kg <= r.end; kg++) {
            expect(operatorIndexForKeyGroup(maxP, p, kg)).toBe(i);
            covered++;
          }
        }
        expect(covered).toBe(maxP);
      }
    }
  });

  it('spreads keys evenly (fixed seed)', () => {
    const counts = new Array(128).fill(0);
    let seed = 42;
    for (let i = 0; i < 128_000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      counts[assignToKeyGroup(seed % 100_000, 128)]++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(700);
    // Strings and objects hash deterministically too.
    expect(assignToKeyGroup('user-1', 128)).toBe(assignToKeyGroup('user-1', 128));
    expect(assignToKeyGroup({ a: 1 }, 128)).toBe(assignToKeyGroup({ a: 1 }, 128));
  });
});

describe('connection patterns', () => {
  it('forward connects subtask i to i only; all-to-all edges connect everything', () => {
    expect(consumersOf('forward', 2, 4, 4)).toEqual([2]);
    expect(consumersOf('hash', 0, 2, 3)).toEqual([0, 1, 2]);
    expect(consumersOf('broadcast', 1, 2, 2)).toEqual([0, 1]);
  });
  it('rescale connects each consumer to exactly one producer', () => {
    for (const [p, c] of [[2, 4], [4, 2], [3, 5], [5, 3], [4, 4]] as const) {
      const producersOfConsumer = new Map<number, number>();
      for (let i = 0; i < p; i++) for (const j of consumersOf('rescale', i, p, c)) producersOfConsumer.set(j, (producersOfConsumer.get(j) ?? 0) + 1);
      if (p <= c) {
        expect([...producersOfConsumer.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: c }, (_, k) => k));
        for (const n of producersOfConsumer.values()) expect(n).toBe(1);
      } else {
        for (let i = 0; i < p; i++) expect(consumersOf('rescale', i, p, c)).toHaveLength(1);
      }
    }
  });
});
