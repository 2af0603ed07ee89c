// The network stack of one TaskManager (Flink's NettyShuffleEnvironment): its result partitions,
// the input gates of its tasks, the gRPC service producers serve from and the clients consumers
// read with.
import type * as grpc from '@grpc/grpc-js';
import type { InputGateDescriptor, ResultPartitionDescriptor } from '../../common/deployment.js';
import type { Logger } from '../../common/logging.js';
import type { InternalSecurity } from '../../common/security/internal-security.js';
import { ConnectionManager } from './connection-manager.js';
import type { MessagePort } from 'node:worker_threads';
import { createDataExchangeHandlers, serveThreadSubscription } from './data-exchange-service.js';
import { dataExchangeClientConstructor } from './data-messages.js';
import { SingleInputGate } from './input-gate.js';
import type { InputChannel } from './input-channel.js';
import { LocalInputChannel } from './local-input-channel.js';
import { ResultPartitionManager } from './partition-manager.js';
import { ResultPartition } from './result-partition.js';
import { RemoteInputChannel, type RequestBackoff } from './remote-input-channel.js';
import { ThreadInputChannel, type ThreadConnector } from './thread-input-channel.js';

export interface NetworkEnvironmentOptions {
  taskManagerId: string;
  /** Bytes at which a buffer is sent (taskmanager.memory.segment-size). */
  segmentSize: number;
  /** Credits each input channel grants (taskmanager.network.memory.buffers-per-channel). */
  buffersPerChannel: number;
  /**
   * Credits of a channel from another TaskManager (taskmanager.network.memory.buffers-per-remote-channel;
   * default buffersPerChannel). A gRPC message moves only when the sender's and the receiver's
   * threads turn their event loops, between time slices: the way round for a credit is several of
   * them, and the buffers in flight must cover it.
   */
  buffersPerRemoteChannel?: number;
  logger: Logger;
  /** How long a subscription waits for its partition to be registered; default 30 s. */
  partitionRequestTimeoutMs?: number;
  /**
   * With a TaskManager's slots on threads: this thread's data address, and how to reach a
   * producer on another slot's thread. Without, every producer of this TaskManager is local.
   */
  dataAddress?: string;
  connectThread?: ThreadConnector;
  /** How an unreachable producer's data server is asked again (default 100 ms doubling to 10 s). */
  requestBackoff?: RequestBackoff;
  /** Internal secret and TLS of the connections to other TaskManagers' data servers (default none). */
  security?: InternalSecurity;
}

export interface ResultPartitionWriterOptions {
  producerSubtask: number;
  /** execution.buffer-timeout in ms: 0 sends after every record, negative only full buffers. */
  bufferTimeoutMs: number;
  /** Required for 'hash' partitioning. */
  keySelector?: (v: unknown) => unknown;
}

/** The execution a partition id belongs to (ids are `${executionId}.e${edge}`, see partitionIdOf). */
function executionIdOf(partitionId: string): string {
  const m = /^(.*)\.e\d+$/.exec(partitionId);
  return m ? m[1] : partitionId;
}

function checkCredits(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got ${n}`);
}

export class NetworkEnvironment {
  readonly taskManagerId: string;
  private readonly partitions: ResultPartitionManager;
  private readonly connections: ConnectionManager;
  private readonly gates = new Set<SingleInputGate>();
  private closed = false;

  constructor(private readonly opts: NetworkEnvironmentOptions) {
    if (!(opts.segmentSize > 0)) throw new Error(`segment size must be positive, got ${opts.segmentSize}`);
    checkCredits('buffers per channel', opts.buffersPerChannel);
    if (opts.buffersPerRemoteChannel !== undefined)
      checkCredits('buffers per remote channel', opts.buffersPerRemoteChannel);
    this.taskManagerId = opts.taskManagerId;
    this.connections = new ConnectionManager(opts.security);
    this.partitions = new ResultPartitionManager(opts.taskManagerId, opts.partitionRequestTimeoutMs ?? 30_000);
  }

  /** Registers the DataExchange service on the TaskManager's gRPC server. */
  addToServer(server: grpc.Server): void {
    server.addService(
      dataExchangeClientConstructor().service,
      createDataExchangeHandlers(this.partitions, this.opts.logger),
    );
  }

  /** Set once this thread's data server is bound. */
  setDataAddress(address: string): void {
    this.opts.dataAddress = address;
  }

  /** Serves a consumer on another slot's thread of this TaskManager. */
  serveThread(port: MessagePort): void {
    if (this.closed) {
      port.close();
      return;
    }
    serveThreadSubscription(port, this.partitions, this.opts.logger);
  }

  createResultPartition(desc: ResultPartitionDescriptor, opts: ResultPartitionWriterOptions): ResultPartition {
    this.checkOpen();
    const partition = new ResultPartition(desc, {
      producerSubtask: opts.producerSubtask,
      bufferTimeoutMs: opts.bufferTimeoutMs,
      keySelector: opts.keySelector,
      segmentSize: this.opts.segmentSize,
      maxQueuedBuffers: this.opts.buffersPerChannel,
      onRelease: (p, cause) => this.partitions.unregister(p.partitionId, cause.message),
    });
    this.partitions.register(partition);
    return partition;
  }

  createInputGate(desc: InputGateDescriptor): SingleInputGate {
    this.checkOpen();
    const credit = this.opts.buffersPerChannel;
    const gate = new SingleInputGate(
      desc.channels.length,
      (i, listener): InputChannel => {
        const c = desc.channels[i];
        if (c.producerTaskManagerId === this.taskManagerId) {
          const { dataAddress, connectThread } = this.opts;
          if (!connectThread || c.producerDataAddress === dataAddress)
            return new LocalInputChannel(i, c, credit, listener, this.partitions);
          return new ThreadInputChannel(i, c, credit, listener, connectThread, this.taskManagerId);
        }
        return new RemoteInputChannel(
          i,
          c,
          this.opts.buffersPerRemoteChannel ?? credit,
          listener,
          this.connections.clientFor(c.producerDataAddress),
          this.taskManagerId,
          this.opts.requestBackoff,
        );
      },
      (g) => this.gates.delete(g),
    );
    this.gates.add(gate);
    return gate.start();
  }

  /** Releases the partitions an execution produced (cancel, failure, or cleanup after finish). */
  releasePartitionsOf(executionId: string, cause?: Error): void {
    for (const p of this.partitions.all()) {
      if (executionIdOf(p.partitionId) === executionId)
        p.release(cause ?? new Error(`execution ${executionId} released its partitions`));
    }
  }

  /** Partitions currently registered (for metrics and tests). */
  numPartitions(): number {
    return this.partitions.all().length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const reason = `TaskManager ${this.taskManagerId} is shutting down`;
    for (const p of this.partitions.all()) p.release(new Error(reason));
    for (const g of [...this.gates]) g.close();
    this.partitions.close(reason);
    this.connections.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`the network environment of TaskManager ${this.taskManagerId} is closed`);
  }
}
