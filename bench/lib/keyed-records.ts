// The records and functions of the keyed-count benchmark, shared by the Weir job
// (bench/jobs/keyed-count.ts, bundled with esbuild) and the hand-written loop it is compared
// with, so both do exactly the same per-record work.

export interface CountEvent {
  key: number;
  value: number;
  /** Running count of the key; absent on a key's first record, which the reduce passes through. */
  count?: number;
}

export const DEFAULT_KEYS = 10_000;

/** Key of record i: a seeded 32-bit integer hash (murmur3's finalizer) modulo `keys`. */
export function keyOf(i: number, keys: number): number {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return ((x ^ (x >>> 16)) >>> 0) % keys;
}

export function eventAt(i: number, keys: number): CountEvent {
  return { key: keyOf(i, keys), value: i };
}

/** The running count per key as a rolling reduce: one new record per input record. */
export function countReduce(acc: CountEvent, e: CountEvent): CountEvent {
  return { key: acc.key, value: e.value, count: (acc.count ?? 1) + 1 };
}

/** The sink: consumes each update by folding its count into a checksum nobody reads. */
let checksum = 0;
export function consume(e: CountEvent): void {
  checksum = (checksum + (e.count ?? 1)) | 0;
}

export function consumedChecksum(): number {
  return checksum;
}
