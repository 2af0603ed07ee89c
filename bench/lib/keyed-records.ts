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

/**
 * How the records are built: `objects` ({key, value}, as above) or `tuples` ([key, value] arrays,
 * as a Flink job of Tuple2s writes them; the running count appends the count: [key, value, count]).
 */
export type RecordShape = 'objects' | 'tuples';

export type CountTuple = [key: number, value: number, count?: number];

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

export function tupleAt(i: number, keys: number): CountTuple {
  return [keyOf(i, keys), i];
}

/** countReduce over tuples. */
export function countTupleReduce(acc: CountTuple, e: CountTuple): CountTuple {
  return [acc[0], e[1], (acc[2] ?? 1) + 1];
}

/** The sink: consumes each update by folding its count into a checksum nobody reads. */
let checksum = 0;
export function consume(e: CountEvent): void {
  checksum = (checksum + (e.count ?? 1)) | 0;
}

export function consumeTuple(e: CountTuple): void {
  checksum = (checksum + (e[2] ?? 1)) | 0;
}

export function consumedChecksum(): number {
  return checksum;
}

/** The hand-written loop (a): the same generator, reduce and sink as the job, with a Map as keyed state. Returns ms. */
export function handWrittenLoop(records: number, keys: number, shape: RecordShape = 'objects'): number {
  const t0 = performance.now();
  const seen = shape === 'objects' ? objectLoop(records, keys) : tupleLoop(records, keys);
  const ms = performance.now() - t0;
  if (seen !== Math.min(keys, records)) throw new Error(`hand-written loop saw ${seen} keys, expected ${keys}`);
  return ms;
}

/** Each shape's loop is its own function, so neither sees the other's records. Returns the keys seen. */
function objectLoop(records: number, keys: number): number {
  const state = new Map<number, CountEvent>();
  for (let i = 0; i < records; i++) {
    const e = eventAt(i, keys);
    const acc = state.get(e.key);
    const out = acc === undefined ? e : countReduce(acc, e);
    state.set(e.key, out);
    consume(out);
  }
  return state.size;
}

function tupleLoop(records: number, keys: number): number {
  const state = new Map<number, CountTuple>();
  for (let i = 0; i < records; i++) {
    const e = tupleAt(i, keys);
    const acc = state.get(e[0]);
    const out = acc === undefined ? e : countTupleReduce(acc, e);
    state.set(e[0], out);
    consumeTuple(out);
  }
  return state.size;
}
