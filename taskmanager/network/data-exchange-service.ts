// The producer end of the gRPC data plane: serves subscriptions to this TaskManager's result
// partitions, one bidirectional stream per (partition, subpartition).
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../common/logging.js';
import { encodeEvent } from '../../common/serialization.js';
import { PROTOCOL_VERSION } from '../../common/version.js';
import type { ConsumerMessage, ProducerMessage } from './data-messages.js';
import type { ResultPartitionManager } from './partition-manager.js';
import type { SubpartitionSubscription, SubpartitionView } from './result-subpartition.js';
import type { NetworkEvent } from './types.js';

type Call = grpc.ServerDuplexStream<ConsumerMessage, ProducerMessage>;

/** Writes what a subpartition hands over to the consumer's stream. */
class StreamView implements SubpartitionView {
  private done = false;

  constructor(private readonly call: Call) {}

  onBuffer(buffer: Uint8Array): void {
    if (!this.done) this.call.write({ buffer });
  }

  onEvent(event: NetworkEvent): void {
    if (this.done) return;
    this.call.write({ event: encodeEvent(event) });
    if (event.type === 'endOfPartition') this.end();
  }

  onError(err: Error): void {
    if (this.done) return;
    this.call.write({ error: { message: err.message } });
    this.end();
  }

  /** The consumer went away: stop writing. */
  abandon(): void {
    this.done = true;
  }

  /** The consumer half-closed: close our side too, if not done already. */
  endQuietly(): void {
    if (!this.done) this.end();
  }

  private end(): void {
    this.done = true;
    this.call.end();
  }
}

export function createDataExchangeHandlers(partitions: ResultPartitionManager, logger: Logger): grpc.UntypedServiceImplementation {
  return {
    Subscribe(call: Call): void {
      let subscription: SubpartitionSubscription | null = null;
      let view: StreamView | null = null;
      const close = () => {
        view?.abandon();
        subscription?.cancel();
        subscription = null;
      };
      call.on('data', (msg: ConsumerMessage) => {
        if (msg.kind === 'credit') {
          subscription?.addCredit(msg.credit.credit);
          return;
        }
        if (view) {
          logger.warn('ignoring a second partition request on one data stream');
          return;
        }
        if (msg.kind !== 'request') {
          view = new StreamView(call);
          view.onError(new Error('the first message of a data stream must be a partition request'));
          return;
        }
        const req = msg.request;
        view = new StreamView(call);
        if (req.protocolVersion !== PROTOCOL_VERSION) {
          view.onError(new Error(`data protocol version ${req.protocolVersion} is not supported (this TaskManager speaks ${PROTOCOL_VERSION})`));
          return;
        }
        logger.debug({ partitionId: req.partitionId, subpartition: req.subpartition, consumer: req.consumerTaskManagerId }, 'subpartition requested');
        subscription = partitions.subscribe(req.partitionId, req.subpartition, view, req.initialCredit);
      });
      call.on('end', () => {
        if (view) view.endQuietly();
        else call.end();
        close();
      });
      call.on('cancelled', close);
      call.on('error', (err) => {
        logger.debug({ err: err.message }, 'data stream error');
        close();
      });
    },
  };
}
