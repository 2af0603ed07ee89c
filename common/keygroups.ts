// Key groups, as in Flink: a key hashes to one of `maxParallelism` key groups and each
// subtask owns a contiguous range of them, so rescaling moves whole key groups. The ranges are
// Flink's; the hash differs from Flink's for negative mixed values (see murmurInt).

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK1(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH1(h: number, k: number): number {
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * Murmur3 (32-bit) of an int: the mixing of Flink's MathUtils.murmurHash, but where Flink takes
 * the absolute value of a negative result, Weir reads the same 32 bits as unsigned. Keys whose
 * mixed hash is negative (about half) so land in other key groups than in Flink; the spread is
 * as even. Weir keeps its assignment because every checkpoint and savepoint stores keyed state
 * by key group, and Weir's state is not read by Flink (nor Flink's by Weir).
 */
export function murmurInt(code: number): number {
  return murmurMix(code) >>> 0;
}

/** The mixed hash as an int32 (murmurInt before it is read as unsigned). */
function murmurMix(code: number): number {
  return fmix(mixH1(0, mixK1(code | 0)), 4);
}

/**
 * The key group of a key's 32-bit hash code: `murmurInt(code) % maxParallelism`, computed in int32
 * arithmetic. The hash is unsigned, and `%` on one past 2^31 (half of them) takes V8's
 * floating-point remainder, a call that cost more than the hash itself on every record of a keyBy.
 * With maxParallelism at most 2^15 (Flink's bound), every step stays below 2^31.
 */
export function keyGroupOfHashCode(code: number, maxParallelism: number): number {
  const h = murmurMix(code);
  // A power of two (the default, 128) divides 2^32: the remainder is the low bits.
  if ((maxParallelism & (maxParallelism - 1)) === 0) return h & (maxParallelism - 1);
  return ((((h >>> 16) % maxParallelism) << 16) | (h & 0xffff)) % maxParallelism;
}

/** Java-style String.hashCode, so string keys spread the way Flink users expect. */
export function stringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** A stable 32-bit hash code for any JSON-like key. */
export function keyHashCode(key: unknown): number {
  switch (typeof key) {
    case 'number':
      if (Number.isInteger(key) && key >= -2147483648 && key <= 2147483647) return key | 0;
      return stringHash(String(key));
    case 'string':
      return stringHash(key);
    case 'boolean':
      return key ? 1231 : 1237;
    case 'bigint':
      return stringHash(key.toString());
    case 'undefined':
      return 0;
    default:
      return key === null ? 0 : stringHash(JSON.stringify(key));
  }
}

export function assignToKeyGroup(key: unknown, maxParallelism: number): number {
  return keyGroupOfHashCode(keyHashCode(key), maxParallelism);
}

/** The subtask that owns `keyGroup` (Flink's computeOperatorIndexForKeyGroup). */
export function operatorIndexForKeyGroup(maxParallelism: number, parallelism: number, keyGroup: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

export interface KeyGroupRange {
  start: number; // inclusive
  end: number; // inclusive
}

/** The key groups subtask `index` owns (Flink's computeKeyGroupRangeForOperatorIndex). */
export function keyGroupRangeFor(maxParallelism: number, parallelism: number, index: number): KeyGroupRange {
  const start = Math.floor((index * maxParallelism + parallelism - 1) / parallelism);
  const end = Math.floor(((index + 1) * maxParallelism - 1) / parallelism);
  return { start, end };
}
