import { describe, expect, it } from 'vitest';
import {
  assignToKeyGroup,
  keyGroupOfHashCode,
  keyGroupRangeFor,
  murmurInt,
  operatorIndexForKeyGroup,
  stringHash,
} from '../../common/keygroups.js';
import { consumersOf } from '../../common/partitioning.js';

describe('key groups', () => {
  it('hashes like Java: String.hashCode and murmur mixing', () => {
    expect(stringHash('hello')).toBe(99162322);
    expect(stringHash('')).toBe(0);
    expect(murmurInt(0)).not.toBe(murmurInt(1));
  });

  it("mixes as Flink's MathUtils.murmurHash, reading a negative result as unsigned where Flink takes its absolute value", () => {
    // Flink's MathUtils.murmurHash, written out: the same steps on Java ints.
    const flinkMixed = (code: number): number => {
      let h = Math.imul(code | 0, 0xcc9e2d51);
      h = (h << 15) | (h >>> 17);
      h = Math.imul(h, 0x1b873593);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      h ^= 4;
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      return h;
    };
    const flinkMurmurHash = (code: number): number => {
      const h = flinkMixed(code);
      return h >= 0 ? h : h !== -2147483648 ? -h : 0;
    };
    let negative = 0;
    let sameGroup = 0;
    for (const key of [
      0,
      1,
      -1,
      42,
      2147483647,
      -2147483648,
      ...Array.from({ length: 1000 }, (_, i) => stringHash(`user-${i}`)),
    ]) {
      const mixed = flinkMixed(key);
      expect(murmurInt(key), String(key)).toBe(mixed >>> 0);
      if (mixed >= 0) expect(murmurInt(key)).toBe(flinkMurmurHash(key));
      else negative++;
      if (murmurInt(key) % 128 === flinkMurmurHash(key) % 128) sameGroup++;
    }
    // About half the keys mix to a negative value; for those the key group differs from Flink's.
    expect(negative).toBeGreaterThan(400);
    expect(negative).toBeLessThan(606);
    expect(sameGroup).toBeLessThan(700);
  });

  it('computes the key group of a hash code in int32 arithmetic exactly as the unsigned remainder', () => {
    let seed = 7;
    const codes = [0, 1, -1, 65535, 65536, 2147483647, -2147483648];
    for (let i = 0; i < 20_000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      codes.push(seed);
    }
    for (const m of [1, 2, 3, 7, 100, 127, 128, 1000, 4096, 32767, 32768]) {
      for (const code of codes) {
        const kg = keyGroupOfHashCode(code, m);
        if (kg !== murmurInt(code) % m) expect(kg, `code ${code}, max parallelism ${m}`).toBe(murmurInt(code) % m);
      }
    }
    expect(assignToKeyGroup(-7, 128)).toBe(murmurInt(-7) % 128);
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
    for (const [p, c] of [
      [2, 4],
      [4, 2],
      [3, 5],
      [5, 3],
      [4, 4],
    ] as const) {
      const producersOfConsumer = new Map<number, number>();
      for (let i = 0; i < p; i++)
        for (const j of consumersOf('rescale', i, p, c))
          producersOfConsumer.set(j, (producersOfConsumer.get(j) ?? 0) + 1);
      if (p <= c) {
        expect([...producersOfConsumer.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: c }, (_, k) => k));
        for (const n of producersOfConsumer.values()) expect(n).toBe(1);
      } else {
        for (let i = 0; i < p; i++) expect(consumersOf('rescale', i, p, c)).toHaveLength(1);
      }
    }
  });
});
