// The consuming side of one JobEdge for one consumer subtask (Flink's SingleInputGate): polls its
// channels round robin, one buffer or event at a time, skipping channels held for alignment.
import { decodeRecords } from '../../common/serialization.js';
import { ArrayDeque } from './deque.js';
import { RecordBatch } from './record-batch.js';
import type { InputChannel, InputChannelListener } from './input-channel.js';
import type { BufferOrEvent, InputGate } from './types.js';

const RESOLVED = Promise.resolve();

export class SingleInputGate implements InputGate, InputChannelListener {
  readonly numChannels: number;
  private readonly channels: InputChannel[];
  /** The channels with messages that can be taken before the event loop delivers them. */
  private readonly portChannels: InputChannel[];
  /** Unblocked channels with data, in the order they get their next turn. */
  private readonly ready = new ArrayDeque<number>();
  private readonly queued: Uint8Array;
  private readonly blocked: Uint8Array;
  private numFinished = 0;
  private error: Error | null = null;
  private closed = false;
  private waiter: { promise: Promise<void>; resolve: () => void } | null = null;
  /** Bytes of the buffers polled so far (batches of copies by their estimated serialized size). */
  numBytesPolled = 0;

  /** `createChannel` builds channel i with this gate as its listener; channels subscribe in start(). */
  constructor(
    numChannels: number,
    createChannel: (index: number, listener: InputChannelListener) => InputChannel,
    private readonly onClose?: (gate: SingleInputGate) => void,
  ) {
    this.numChannels = numChannels;
    this.queued = new Uint8Array(numChannels);
    this.blocked = new Uint8Array(numChannels);
    this.channels = [];
    for (let i = 0; i < numChannels; i++) this.channels.push(createChannel(i, this));
    this.portChannels = this.channels.filter((c) => c.receivePending !== undefined);
  }

  /** Subscribes every channel to its producer. */
  start(): this {
    for (const c of this.channels) c.requestSubpartition();
    return this;
  }

  pollNext(): BufferOrEvent | undefined {
    if (this.error) throw this.error;
    while (this.ready.length > 0) {
      const ch = this.ready.shift() as number;
      this.queued[ch] = 0;
      const channel = this.channels[ch];
      const item = channel.poll();
      if (channel.hasData() && !this.queued[ch]) this.enqueue(ch);
      if (item === undefined) continue;
      if (item instanceof Uint8Array) {
        let decoded;
        try {
          decoded = decodeRecords(item);
        } catch (e) {
          throw new Error(`cannot decode a buffer from ${channel.describeProducer()}: ${(e as Error).message}`, {
            cause: e,
          });
        }
        this.numBytesPolled += item.length;
        return {
          kind: 'records',
          channel: ch,
          values: decoded.values,
          timestamps: decoded.timestamps,
          bytes: item.length,
        };
      }
      if (item instanceof RecordBatch) {
        this.numBytesPolled += item.bytes;
        return { kind: 'records', channel: ch, values: item.values, timestamps: item.timestamps, bytes: 0 };
      }
      if (item.type === 'endOfPartition') this.numFinished++;
      return { kind: 'event', channel: ch, event: item };
    }
    return undefined;
  }

  receivePending(): boolean {
    if (this.closed) return false;
    for (const c of this.portChannels) c.receivePending!();
    return this.ready.length > 0 || this.error !== null;
  }

  getAvailableFuture(): Promise<void> {
    if (this.error || this.ready.length > 0 || this.closed || this.isFinished()) return RESOLVED;
    if (!this.waiter) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiter = { promise, resolve };
    }
    return this.waiter.promise;
  }

  isFinished(): boolean {
    return this.numFinished === this.numChannels;
  }

  /** Buffers the gate's channels grant their producers together: the most that can be in flight. */
  get numCredits(): number {
    let n = 0;
    for (const c of this.channels) n += c.credits;
    return n;
  }

  /** Buffer debloating: every channel's producer finishes buffers of `bytes` from now on. */
  announceBufferSize(bytes: number): void {
    if (this.closed) return;
    for (const c of this.channels) c.announceBufferSize(bytes);
  }

  blockChannel(channel: number): void {
    this.checkChannel(channel);
    if (this.blocked[channel]) return;
    this.blocked[channel] = 1;
    if (this.queued[channel]) {
      this.queued[channel] = 0;
      this.ready.remove(channel);
    }
  }

  resumeChannel(channel: number): void {
    this.checkChannel(channel);
    if (!this.blocked[channel]) return;
    this.blocked[channel] = 0;
    if (this.channels[channel].hasData() && !this.queued[channel]) {
      this.enqueue(channel);
      this.notifyAvailable();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.channels) c.close();
    this.notifyAvailable();
    this.onClose?.(this);
  }

  onChannelData(channel: number): void {
    if (this.blocked[channel] || this.queued[channel]) return;
    this.enqueue(channel);
    this.notifyAvailable();
  }

  onChannelError(_channel: number, err: Error): void {
    if (!this.error) this.error = err;
    this.notifyAvailable();
  }

  private enqueue(channel: number): void {
    this.queued[channel] = 1;
    this.ready.push(channel);
  }

  private notifyAvailable(): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    w.resolve();
  }

  private checkChannel(channel: number): void {
    if (!Number.isInteger(channel) || channel < 0 || channel >= this.numChannels) {
      throw new RangeError(`input gate has ${this.numChannels} channels, not ${channel}`);
    }
  }
}
