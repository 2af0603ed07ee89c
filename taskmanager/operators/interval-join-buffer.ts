// The rows an interval join holds: per key and side, rows bucketed by timestamp, so a cleanup
// timer drops a whole bucket at once (Flink's MapState<Long, List<BufferEntry>>).

export type JoinSide = 0 | 1;

/** Rows of one side of one key, by timestamp. */
export type Buckets = Map<number, unknown[]>;

interface KeyRows {
  readonly sides: [Buckets, Buckets];
}

/** Primitive keys stand for themselves in a Map; structured keys (tuples, objects) by their JSON. */
export function normalizeJoinKey(key: unknown): unknown {
  return key !== null && typeof key === 'object' ? `\u0000${JSON.stringify(key)}` : key;
}

export class IntervalJoinBuffer {
  private readonly byKey = new Map<unknown, KeyRows>();
  private rows = 0;

  /** Adds a row under a normalized key. */
  add(nk: unknown, side: JoinSide, timestamp: number, value: unknown): void {
    let k = this.byKey.get(nk);
    if (!k) this.byKey.set(nk, (k = { sides: [new Map(), new Map()] }));
    const buckets = k.sides[side];
    const bucket = buckets.get(timestamp);
    if (bucket) bucket.push(value);
    else buckets.set(timestamp, [value]);
    this.rows++;
  }

  /** The buckets of one side of a key, or undefined when it holds none. */
  buckets(nk: unknown, side: JoinSide): Buckets | undefined {
    return this.byKey.get(nk)?.sides[side];
  }

  /** Drops the bucket at `timestamp`; forgets the key once both sides are empty. Returns the rows dropped. */
  removeBucket(nk: unknown, side: JoinSide, timestamp: number): number {
    const k = this.byKey.get(nk);
    if (!k) return 0;
    const buckets = k.sides[side];
    const bucket = buckets.get(timestamp);
    if (!bucket) return 0;
    buckets.delete(timestamp);
    this.rows -= bucket.length;
    if (k.sides[0].size === 0 && k.sides[1].size === 0) this.byKey.delete(nk);
    return bucket.length;
  }

  /** Rows held over all keys and both sides. */
  get size(): number {
    return this.rows;
  }

  get numKeys(): number {
    return this.byKey.size;
  }
}
