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

/** The hand-written loop (a): the same generator, reduce and sink as the job, with a Map as keyed state. Returns ms. */
export function handWrittenLoop(records: number, keys: number): number {
  const state = new Map<number, CountEvent>();
  const t0 = performance.now();
  for (let i = 0; i < records; i++) {
    const e = eventAt(i, keys);
    const acc = state.get(e.key);
    const out = acc === undefined ? e : countReduce(acc, e);
    state.set(e.key, out);
    consume(out);
  }
  const ms = performance.now() - t0;
  if (state.size !== Math.min(keys, records))
    throw new Error(`hand-written loop saw ${state.size} keys, expected ${keys}`);
  return ms;
}
