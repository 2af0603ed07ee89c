// The producing side of one JobEdge for one producer subtask (Flink's ResultPartition plus its
// RecordWriter): records collect per subpartition and are serialized together once a buffer is
// full or the buffer timeout fires.
import type { ResultPartitionDescriptor } from '../../common/deployment.js';
import { encodeRecords } from '../../common/serialization.js';
import { createChannelSelector } from './channel-selector.js';
import { ResultSubpartition, type SubpartitionOwner, type SubpartitionSubscription, type SubpartitionView } from './result-subpartition.js';
import type { NetworkEvent, ResultPartitionMetrics, ResultPartitionWriter } from './types.js';

export interface ResultPartitionOptions {
  producerSubtask: number;
  /** Milliseconds a partly filled buffer may wait; 0 sends after every record; negative only when full. */
  bufferTimeoutMs: number;
  keySelector?: (v: unknown) => unknown;
  /** Serialized size at which a buffer is finished. */
  segmentSize: number;
  /** Unsent buffers per subpartition above which the partition reports backpressure. */
  maxQueuedBuffers: number;
  /** Called once when the partition is released, so its registry forgets it. */
  onRelease?: (partition: ResultPartition, cause: Error) => void;
}

const RESOLVED = Promise.resolve();
const END_OF_PARTITION: NetworkEvent = Object.freeze({ type: 'endOfPartition' });
const INITIAL_RECORDS_PER_BUFFER = 64;
const MAX_RECORDS_PER_BUFFER = 65_536;

export class ResultPartition implements ResultPartitionWriter, SubpartitionOwner {
  readonly partitionId: string;
  readonly numSubpartitions: number;
  readonly metrics: ResultPartitionMetrics = { numRecordsOut: 0, numBytesOut: 0, numBuffersOut: 0, backPressuredTimeMs: 0 };
  readonly maxQueuedBuffers: number;
  /** The record writer: applies the channel selector, then appends. One call per record. */
  readonly emit: (value: unknown, timestamp: number | undefined) => void;

  private readonly subpartitions: ResultSubpartition[];
  private readonly segmentSize: number;
  private readonly bufferTimeoutMs: number;
  private readonly flushEveryRecord: boolean;
  private recordsPerBuffer = INITIAL_RECORDS_PER_BUFFER;
  // Decaying totals of recent buffers, to size buffers without serializing record by record.
  private sampledBytes = 0;
  private sampledRecords = 0;
  private timer: NodeJS.Timeout | null = null;
  private numBackpressured = 0;
  private availability: { promise: Promise<void>; resolve: () => void; since: number } | null = null;
  private endSentCount = 0;
  private finishing: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | null = null;
  private released = false;

  constructor(
    readonly descriptor: ResultPartitionDescriptor,
    private readonly opts: ResultPartitionOptions,
  ) {
    this.partitionId = descriptor.partitionId;
    this.numSubpartitions = descriptor.consumers.length;
    this.segmentSize = opts.segmentSize;
    this.bufferTimeoutMs = opts.bufferTimeoutMs;
    this.flushEveryRecord = opts.bufferTimeoutMs === 0;
    this.maxQueuedBuffers = opts.maxQueuedBuffers;
    this.subpartitions = descriptor.consumers.map((_, i) => new ResultSubpartition(i, this));
    const selector = createChannelSelector(descriptor, opts.producerSubtask, opts.keySelector);
    if (selector.broadcast) this.emit = (v, t) => this.broadcastRecord(v, t);
    else if (this.numSubpartitions === 1) this.emit = (v, t) => this.emitRecord(v, t, 0);
    else this.emit = (v, t) => this.emitRecord(v, t, selector.select(v));
  }

  emitRecord(value: unknown, timestamp: number | undefined, subpartition: number): void {
    const sp = this.subpartitions[subpartition];
    if (sp === undefined) throw new RangeError(`partition ${this.partitionId} has no subpartition ${subpartition}`);
    const values = sp.values;
    values.push(value);
    if (timestamp !== undefined) {
      if (sp.timestamps === null) {
        sp.timestamps = new Array<number | undefined>(values.length - 1).fill(undefined);
      }
      sp.timestamps.push(timestamp);
    } else if (sp.timestamps !== null) {
      sp.timestamps.push(undefined);
    }
    this.metrics.numRecordsOut++;
    if (this.flushEveryRecord || values.length >= this.recordsPerBuffer) this.finishBuffer(sp);
    else if (this.timer === null && this.bufferTimeoutMs > 0 && !this.released) this.armTimer();
  }

  broadcastRecord(value: unknown, timestamp: number | undefined): void {
    for (let i = 0; i < this.numSubpartitions; i++) this.emitRecord(value, timestamp, i);
  }

  broadcastEvent(event: NetworkEvent): void {
    this.flushAll();
    for (const sp of this.subpartitions) sp.add(event);
  }

  flushAll(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (const sp of this.subpartitions) this.finishBuffer(sp);
  }

  isAvailable(): boolean {
    return this.numBackpressured === 0;
  }

  getAvailableFuture(): Promise<void> {
    if (this.numBackpressured === 0 || this.released) return RESOLVED;
    if (!this.availability) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.availability = { promise, resolve, since: performance.now() };
    }
    return this.availability.promise;
  }

  finish(): Promise<void> {
    if (this.finishing) return this.finishing.promise;
    if (this.released) return Promise.reject(new Error(`partition ${this.partitionId} was released`));
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.finishing = { promise, resolve, reject };
    this.broadcastEvent(END_OF_PARTITION);
    return promise;
  }

  release(cause?: Error): void {
    if (this.released) return;
    this.released = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const err = cause ?? new Error(`partition ${this.partitionId} was released`);
    for (const sp of this.subpartitions) sp.release(err);
    if (this.finishing && this.endSentCount < this.numSubpartitions) this.finishing.reject(err);
    this.resolveAvailability();
    this.opts.onRelease?.(this, err);
  }

  get isReleased(): boolean {
    return this.released;
  }

  /** Connects a consumer (local channel or gRPC stream) to one subpartition. */
  subscribe(subpartition: number, view: SubpartitionView, initialCredit: number): SubpartitionSubscription {
    const sp = this.subpartitions[subpartition];
    if (sp === undefined) {
      view.onError(new Error(`partition ${this.partitionId} has ${this.numSubpartitions} subpartitions, not ${subpartition + 1}`));
      return { addCredit() {}, cancel() {} };
    }
    return sp.attach(view, initialCredit);
  }

  /** Unsent buffers per subpartition (for tests and metrics). */
  queuedBuffers(): number[] {
    return this.subpartitions.map((sp) => sp.numQueuedBuffers);
  }

  onBackpressureChanged(backpressured: boolean): void {
    this.numBackpressured += backpressured ? 1 : -1;
    if (this.numBackpressured === 0) this.resolveAvailability();
  }

  onEndOfPartitionSent(): void {
    this.endSentCount++;
    if (this.endSentCount === this.numSubpartitions) this.finishing?.resolve();
  }

  private finishBuffer(sp: ResultSubpartition): void {
    const n = sp.values.length;
    if (n === 0) return;
    if (this.released) {
      sp.values = [];
      sp.timestamps = null;
      return;
    }
    const bytes = encodeRecords(sp.values, sp.timestamps);
    sp.values = [];
    sp.timestamps = null;
    this.learnRecordSize(n, bytes.length);
    this.metrics.numBuffersOut++;
    this.metrics.numBytesOut += bytes.length;
    sp.add(bytes);
  }

  private learnRecordSize(records: number, bytes: number): void {
    this.sampledBytes = this.sampledBytes * 0.75 + bytes;
    this.sampledRecords = this.sampledRecords * 0.75 + records;
    const perRecord = this.sampledBytes / this.sampledRecords;
    this.recordsPerBuffer = Math.max(1, Math.min(MAX_RECORDS_PER_BUFFER, Math.floor(this.segmentSize / perRecord)));
  }

  private armTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.released) this.flushAll();
    }, this.bufferTimeoutMs);
    this.timer.unref();
  }

  private resolveAvailability(): void {
    const a = this.availability;
    if (!a) return;
    this.availability = null;
    this.metrics.backPressuredTimeMs += performance.now() - a.since;
    a.resolve();
  }
}
