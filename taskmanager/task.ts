// One deployed subtask: sets up user code, partitions, gates and the operator chain, runs the
// StreamTask and reports every state change (Flink's ExecutionState names) to the JobManager.
import type { TaskMetrics } from '../common/control.js';
import type { TaskDeploymentDescriptor } from '../common/deployment.js';
import type { Logger } from '../common/logging.js';
import type { ExecutionState } from '../common/states.js';
import type { BundleCache } from './bundle-cache.js';
import { createSourceReader } from './connectors/source-readers.js';
import type { NetworkEnvironment } from './network/network-environment.js';
import { UserCodeError, type TaskServices } from './operators/operator.js';
import { LagTracker } from './runtime/lag-tracker.js';
import { Mailbox, MailboxProcessingTimeService } from './runtime/mailbox.js';
import { OperatorChain, type RecordWriter } from './runtime/operator-chain.js';
import { CancelTaskException, StreamTask } from './runtime/stream-task.js';
import { MIN_WATERMARK } from './runtime/timer-service.js';
import { UnionInput } from './runtime/union-input.js';
import type { StrategyLike } from './runtime/watermark-emitter.js';
import { loadUserCode } from './user-code.js';

/** A failure that only echoes a producer's failure or loss, reported through an input channel. */
function isPartitionError(err: Error): boolean {
  return err.name === 'PartitionException';
}

export interface TaskFailure {
  message: string;
  name: string;
  operatorName: string;
}

export type TaskStateListener = (task: Task, state: ExecutionState, failure?: TaskFailure) => void;

export class Task {
  state: ExecutionState = 'DEPLOYING';
  private streamTask: StreamTask | undefined;
  private services: TaskServices | undefined;
  private processingTime: MailboxProcessingTimeService | undefined;
  private outputIdle = false;
  private writers: RecordWriter[] = [];
  private input: UnionInput | undefined;
  private cancelRequested = false;
  readonly name: string;
  private readonly log: Logger;
  /** Resolves when the task reached a terminal state. */
  readonly terminated: Promise<void>;
  private markTerminated!: () => void;

  constructor(
    readonly tdd: TaskDeploymentDescriptor,
    private readonly network: NetworkEnvironment,
    private readonly bundles: BundleCache,
    private readonly bufferTimeoutMs: number,
    log: Logger,
    private readonly onState: TaskStateListener,
  ) {
    const v = tdd.jobGraph.vertices.find((x) => x.id === tdd.vertexId);
    this.name = `${v?.name ?? tdd.vertexId} (${tdd.subtaskIndex + 1}/${tdd.parallelism})#${tdd.attempt}`;
    this.log = log.child({ jobId: tdd.jobId, task: this.name });
    this.terminated = new Promise((r) => (this.markTerminated = r));
  }

  get executionId(): string {
    return this.tdd.executionId;
  }

  metrics(): TaskMetrics {
    let recordsOut = 0;
    let bytesOut = 0;
    for (const w of this.writers) {
      recordsOut += w.metrics.numRecordsOut;
      bytesOut += w.metrics.numBytesOut;
    }
    const io = this.streamTask?.io;
    return {
      executionId: this.executionId,
      recordsIn: io?.recordsIn ?? 0,
      recordsOut,
      bytesIn: io?.bytesIn ?? 0,
      bytesOut,
      backPressuredMs: Math.round(io?.backPressuredMs ?? 0),
      sourceRecords: io?.sourceRecords ?? 0,
      sinkRecords: this.services?.sinkRecords ?? 0,
      watermark: io?.watermark ?? MIN_WATERMARK,
      stateEntries: this.streamTask?.chain.operators.reduce((n, op) => n + op.stateEntries(), 0) ?? 0,
      sinkLagP50: this.services?.sinkLag.percentile(0.5) ?? -1,
      sinkLagP99: this.services?.sinkLag.percentile(0.99) ?? -1,
    };
  }

  private transition(state: ExecutionState, failure?: TaskFailure): void {
    if (this.state === 'FINISHED' || this.state === 'CANCELED' || this.state === 'FAILED') return;
    this.state = state;
    this.onState(this, state, failure);
  }

  /** Runs the task to its end; never throws (failures become the FAILED state). */
  async run(): Promise<void> {
    try {
      this.transition('INITIALIZING');
      await this.setUp();
      if (this.cancelRequested) throw new CancelTaskException();
      this.transition('RUNNING');
      await this.streamTask!.run();
      this.processingTime?.shutdown();
      await this.streamTask!.chain.close();
      this.transition('FINISHED');
    } catch (e) {
      if (this.cancelRequested || e instanceof CancelTaskException) {
        await this.cleanUp(e);
        this.transition('CANCELED');
      } else {
        const err = e instanceof Error ? e : new Error(String(e));
        const operatorName = e instanceof UserCodeError ? e.operatorName : '';
        this.log.error({ err, operator: operatorName || undefined }, 'task failed');
        // Report before releasing partitions: consumers then fail only after the JobManager heard the root cause.
        this.transition('FAILED', { message: err.stack ?? err.message, name: isPartitionError(err) ? 'PartitionException' : err.name, operatorName });
        await this.cleanUp(e);
      }
    } finally {
      this.markTerminated();
    }
  }

  private async setUp(): Promise<void> {
    const tdd = this.tdd;
    const mailbox = new Mailbox();
    this.processingTime = new MailboxProcessingTimeService(mailbox);
    const entry = await this.bundles.entryPath(tdd.bundleHash);
    const { vertex, userCode } = await loadUserCode(entry, tdd);
    const services: TaskServices = (this.services = {
      jobId: tdd.jobId,
      subtaskIndex: tdd.subtaskIndex,
      parallelism: tdd.parallelism,
      maxParallelism: vertex.maxParallelism,
      taskName: this.name,
      attempt: tdd.attempt,
      log: this.log,
      pending: undefined,
      sinkRecords: 0,
      sinkLag: new LagTracker(),
      processingTime: this.processingTime,
      autoWatermarkInterval: typeof tdd.jobGraph.config.autoWatermarkInterval === 'number' ? tdd.jobGraph.config.autoWatermarkInterval : 200,
      setIdle: (idle: boolean) => {
        if (idle === this.outputIdle) return;
        this.outputIdle = idle;
        for (const w of this.writers) w.broadcastEvent({ type: 'idle', idle });
      },
      async drainPending() {
        const p = this.pending;
        this.pending = undefined;
        await p;
      },
    });
    const bufferTimeout = typeof tdd.jobGraph.config.bufferTimeout === 'number' ? tdd.jobGraph.config.bufferTimeout : this.bufferTimeoutMs;
    const writerByEdge = new Map<number, RecordWriter>();
    for (const p of tdd.partitions) {
      const keySelector = p.keyRef ? (userCode.get(p.keyRef) as ((v: unknown) => unknown) | undefined) : undefined;
      if (p.keyRef && typeof keySelector !== 'function') throw new Error(`key selector ${p.keyRef} is missing from the bundle`);
      const w = this.network.createResultPartition(p, { producerSubtask: tdd.subtaskIndex, bufferTimeoutMs: bufferTimeout, keySelector }) as RecordWriter;
      writerByEdge.set(p.edge, w);
      this.writers.push(w);
    }
    if (tdd.inputGates.length) this.input = new UnionInput(tdd.inputGates.map((g) => this.network.createInputGate(g)));
    const chain = new OperatorChain(vertex, userCode, writerByEdge, services);
    const head = vertex.operators[0]!;
    const source = head.kind === 'source' ? createSourceReader(head, userCode.get(head.id), services, head.name) : undefined;
    const strategy = head.kind === 'source' ? (userCode.get(`wm-${head.id}`) as StrategyLike | undefined) : undefined;
    this.streamTask = new StreamTask(chain, this.writers, services, mailbox, source, this.input, strategy, tdd.inputGates.map((g) => g.targetInput));
  }

  private async cleanUp(cause: unknown): Promise<void> {
    this.processingTime?.shutdown();
    const err = cause instanceof Error ? cause : new Error(String(cause));
    for (const w of this.writers) {
      try {
        w.release(err);
      } catch {
        // releasing is best effort; the partition is gone either way
      }
    }
    this.input?.close();
    try {
      await this.streamTask?.chain.close();
    } catch (e) {
      this.log.warn({ err: e }, 'closing operators after failure failed');
    }
  }

  cancel(): void {
    if (this.cancelRequested) return;
    this.cancelRequested = true;
    this.log.info('canceling task');
    this.transition('CANCELING');
    this.streamTask?.cancel();
  }
}
