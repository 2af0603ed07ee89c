// An input channel fed by a message stream from its producer (a gRPC call to another
// TaskManager, or a MessagePort to another slot's thread): both speak data-messages.ts.
import { decodeEvent } from '../../common/serialization.js';
import { PROTOCOL_VERSION } from '../../common/version.js';
import type { ConsumerMessage, ProducerMessage } from './data-messages.js';
import { InputChannel } from './input-channel.js';
import type { NetworkEvent } from './types.js';

export abstract class StreamInputChannel extends InputChannel {
  /** The subscription request, the first message a consumer sends. */
  protected partitionRequest(consumerTaskManagerId: string): ConsumerMessage & { kind: 'request' } {
    const d = this.descriptor;
    return {
      kind: 'request',
      request: {
        partitionId: d.partitionId,
        subpartition: d.subpartition,
        initialCredit: this.initialCredit,
        protocolVersion: PROTOCOL_VERSION,
        consumerTaskManagerId,
      },
    };
  }

  protected onProducerMessage(msg: ProducerMessage): void {
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
