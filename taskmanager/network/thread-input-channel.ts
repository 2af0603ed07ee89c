// An input channel whose producer runs on another slot's thread of this TaskManager: the same
// request, credit and buffer messages as gRPC, over a MessagePort (each buffer is copied once and
// transferred; no socket, no protobuf).
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { InputChannelDescriptor } from '../../common/deployment.js';
import type { ProducerMessage } from './data-messages.js';
import type { InputChannelListener } from './input-channel.js';
import { StreamInputChannel } from './stream-input-channel.js';
import { receivePending } from '../../common/port-receive.js';

/** Hands the producer's end of a channel to the thread serving `producerDataAddress`. */
export type ThreadConnector = (producerDataAddress: string, port: MessagePort) => void;

export class ThreadInputChannel extends StreamInputChannel {
  private port: MessagePort | null = null;

  constructor(
    index: number,
    descriptor: InputChannelDescriptor,
    initialCredit: number,
    listener: InputChannelListener,
    private readonly connect: ThreadConnector,
    private readonly consumerTaskManagerId: string,
  ) {
    super(index, descriptor, initialCredit, listener);
  }

  requestSubpartition(): void {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    port1.on('message', (msg: ProducerMessage) => this.onProducerMessage(msg));
    // Closed by the other side: its thread ended or was terminated.
    port1.on('close', () => {
      if (this.port === port1)
        this.onError(new Error('the producer thread closed the channel before end of partition'));
    });
    port1.postMessage(this.partitionRequest(this.consumerTaskManagerId));
    this.connect(this.descriptor.producerDataAddress, port2);
  }

  /** Takes the buffers and events that reached the port while this thread was busy. */
  override receivePending(): void {
    const port = this.port;
    if (port !== null) receivePending(port, (msg: ProducerMessage) => this.onProducerMessage(msg));
  }

  protected sendCredit(n: number): void {
    this.port?.postMessage({ kind: 'credit', credit: { credit: n } });
  }

  protected sendBufferSize(bytes: number): void {
    this.port?.postMessage({ kind: 'bufferSize', bufferSize: { size: bytes } });
  }

  protected releaseResources(): void {
    const port = this.port;
    this.port = null;
    port?.close();
  }

  protected override onEndOfPartitionReceived(): void {
    // Everything has arrived; closing tells the producer its subscription is over.
    this.releaseResources();
  }
}
