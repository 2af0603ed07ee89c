// The rows an interval join holds, in the operator's keyed state backend: per key and side, rows
// bucketed by timestamp (namespace = the bucket's timestamp), so a cleanup timer drops a whole
// bucket at once (Flink's MapState<Long, List<BufferEntry>>). Each side also keeps the sorted list
// of its bucket timestamps per key, so a join visits the buckets in range without listing
// namespaces. The current key is the backend's; the operator sets it.
import { VOID_NAMESPACE, type KeyedStateBackend, type StateMeta, type StateTable } from '../state/types.js';
import { distinctKeys, keyedEntries } from './state-inspection.js';

export type JoinSide = 0 | 1;

const BUFFERS: readonly [StateMeta, StateMeta] = [
  { name: '_left-buffer', kind: 'raw' },
  { name: '_right-buffer', kind: 'raw' },
];
const BUCKET_TIMESTAMPS: readonly [StateMeta, StateMeta] = [
  { name: '_left-timestamps', kind: 'raw' },
  { name: '_right-timestamps', kind: 'raw' },
];

/** First index in sorted `a` whose value is >= t. */
function lowerBound(a: readonly number[], t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class IntervalJoinBuffer {
  private readonly rows: readonly [StateTable<unknown[]>, StateTable<unknown[]>];
  private readonly timestamps: readonly [StateTable<number[]>, StateTable<number[]>];

  constructor(private readonly backend: KeyedStateBackend) {
    this.rows = [backend.getTable<unknown[]>(BUFFERS[0]), backend.getTable<unknown[]>(BUFFERS[1])];
    this.timestamps = [
      backend.getTable<number[]>(BUCKET_TIMESTAMPS[0]),
      backend.getTable<number[]>(BUCKET_TIMESTAMPS[1]),
    ];
  }

  /** Adds a row of the current key. */
  add(side: JoinSide, timestamp: number, value: unknown): void {
    const rows = this.rows[side];
    const bucket = rows.get(timestamp);
    if (bucket) {
      bucket.push(value);
      rows.put(timestamp, bucket);
      return;
    }
    rows.put(timestamp, [value]);
    const index = this.timestamps[side];
    const ts = index.get(VOID_NAMESPACE);
    if (!ts) {
      index.put(VOID_NAMESPACE, [timestamp]);
      return;
    }
    // Rows mostly arrive in timestamp order: appending is the common case.
    if (ts.length === 0 || ts[ts.length - 1]! < timestamp) ts.push(timestamp);
    else ts.splice(lowerBound(ts, timestamp), 0, timestamp);
    index.put(VOID_NAMESPACE, ts);
  }

  /** Visits the current key's buckets of `side` with from <= timestamp <= to, in timestamp order. */
  forEachBucket(
    side: JoinSide,
    from: number,
    to: number,
    visit: (timestamp: number, rows: readonly unknown[]) => void,
  ): void {
    const ts = this.timestamps[side].get(VOID_NAMESPACE);
    if (!ts) return;
    const rows = this.rows[side];
    for (let i = lowerBound(ts, from); i < ts.length; i++) {
      const t = ts[i]!;
      if (t > to) break;
      const bucket = rows.get(t);
      if (bucket) visit(t, bucket);
    }
  }

  /** Drops the current key's bucket at `timestamp`; returns the rows dropped. */
  removeBucket(side: JoinSide, timestamp: number): number {
    const rows = this.rows[side];
    const bucket = rows.get(timestamp);
    if (!bucket) return 0;
    rows.remove(timestamp);
    const index = this.timestamps[side];
    const ts = index.get(VOID_NAMESPACE);
    if (ts) {
      const i = lowerBound(ts, timestamp);
      if (ts[i] === timestamp) ts.splice(i, 1);
      if (ts.length === 0) index.remove(VOID_NAMESPACE);
      else index.put(VOID_NAMESPACE, ts);
    }
    return bucket.length;
  }

  /** Rows buffered over all keys and both sides, and the keys holding them. Reads the whole state: for tests. */
  async contents(): Promise<{ rows: number; keys: number }> {
    const entries = await keyedEntries(this.backend, (name) => name === BUFFERS[0].name || name === BUFFERS[1].name);
    let rows = 0;
    for (const e of entries) rows += (e[3] as unknown[]).length;
    return { rows, keys: distinctKeys(entries) };
  }
}
