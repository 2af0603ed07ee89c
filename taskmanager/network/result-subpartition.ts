// One subpartition of a ResultPartition: the records of its current buffer, the queue of finished
// buffers and events, and the credit its consumer granted. Buffers leave only against credit;
// events need none, but never overtake the buffers queued before them.
import type { NetworkEvent } from './types.js';
import { ArrayDeque } from './deque.js';

export type SubpartitionItem = Uint8Array | NetworkEvent;

/** The consuming end a subpartition hands its data to: a local input channel or a gRPC stream. */
export interface SubpartitionView {
  onBuffer(buffer: Uint8Array): void;
  onEvent(event: NetworkEvent): void;
  /** The partition was released (or never found) before end of partition was handed over. */
  onError(err: Error): void;
}

/** What a consumer holds after subscribing: it grants more credit through it, or goes away. */
export interface SubpartitionSubscription {
  addCredit(n: number): void;
  cancel(): void;
}

/** Callbacks into the owning ResultPartition. */
export interface SubpartitionOwner {
  /** Unsent buffers above which the subpartition counts as backpressured. */
  readonly maxQueuedBuffers: number;
  onBackpressureChanged(backpressured: boolean): void;
  onEndOfPartitionSent(): void;
}

export class ResultSubpartition {
  /** Records of the buffer being filled; the partition serializes them when it is full or times out. */
  values: unknown[] = [];
  timestamps: (number | undefined)[] | null = null;

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
  ) {}

  get numQueuedBuffers(): number {
    return this.queuedBuffers;
  }

  get isEndOfPartitionSent(): boolean {
    return this.endSent;
  }

  add(item: SubpartitionItem): void {
    if (this.releaseCause) return;
    if (this.endQueued) throw new Error(`subpartition ${this.index}: data added after end of partition`);
    if (item instanceof Uint8Array) this.queuedBuffers++;
    else if (item.type === 'endOfPartition') this.endQueued = true;
    this.queue.push(item);
    this.trySend();
  }

  attach(view: SubpartitionView, initialCredit: number): SubpartitionSubscription {
    const noop: SubpartitionSubscription = { addCredit() {}, cancel() {} };
    if (this.releaseCause) {
      view.onError(this.releaseCause);
      return noop;
    }
    if (this.consumed) {
      view.onError(new Error(`subpartition ${this.index} is already consumed (pipelined partitions are read once)`));
      return noop;
    }
    this.consumed = true;
    this.view = view;
    this.credit = initialCredit;
    this.trySend();
    return {
      addCredit: (n) => {
        if (this.view !== view) return;
        this.credit += n;
        this.trySend();
      },
      cancel: () => {
        if (this.view === view) this.view = null;
      },
    };
  }

  release(cause: Error): void {
    if (this.releaseCause) return;
    this.releaseCause = cause;
    this.queue.clear();
    this.queuedBuffers = 0;
    this.values = [];
    this.timestamps = null;
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
        if (head instanceof Uint8Array) {
          if (this.credit === 0) break;
          this.credit--;
          this.queuedBuffers--;
          this.queue.shift();
          view.onBuffer(head);
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
  }

  private updateBackpressure(): void {
    const now = this.queuedBuffers > this.owner.maxQueuedBuffers;
    if (now !== this.backpressured) {
      this.backpressured = now;
      this.owner.onBackpressureChanged(now);
    }
  }
}
