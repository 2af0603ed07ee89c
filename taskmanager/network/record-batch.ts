// Records handed to a consumer on the producer's own thread: copies in an array instead of bytes.
// A copy costs a fraction of serializing and deserializing (common/record-copy.ts), and the
// consumer receives exactly what the bytes would have given it. Batches travel through the same
// subpartition queue, credits and events as serialized buffers.
import { copiedBytes, copyRecord } from '../../common/record-copy.js';

/** Room for the first batch's records; later batches start at the size of the one before. */
const INITIAL_CAPACITY = 64;
/** Records of tiny size could make a batch huge; its array starts no larger than this. */
const MAX_CAPACITY = 1 << 16;

export class RecordBatch {
  constructor(
    readonly values: unknown[],
    /** null when no record of the batch had a timestamp. */
    readonly timestamps: (number | undefined)[] | null,
  ) {}
}

/** Fills a batch a record at a time; the counterpart of RecordSerializer for in-thread consumers. */
export class RecordBatchBuilder {
  /**
   * Allocated at the previous batch's size and filled by index: pushing grows an array by copying
   * it several times on its way to a few thousand records.
   */
  private values: unknown[] = new Array<unknown>(INITIAL_CAPACITY);
  private count = 0;
  private timestamps: (number | undefined)[] | null = null;
  /** Estimated serialized size of the records so far. */
  private bytes = 0;

  get numRecords(): number {
    return this.count;
  }

  /** About the bytes the records would take in a network buffer. */
  get size(): number {
    return this.bytes;
  }

  add(value: unknown, timestamp: number | undefined): void {
    const before = copiedBytes;
    const copy = copyRecord(value);
    const n = this.count;
    if (timestamp !== undefined) {
      // The records before the first one with a timestamp had none.
      if (this.timestamps === null)
        this.timestamps = new Array<number | undefined>(this.values.length).fill(undefined, 0, n);
      this.timestamps[n] = timestamp;
    } else if (this.timestamps !== null) this.timestamps[n] = undefined;
    // Past the capacity, assignment appends as push would.
    this.values[n] = copy;
    this.count = n + 1;
    this.bytes += (copiedBytes - before) | 0;
  }

  finish(): RecordBatch | null {
    const n = this.count;
    if (n === 0) return null;
    const values = this.values;
    if (values.length !== n) values.length = n;
    const timestamps = this.timestamps;
    if (timestamps !== null && timestamps.length !== n) timestamps.length = n;
    const batch = new RecordBatch(values, timestamps);
    this.clear(n);
    return batch;
  }

  /** Starts the next batch with room for `capacity` records. */
  clear(capacity = INITIAL_CAPACITY): void {
    this.values = new Array<unknown>(Math.min(capacity, MAX_CAPACITY));
    this.count = 0;
    this.timestamps = null;
    this.bytes = 0;
  }

  dispose(): void {
    this.clear();
  }
}
