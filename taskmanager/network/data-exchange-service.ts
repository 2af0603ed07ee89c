// The producer end of the data plane: serves subscriptions to this thread's result partitions,
// one message stream per (partition, subpartition): a gRPC bidirectional call from another
// TaskManager, or a MessagePort from another slot's thread of this one.
import type * as grpc from '@grpc/grpc-js';
import type { MessagePort } from 'node:worker_threads';
import { receivePending } from '../../common/port-receive.js';
import type { Logger } from '../../common/logging.js';
import { encodeEvent } from '../../common/serialization.js';
import { PROTOCOL_VERSION } from '../../common/version.js';
import type { ConsumerMessage, ProducerMessage } from './data-messages.js';
import type { ResultPartitionManager } from './partition-manager.js';
import type { SubpartitionSubscription, SubpartitionView } from './result-subpartition.js';
import type { NetworkEvent } from './types.js';

/** The producer's side of one consumer's stream. */
interface ConsumerStream {
  write(msg: ProducerMessage): void;
  /** Ends our side once everything is written (gRPC half-close; a port needs nothing). */
  end(): void;
  /** Delivers the consumer's messages that already arrived, now (a port can; a gRPC call cannot). */
  receivePending?(): void;
}

/** Writes what a subpartition hands over to the consumer's stream. */
class StreamView implements SubpartitionView {
  private done = false;

  constructor(private readonly stream: ConsumerStream) {}

  onBuffer(buffer: Uint8Array): void {
    if (!this.done) this.stream.write({ kind: 'buffer', buffer });
  }

  onEvent(event: NetworkEvent): void {
    if (this.done) return;
    this.stream.write({ kind: 'event', event: encodeEvent(event) });
    if (event.type === 'endOfPartition') this.end();
  }

  onError(err: Error): void {
    if (this.done) return;
    this.stream.write({ kind: 'error', error: { message: err.message } });
    this.end();
  }

  pollCredit(): void {
    if (!this.done) this.stream.receivePending?.();
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
    this.stream.end();
  }
}

/** One consumer's subscription: the first message requests, later ones grant credit or resize buffers. */
class SubscriptionSession {
  private subscription: SubpartitionSubscription | null = null;
  private view: StreamView | null = null;

  constructor(
    private readonly stream: ConsumerStream,
    private readonly partitions: ResultPartitionManager,
    private readonly logger: Logger,
  ) {}

  onMessage(msg: ConsumerMessage): void {
    if (msg.kind === 'credit') {
      this.subscription?.addCredit(msg.credit.credit);
      return;
    }
    if (msg.kind === 'bufferSize') {
      this.subscription?.setBufferSize(msg.bufferSize.size);
      return;
    }
    if (this.view) {
      this.logger.warn('ignoring a second partition request on one data stream');
      return;
    }
    this.view = new StreamView(this.stream);
    if (msg.kind !== 'request') {
      this.view.onError(new Error('the first message of a data stream must be a partition request'));
      return;
    }
    const req = msg.request;
    if (req.protocolVersion !== PROTOCOL_VERSION) {
      this.view.onError(
        new Error(
          `data protocol version ${req.protocolVersion} is not supported (this TaskManager speaks ${PROTOCOL_VERSION})`,
        ),
      );
      return;
    }
    this.logger.debug(
      { partitionId: req.partitionId, subpartition: req.subpartition, consumer: req.consumerTaskManagerId },
      'subpartition requested',
    );
    this.subscription = this.partitions.subscribe(req.partitionId, req.subpartition, this.view, req.initialCredit);
  }

  /** The consumer half-closed its side. */
  onEnd(): void {
    if (this.view) this.view.endQuietly();
    else this.stream.end();
    this.close();
  }

  close(): void {
    this.view?.abandon();
    this.subscription?.cancel();
    this.subscription = null;
  }
}

type Call = grpc.ServerDuplexStream<ConsumerMessage, ProducerMessage>;

export function createDataExchangeHandlers(
  partitions: ResultPartitionManager,
  logger: Logger,
): grpc.UntypedServiceImplementation {
  return {
    Subscribe(call: Call): void {
      const session = new SubscriptionSession(
        { write: (m) => call.write(m), end: () => call.end() },
        partitions,
        logger,
      );
      call.on('data', (msg: ConsumerMessage) => session.onMessage(msg));
      call.on('end', () => session.onEnd());
      call.on('cancelled', () => session.close());
      call.on('error', (err) => {
        logger.debug({ err: err.message }, 'data stream error');
        session.close();
      });
    },
  };
}

/** Serves one consumer on another thread of this TaskManager through its end of a MessageChannel. */
export function serveThreadSubscription(port: MessagePort, partitions: ResultPartitionManager, logger: Logger): void {
  // The consumer closes the port when it has what it needs or goes away.
  const session = new SubscriptionSession(
    {
      write: (m) => postProducerMessage(port, m),
      end: () => undefined,
      receivePending: () => receivePending(port, (msg: ConsumerMessage) => session.onMessage(msg)),
    },
    partitions,
    logger,
  );
  port.on('message', (msg: ConsumerMessage) => session.onMessage(msg));
  port.on('close', () => session.close());
}

/**
 * A buffer that owns its whole ArrayBuffer is handed over (transferred, nothing copied); a view
 * into larger memory, which structured clone would copy whole, is copied exactly once first.
 */
function postProducerMessage(port: MessagePort, msg: ProducerMessage): void {
  if (msg.kind === 'buffer') {
    const bytes = ownedBytes(msg.buffer);
    port.postMessage({ kind: 'buffer', buffer: bytes }, [bytes.buffer as ArrayBuffer]);
  } else if (msg.kind === 'event') {
    const bytes = ownedBytes(msg.event);
    port.postMessage({ kind: 'event', event: bytes }, [bytes.buffer as ArrayBuffer]);
  } else {
    port.postMessage(msg);
  }
}

function ownedBytes(bytes: Uint8Array): Uint8Array {
  const whole =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return whole ? bytes : Uint8Array.prototype.slice.call(bytes);
}
