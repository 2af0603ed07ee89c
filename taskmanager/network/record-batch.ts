// Records handed to a consumer on the producer's own thread: column buffers for records of one
// flat shape of numbers (objects, or arrays of one length), otherwise copies in an array instead of
// bytes. A copy costs a fraction of serializing and deserializing rows (common/record-copy.ts), and
// the consumer receives exactly what the bytes would have given it. Both travel through the same
// subpartition queue, credits and events as serialized buffers.
import { ColumnWriter } from '../../common/record-columns.js';
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
    /** About the bytes the records would take serialized (what buffer debloating measures). */
    readonly bytes = 0,
  ) {}
}

/**
 * Fills the buffers of a consumer on the producer's own thread, a record at a time; the
 * counterpart of RecordSerializer for in-thread consumers. Records of one flat shape of numbers
 * (objects, or arrays of one length) go as column buffers (common/record-columns.ts), as they would
 * to another thread: writing and decoding them costs about what copying does, and queued bytes hold
 * no objects for the garbage collector to move (keyed-count jobs at parallelism 2 in one
 * TaskManager, alternating the two ways on one cluster, ran faster this way in 14 of 15 pairs).
 * Other records go as batches of copies.
 */
export class LocalBufferBuilder {
  private readonly columns: ColumnWriter;
  /**
   * Allocated at the previous batch's size and filled by index: pushing grows an array by copying
   * it several times on its way to a few thousand records.
   */
  private values: unknown[] = new Array<unknown>(INITIAL_CAPACITY);
  private count = 0;
  private timestamps: (number | undefined)[] | null = null;
  /** Estimated serialized size of the copies so far. */
  private bytes = 0;

  /** `segmentSize`: the size at which the owner finishes buffers, so the columns are sized once. */
  constructor(segmentSize: number) {
    this.columns = new ColumnWriter(segmentSize);
  }

  get numRecords(): number {
    return this.columns.active ? this.columns.n : this.count;
  }

  /** About the bytes the records take (or would take) in a network buffer. */
  get size(): number {
    return this.columns.active ? this.columns.size : this.bytes;
  }

  add(value: unknown, timestamp: number | undefined): void {
    if (this.columns.active) {
      if (this.columns.add(value, timestamp)) return;
      // The buffer goes to copies: its records, rebuilt from the columns, are copied again so that
      // they get the hidden class every other copy of their shape has.
      this.columns.fallBack((v, t) => this.addCopy(v, t));
    }
    this.addCopy(value, timestamp);
  }

  private addCopy(value: unknown, timestamp: number | undefined): void {
    const before = copiedBytes;
    const record = copyRecord(value);
    const n = this.count;
    if (timestamp !== undefined) {
      // The records before the first one with a timestamp had none.
      if (this.timestamps === null)
        this.timestamps = new Array<number | undefined>(this.values.length).fill(undefined, 0, n);
      this.timestamps[n] = timestamp;
    } else if (this.timestamps !== null) this.timestamps[n] = undefined;
    // Past the capacity, assignment appends as push would.
    this.values[n] = record;
    this.count = n + 1;
    this.bytes += (copiedBytes - before) | 0;
  }

  finish(): RecordBatch | Uint8Array | null {
    if (this.columns.active) {
      const buffer = this.columns.n === 0 ? null : this.columns.finish();
      this.columns.nextBuffer();
      return buffer;
    }
    const n = this.count;
    if (n === 0) return null;
    const values = this.values;
    if (values.length !== n) values.length = n;
    const timestamps = this.timestamps;
    if (timestamps !== null && timestamps.length !== n) timestamps.length = n;
    const batch = new RecordBatch(values, timestamps, this.bytes);
    this.clear(n);
    return batch;
  }

  /** Starts the next buffer; a batch of copies gets room for `capacity` records. */
  clear(capacity = INITIAL_CAPACITY): void {
    this.values = new Array<unknown>(Math.min(capacity, MAX_CAPACITY));
    this.count = 0;
    this.timestamps = null;
    this.bytes = 0;
    this.columns.nextBuffer();
  }

  dispose(): void {
    this.clear();
  }
}
