// An input channel whose producer runs on the same thread: the subpartition hands its buffers and
// events straight to this channel, with the same credit rules as gRPC. Records subscribed to
// arrive as column buffers or batches of copies (record-batch.ts), not as rows.
import type { InputChannelDescriptor } from '../../common/deployment.js';
import { InputChannel, type InputChannelListener } from './input-channel.js';
import type { ResultPartitionManager } from './partition-manager.js';
import type { RecordBatch } from './record-batch.js';
import type { SubpartitionSubscription } from './result-subpartition.js';

export class LocalInputChannel extends InputChannel {
  private subscription: SubpartitionSubscription | null = null;

  constructor(
    index: number,
    descriptor: InputChannelDescriptor,
    initialCredit: number,
    listener: InputChannelListener,
    private readonly partitions: ResultPartitionManager,
  ) {
    super(index, descriptor, initialCredit, listener);
  }

  requestSubpartition(): void {
    const d = this.descriptor;
    this.subscription = this.partitions.subscribe(d.partitionId, d.subpartition, this, this.initialCredit);
  }

  onRecordBatch(batch: RecordBatch): void {
    this.acceptBuffer(batch);
  }

  protected sendCredit(n: number): void {
    this.subscription?.addCredit(n);
  }

  protected sendBufferSize(bytes: number): void {
    this.subscription?.setBufferSize(bytes);
  }

  protected releaseResources(): void {
    const s = this.subscription;
    this.subscription = null;
    s?.cancel();
  }
}
