// Records handed to a consumer on the producer's own thread: copies in an array instead of bytes.
// A copy costs a fraction of serializing and deserializing (common/record-copy.ts), and the
// consumer receives exactly what the bytes would have given it. Batches travel through the same
// subpartition queue, credits and events as serialized buffers.
import { copiedBytes, copyRecord } from '../../common/record-copy.js';

export class RecordBatch {
  constructor(
    readonly values: unknown[],
    /** null when no record of the batch had a timestamp. */
    readonly timestamps: (number | undefined)[] | null,
  ) {}
}

/** Fills a batch a record at a time; the counterpart of RecordSerializer for in-thread consumers. */
export class RecordBatchBuilder {
  private values: unknown[] = [];
  private timestamps: (number | undefined)[] | null = null;
  /** Estimated serialized size of the records so far. */
  private bytes = 0;

  get numRecords(): number {
    return this.values.length;
  }

  /** About the bytes the records would take in a network buffer. */
  get size(): number {
    return this.bytes;
  }

  add(value: unknown, timestamp: number | undefined): void {
    const before = copiedBytes;
    const copy = copyRecord(value);
    const n = this.values.length;
    if (timestamp !== undefined) {
      if (this.timestamps === null) this.timestamps = new Array<number | undefined>(n).fill(undefined);
      this.timestamps.push(timestamp);
    } else if (this.timestamps !== null) this.timestamps.push(undefined);
    this.values.push(copy);
    this.bytes += copiedBytes - before;
  }

  finish(): RecordBatch | null {
    if (this.values.length === 0) return null;
    const batch = new RecordBatch(this.values, this.timestamps);
    this.clear();
    return batch;
  }

  clear(): void {
    this.values = [];
    this.timestamps = null;
    this.bytes = 0;
  }

  dispose(): void {
    this.clear();
  }
}
