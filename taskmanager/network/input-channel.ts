// The consuming end of one (partition, subpartition). Received buffers and events queue here in
// order; every polled buffer returns one credit to the producer. Events need no credit.
import type { InputChannelDescriptor } from '../../common/deployment.js';
import { ArrayDeque } from './deque.js';
import { isBuffer, type SubpartitionItem, type SubpartitionView } from './result-subpartition.js';
import type { RecordBatch } from './record-batch.js';
import type { NetworkEvent } from './types.js';

/** How a channel tells its gate that it has something to poll. */
export interface InputChannelListener {
  /** The channel's queue went from empty to non-empty. */
  onChannelData(channel: number): void;
  onChannelError(channel: number, err: Error): void;
}

export abstract class InputChannel implements SubpartitionView {
  private readonly queue = new ArrayDeque<SubpartitionItem>();
  private pendingCredit = 0;
  private creditScheduled = false;
  /** The buffer size last announced to the producer (0: none, the producer's segment size). */
  private announcedBufferSize = 0;
  private endReceived = false;
  private closed = false;
  private error: Error | null = null;

  constructor(
    readonly index: number,
    readonly descriptor: InputChannelDescriptor,
    protected readonly initialCredit: number,
    private readonly listener: InputChannelListener,
  ) {}

  /** Subscribes to the producer's subpartition; called once the gate is wired up. */
  abstract requestSubpartition(): void;
  protected abstract sendCredit(n: number): void;
  /** Tells the producer the size at which to finish this channel's buffers (buffer debloating). */
  protected abstract sendBufferSize(bytes: number): void;
  /** Ends the subscription (gate closed or channel failed). */
  protected abstract releaseResources(): void;
  /** Hook for the end of the stream (remote channels half-close their call). */
  protected onEndOfPartitionReceived(): void {}

  /** Delivers what already reached this thread's end of the transport but waits for its event loop (a port's messages). */
  receivePending?(): void;

  /** Buffers this channel grants its producer: at most this many are in flight to it at once. */
  get credits(): number {
    return this.initialCredit;
  }

  /** Buffer debloating: the producer finishes buffers of `bytes` from now on; sent only when it changed. */
  announceBufferSize(bytes: number): void {
    if (bytes === this.announcedBufferSize || this.closed || this.error || this.endReceived) return;
    this.announcedBufferSize = bytes;
    this.sendBufferSize(bytes);
  }

  /** The size last announced, told again to a producer subscribed anew (0: none announced). */
  protected get bufferSize(): number {
    return this.announcedBufferSize;
  }

  hasData(): boolean {
    return this.queue.length > 0;
  }

  poll(): SubpartitionItem | undefined {
    const item = this.queue.shift();
    if (item !== undefined && isBuffer(item)) this.returnCredit();
    return item;
  }

  onBuffer(buffer: Uint8Array): void {
    this.acceptBuffer(buffer);
  }

  protected acceptBuffer(buffer: Uint8Array | RecordBatch): void {
    if (this.closed || this.error || this.endReceived) return;
    this.enqueue(buffer);
  }

  onEvent(event: NetworkEvent): void {
    if (this.closed || this.error || this.endReceived) return;
    if (event.type === 'endOfPartition') {
      this.endReceived = true;
      this.onEndOfPartitionReceived();
    }
    this.enqueue(event);
  }

  onError(err: Error): void {
    // After end of partition everything has arrived: a closing connection is no failure.
    if (this.closed || this.error || this.endReceived) return;
    this.error = new Error(`input channel ${this.index} from ${this.describeProducer()} failed: ${err.message}`, {
      cause: err,
    });
    // Marks the failure as an echo of the producer's, so the JobManager keeps the producer's as root cause.
    this.error.name = 'PartitionException';
    this.releaseResources();
    this.listener.onChannelError(this.index, this.error);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.clear();
    this.releaseResources();
  }

  describeProducer(): string {
    const d = this.descriptor;
    return `producer subtask ${d.producerSubtask} at ${d.producerDataAddress} (TaskManager ${d.producerTaskManagerId}, partition ${d.partitionId}, subpartition ${d.subpartition})`;
  }

  private enqueue(item: SubpartitionItem): void {
    this.queue.push(item);
    if (this.queue.length === 1) this.listener.onChannelData(this.index);
  }

  // Credits go back in one message per microtask: a task polls many buffers in one turn.
  private returnCredit(): void {
    this.pendingCredit++;
    if (this.creditScheduled) return;
    this.creditScheduled = true;
    queueMicrotask(() => {
      this.creditScheduled = false;
      const n = this.pendingCredit;
      this.pendingCredit = 0;
      if (n > 0 && !this.closed && !this.error && !this.endReceived) this.sendCredit(n);
    });
  }
}
