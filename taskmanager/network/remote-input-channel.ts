// An input channel reading a subpartition of another TaskManager over one gRPC stream. A data
// server that cannot be reached yet (its slot's thread is being replaced) is asked again with
// doubling waits, as Flink's partition request backoff; a stream that broke fails the channel.
import * as grpc from '@grpc/grpc-js';
import type { InputChannelDescriptor } from '../../common/deployment.js';
import type { ConsumerMessage, ProducerMessage } from './data-messages.js';
import type { InputChannelListener } from './input-channel.js';
import { StreamInputChannel } from './stream-input-channel.js';

type Stream = grpc.ClientDuplexStream<ConsumerMessage, ProducerMessage>;

/** The data server refused or was not there; a stream that was open and broke is not retried. */
function neverConnected(err: grpc.ServiceError): boolean {
  return err.code === grpc.status.UNAVAILABLE && /No connection established|ECONNREFUSED/.test(err.details ?? '');
}

/** Flink's taskmanager.network.request-backoff.initial / .max. */
export interface RequestBackoff {
  initialMs: number;
  maxMs: number;
}

export class RemoteInputChannel extends StreamInputChannel {
  private call: Stream | null = null;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private released = false;

  constructor(
    index: number,
    descriptor: InputChannelDescriptor,
    initialCredit: number,
    listener: InputChannelListener,
    private readonly client: grpc.Client,
    private readonly consumerTaskManagerId: string,
    private readonly backoff: RequestBackoff = { initialMs: 100, maxMs: 10_000 },
  ) {
    super(index, descriptor, initialCredit, listener);
    this.backoffMs = backoff.initialMs;
  }

  requestSubpartition(): void {
    this.retryTimer = null;
    if (this.released) return;
    const call = (this.client as unknown as { Subscribe(): Stream }).Subscribe();
    this.call = call;
    let received = false;
    call.on('data', (msg: ProducerMessage) => {
      received = true;
      this.onProducerMessage(msg);
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (!received && neverConnected(err) && this.backoffMs <= this.backoff.maxMs && this.call === call) {
        call.removeAllListeners();
        this.call = null;
        this.retryTimer = setTimeout(() => this.requestSubpartition(), this.backoffMs);
        this.backoffMs *= 2;
        return;
      }
      this.onError(new Error(`connection failed: ${err.details || err.message}`));
    });
    call.on('end', () => this.onError(new Error('the producer closed the stream before end of partition')));
    call.write(this.partitionRequest(this.consumerTaskManagerId));
    // A size announced while the data server could not be reached went nowhere.
    if (this.bufferSize !== 0) this.sendBufferSize(this.bufferSize);
  }

  protected sendCredit(n: number): void {
    this.call?.write({ credit: { credit: n } });
  }

  protected sendBufferSize(bytes: number): void {
    this.call?.write({ bufferSize: { size: bytes } });
  }

  protected releaseResources(): void {
    this.released = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const call = this.call;
    this.call = null;
    call?.cancel();
  }

  protected override onEndOfPartitionReceived(): void {
    // Half-close: the producer ends its side once end of partition is written.
    this.call?.end();
  }
}
