// An input channel reading a subpartition of another TaskManager over one gRPC stream.
import type * as grpc from '@grpc/grpc-js';
import type { InputChannelDescriptor } from '../../common/deployment.js';
import { decodeEvent } from '../../common/serialization.js';
import { PROTOCOL_VERSION } from '../../common/version.js';
import type { ConsumerMessage, ProducerMessage } from './data-messages.js';
import { InputChannel, type InputChannelListener } from './input-channel.js';
import type { NetworkEvent } from './types.js';

type Stream = grpc.ClientDuplexStream<ConsumerMessage, ProducerMessage>;

export class RemoteInputChannel extends InputChannel {
  private call: Stream | null = null;

  constructor(
    index: number,
    descriptor: InputChannelDescriptor,
    initialCredit: number,
    listener: InputChannelListener,
    private readonly client: grpc.Client,
    private readonly consumerTaskManagerId: string,
  ) {
    super(index, descriptor, initialCredit, listener);
  }

  requestSubpartition(): void {
    const call = (this.client as unknown as { Subscribe(): Stream }).Subscribe();
    this.call = call;
    call.on('data', (msg: ProducerMessage) => this.onMessage(msg));
    call.on('error', (err: grpc.ServiceError) => this.onError(new Error(`connection failed: ${err.details || err.message}`)));
    call.on('end', () => this.onError(new Error('the producer closed the stream before end of partition')));
    const d = this.descriptor;
    call.write({
      request: {
        partitionId: d.partitionId,
        subpartition: d.subpartition,
        initialCredit: this.initialCredit,
        protocolVersion: PROTOCOL_VERSION,
        consumerTaskManagerId: this.consumerTaskManagerId,
      },
    });
  }

  protected sendCredit(n: number): void {
    this.call?.write({ credit: { credit: n } });
  }

  protected releaseResources(): void {
    const call = this.call;
    this.call = null;
    call?.cancel();
  }

  protected override onEndOfPartitionReceived(): void {
    // Half-close: the producer ends its side once end of partition is written.
    this.call?.end();
  }

  private onMessage(msg: ProducerMessage): void {
    switch (msg.kind) {
      case 'buffer':
        this.onBuffer(msg.buffer);
        return;
      case 'event': {
        let event: NetworkEvent;
        try {
          event = decodeEvent<NetworkEvent>(msg.event);
        } catch (e) {
          this.onError(new Error(`cannot decode event: ${(e as Error).message}`));
          return;
        }
        this.onEvent(event);
        return;
      }
      case 'error':
        this.onError(new Error(msg.error.message));
        return;
      default:
        this.onError(new Error('unexpected message from producer'));
    }
  }
}
