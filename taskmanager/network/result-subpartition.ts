// One subpartition of a ResultPartition: the buffer being filled (its serializer), the queue of
// finished buffers and events, and the credit its consumer granted. Buffers leave only against
// credit; events need none, but never overtake the buffers queued before them.
import { RecordSerializer } from '../../common/serialization.js';
import type { NetworkEvent } from './types.js';
import { ArrayDeque } from './deque.js';
import { LocalBufferBuilder, RecordBatch } from './record-batch.js';

export type SubpartitionItem = Uint8Array | RecordBatch | NetworkEvent;

/** What a subpartition fills with the records of its next buffer. */
export type BufferBuilder = RecordSerializer | LocalBufferBuilder;

export function isBuffer(item: SubpartitionItem): item is Uint8Array | RecordBatch {
  return item instanceof Uint8Array || item instanceof RecordBatch;
}

/** The consuming end a subpartition hands its data to: a local input channel or a gRPC stream. */
export interface SubpartitionView {
  onBuffer(buffer: Uint8Array): void;
  /** Only a consumer on the producer's thread has this: records then reach it as copies, not bytes. */
  onRecordBatch?(batch: RecordBatch): void;
  /** Takes credit the consumer already sent but this thread has not received yet (a port read synchronously). */
  pollCredit?(): void;
  onEvent(event: NetworkEvent): void;
  /** The partition was released (or never found) before end of partition was handed over. */
  onError(err: Error): void;
}

/** What a consumer holds after subscribing: it grants more credit through it, or goes away. */
export interface SubpartitionSubscription {
  addCredit(n: number): void;
  /** Buffer debloating: finish buffers at `bytes` from now on (clamped to 1..the segment size). */
  setBufferSize(bytes: number): void;
  cancel(): void;
}

/** A subscription that was refused: the consumer already got the error. */
export const NO_SUBSCRIPTION: SubpartitionSubscription = Object.freeze({
  addCredit() {},
  setBufferSize() {},
  cancel() {},
});

/** Callbacks into the owning ResultPartition. */
export interface SubpartitionOwner {
  /** Unsent buffers above which the subpartition counts as backpressured. */
  readonly maxQueuedBuffers: number;
  /** Serialized size at which a buffer is finished. */
  readonly segmentSize: number;
  onBackpressureChanged(backpressured: boolean): void;
  onEndOfPartitionSent(): void;
  /**
   * A flush was put off until the subpartition could send (see requestFlush), or its buffer size
   * shrank below what the buffer being filled holds: the buffer should be finished now.
   */
  onFlushable(subpartition: ResultSubpartition): void;
}

/** First size of a serializer's arena; it grows to the segment size with the first full buffer. */
const INITIAL_ARENA_BYTES = 4096;

export class ResultSubpartition {
  /** Takes the records of the buffer being filled: a serializer, created with the first record,
   * or a batch of copies once a consumer on this thread subscribed. */
  private builder: BufferBuilder | null = null;
  private flushRequested = false;
  /**
   * Size at which the buffer being filled is finished: the segment size, or less once the consumer
   * announced a debloated size (Flink's buffer debloating).
   */
  bufferSize: number;

  private readonly queue = new ArrayDeque<SubpartitionItem>();
  private queuedBuffers = 0;
  private credit = 0;
  private view: SubpartitionView | null = null;
  private consumed = false;
  private sending = false;
  private backpressured = false;
  private endQueued = false;
  private endSent = false;
  private releaseCause: Error | null = null;

  constructor(
    readonly index: number,
    private readonly owner: SubpartitionOwner,
  ) {
    this.bufferSize = owner.segmentSize;
  }

  get numQueuedBuffers(): number {
    return this.queuedBuffers;
  }

  /** Where the records of the buffer being filled go. */
  get bufferBuilder(): BufferBuilder {
    return (this.builder ??= new RecordSerializer(INITIAL_ARENA_BYTES, this.owner.segmentSize));
  }

  /** Records not yet in a finished buffer. */
  get numPendingRecords(): number {
    return this.builder === null ? 0 : this.builder.numRecords;
  }

  /** Finishes the buffer being filled, if it holds records. */
  finishBuffer(): Uint8Array | RecordBatch | null {
    this.flushRequested = false;
    return this.builder === null ? null : this.builder.finish();
  }

  /**
   * The buffer timeout expired. A buffer finished now would only wait behind queued buffers or for
   * credit, so while this subpartition cannot send, records keep filling the buffer and it is
   * finished once it can (Flink's buffer consumers likewise read what was written by the time the
   * network takes them). Returns true when the buffer should be finished now.
   */
  requestFlush(): boolean {
    if (this.numPendingRecords === 0) return false;
    if (this.view !== null && this.credit > 0 && this.queue.length === 0) return true;
    this.flushRequested = true;
    return false;
  }

  add(item: SubpartitionItem): void {
    if (this.releaseCause) return;
    if (this.endQueued) throw new Error(`subpartition ${this.index}: data added after end of partition`);
    if (isBuffer(item)) this.queuedBuffers++;
    else if (item.type === 'endOfPartition') this.endQueued = true;
    this.queue.push(item);
    this.trySend();
  }

  attach(view: SubpartitionView, initialCredit: number): SubpartitionSubscription {
    if (this.releaseCause) {
      view.onError(this.releaseCause);
      return NO_SUBSCRIPTION;
    }
    if (this.consumed) {
      view.onError(new Error(`subpartition ${this.index} is already consumed (pipelined partitions are read once)`));
      return NO_SUBSCRIPTION;
    }
    this.consumed = true;
    this.view = view;
    this.credit = initialCredit;
    if (view.onRecordBatch !== undefined) this.buildLocally();
    this.trySend();
    return {
      addCredit: (n) => {
        if (this.view !== view) return;
        this.credit += n;
        this.trySend();
      },
      setBufferSize: (bytes) => {
        if (this.view === view) this.setBufferSize(bytes);
      },
      cancel: () => {
        if (this.view === view) this.view = null;
      },
    };
  }

  private setBufferSize(bytes: number): void {
    const size = Math.max(1, Math.min(this.owner.segmentSize, Math.floor(bytes) || this.owner.segmentSize));
    this.bufferSize = size;
    if (this.builder !== null && this.builder.numRecords > 0 && this.builder.size >= size) this.owner.onFlushable(this);
  }

  release(cause: Error): void {
    if (this.releaseCause) return;
    this.releaseCause = cause;
    this.queue.clear();
    this.queuedBuffers = 0;
    this.flushRequested = false;
    this.builder?.dispose();
    this.builder = null;
    this.updateBackpressure();
    const view = this.view;
    this.view = null;
    if (view && !this.endSent) view.onError(cause);
  }

  private trySend(): void {
    if (this.sending) return;
    this.sending = true;
    try {
      const view = this.view;
      while (view !== null && this.view === view && this.queue.length > 0) {
        const head = this.queue.peek() as SubpartitionItem;
        if (isBuffer(head)) {
          if (this.credit === 0) break;
          this.credit--;
          this.queuedBuffers--;
          this.queue.shift();
          // Batches are queued only once a view that takes them subscribed (buildLocally).
          if (head instanceof RecordBatch) view.onRecordBatch!(head);
          else view.onBuffer(head);
        } else {
          this.queue.shift();
          view.onEvent(head);
          if (head.type === 'endOfPartition') {
            this.endSent = true;
            this.owner.onEndOfPartitionSent();
          }
        }
      }
    } finally {
      this.sending = false;
    }
    this.updateBackpressure();
    if (this.flushRequested && this.view !== null && this.credit > 0 && this.queue.length === 0)
      this.owner.onFlushable(this);
  }

  /**
   * The consumer is on this thread: records now go as its column buffers or batches of copies
   * (record-batch.ts); what was serialized before it subscribed goes first, as bytes.
   */
  private buildLocally(): void {
    if (this.numPendingRecords > 0) this.owner.onFlushable(this);
    this.builder?.dispose();
    this.builder = new LocalBufferBuilder(this.owner.segmentSize);
  }

  /** Backpressured: takes credit that waits on the way from the consumer, if its channel can say. */
  pollCredit(): void {
    if (this.backpressured) this.view?.pollCredit?.();
  }

  private updateBackpressure(): void {
    const now = this.queuedBuffers > this.owner.maxQueuedBuffers;
    if (now !== this.backpressured) {
      this.backpressured = now;
      this.owner.onBackpressureChanged(now);
    }
  }
}
