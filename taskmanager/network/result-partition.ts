// The producing side of one JobEdge for one producer subtask (Flink's ResultPartition plus its
// RecordWriter): each record is serialized at once into its subpartition's current buffer (or
// copied, for a consumer on this thread), which is finished when it reaches the subpartition's
// buffer size (the segment size, or less as its consumer debloats), or when the buffer timeout
// fires and the subpartition can send.
import type { ResultPartitionDescriptor } from '../../common/deployment.js';
import { createChannelSelector } from './channel-selector.js';
import {
  NO_SUBSCRIPTION,
  ResultSubpartition,
  type SubpartitionOwner,
  type SubpartitionSubscription,
  type SubpartitionView,
} from './result-subpartition.js';
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

export class ResultPartition implements ResultPartitionWriter, SubpartitionOwner {
  readonly partitionId: string;
  readonly numSubpartitions: number;
  readonly metrics: ResultPartitionMetrics = {
    numRecordsOut: 0,
    numBytesOut: 0,
    numBuffersOut: 0,
    backPressuredTimeMs: 0,
  };
  readonly maxQueuedBuffers: number;
  /** The record writer: applies the channel selector, then appends. One call per record. */
  readonly emit: (value: unknown, timestamp: number | undefined) => void;

  private readonly subpartitions: ResultSubpartition[];
  readonly segmentSize: number;
  private readonly bufferTimeoutMs: number;
  private readonly flushEveryRecord: boolean;
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
    if (this.released) return;
    const builder = sp.bufferBuilder;
    builder.add(value, timestamp);
    this.metrics.numRecordsOut++;
    if (this.flushEveryRecord || builder.size >= sp.bufferSize) this.finishBuffer(sp);
    else if (this.timer === null && this.bufferTimeoutMs > 0) this.armTimer();
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
    // Credit from a consumer on another slot thread may be waiting in its port while this thread
    // was busy: reading it now spares a sleep until this thread's next event-loop turn.
    for (const sp of this.subpartitions) sp.pollCredit();
    if (this.numBackpressured === 0) return RESOLVED;
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
      view.onError(
        new Error(`partition ${this.partitionId} has ${this.numSubpartitions} subpartitions, not ${subpartition + 1}`),
      );
      return NO_SUBSCRIPTION;
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

  onFlushable(sp: ResultSubpartition): void {
    if (!this.released) this.finishBuffer(sp);
  }

  private finishBuffer(sp: ResultSubpartition): void {
    const buffer = sp.finishBuffer();
    if (buffer === null || this.released) return;
    this.metrics.numBuffersOut++;
    // Bytes that went through serialization; a batch of copies for this thread has none.
    if (buffer instanceof Uint8Array) this.metrics.numBytesOut += buffer.length;
    sp.add(buffer);
  }

  /** The buffer timeout: finishes the buffers that can leave now, the others once they can. */
  private flushOnTimeout(): void {
    for (const sp of this.subpartitions) if (sp.requestFlush()) this.finishBuffer(sp);
  }

  private armTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.released) this.flushOnTimeout();
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
