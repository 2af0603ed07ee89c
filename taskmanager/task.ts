// One deployed subtask: sets up user code, partitions, gates and the operator chain, runs the
// StreamTask and reports every state change (Flink's ExecutionState names) to the JobManager.
import { join } from 'node:path';
import { ListStateDescriptor, type ListState } from '../api/state.js';
import {
  DEFAULT_CHECKPOINTS_AFTER_TASKS_FINISH,
  type TaskCheckpointAck,
  type TaskCheckpointSettings,
} from '../common/checkpoint.js';
import type {
  AlignmentLimit,
  SourceSplits,
  SourceWatermarkReportRequest,
  SplitRequest,
  TaskMetrics,
} from '../common/control.js';
import { keyGroupRangeFor, type KeyGroupRange } from '../common/keygroups.js';
import type { TaskDeploymentDescriptor } from '../common/deployment.js';
import { alignedSources, type JobVertex, type OperatorDescriptor } from '../common/jobgraph.js';
import type { Logger } from '../common/logging.js';
import type { ExecutionState } from '../common/states.js';
import { createSourceReader, type SourceReader } from './connectors/source-readers.js';
import type { NetworkEnvironment } from './network/network-environment.js';
import { UserCodeError, type TaskServices } from './operators/operator.js';
import { Mailbox, MailboxProcessingTimeService } from './runtime/mailbox.js';
import { OperatorChain, type RecordWriter } from './runtime/operator-chain.js';
import { disposeOperatorState, setUpOperatorState } from './runtime/operator-state-setup.js';
import { LevelKeyedStateBackend } from './state/level-backend.js';
import { CancelTaskException, StreamTask } from './runtime/stream-task.js';
import { alignmentGroupKey, type AlignmentBoard } from './runtime/alignment-board.js';
import type { BarrierInfo } from './runtime/checkpoint-barrier-handler.js';
import { SubtaskCheckpointCoordinator, type OperatorStateHolder } from './runtime/subtask-checkpoint.js';
import type { BufferDebloatConfig } from './runtime/buffer-debloater.js';
import { MIN_WATERMARK } from './runtime/timer-service.js';
import { UnionInput } from './runtime/union-input.js';
import type { StrategyLike } from './runtime/watermark-emitter.js';
import { createTaskServices } from './task-services.js';
import { loadUserCode } from './user-code.js';

/**
 * Set when on-disk state backends may fall behind: the stream task waits while they catch up.
 * Checked once per buffer: no allocation unless a backend is behind.
 */
function stateBackpressureOf(holders: OperatorStateHolder[]): (() => Promise<void> | undefined) | undefined {
  const levels = holders
    .map((h) => h.keyed)
    .filter((k): k is LevelKeyedStateBackend => k instanceof LevelKeyedStateBackend);
  if (levels.length === 0) return undefined;
  return () => {
    for (const l of levels) if (l.hasWriteBacklog()) return l.awaitWriteCapacity();
    return undefined;
  };
}

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

/** Sends a task's checkpoint acknowledgements and declines to the JobManager. */
export interface CheckpointResponder {
  acknowledge(ack: TaskCheckpointAck): void;
  decline(jobId: string, executionId: string, checkpointId: number, reason: string): void;
}

/**
 * A source's way to its coordinator in the JobManager (Flink's operator events to the
 * SourceCoordinator): its watermark for the alignment of its group, whose limit comes back through
 * Task.alignWatermark, and requests for splits, which come back through Task.addSplits.
 */
export interface SourceCoordinatorGateway {
  reportSourceWatermark(report: SourceWatermarkReportRequest): void;
  requestSplit(request: SplitRequest): void;
}

/** Where a task finds its job's extracted bundle (the TaskManager's BundleCache). */
export interface BundleProvider {
  entryPath(bundleId: string): Promise<string>;
}

/** A subtask's display name, Flink's `name (i/n)#attempt`. */
export function taskNameOf(tdd: TaskDeploymentDescriptor): string {
  const v = tdd.jobGraph.vertices.find((x) => x.id === tdd.vertexId);
  return `${v?.name ?? tdd.vertexId} (${tdd.subtaskIndex + 1}/${tdd.parallelism})#${tdd.attempt}`;
}

export interface TaskEnvironment {
  network: NetworkEnvironment;
  bundles: BundleProvider;
  bufferTimeoutMs: number;
  /** Buffer debloating of input tasks; undefined or null: producers always fill whole segments. */
  bufferDebloat?: BufferDebloatConfig | null;
  log: Logger;
  onState: TaskStateListener;
  /** Root directory for on-disk state backends of this TaskManager's tasks. */
  stateDir: string;
  checkpointResponder: CheckpointResponder;
  sourceGateway: SourceCoordinatorGateway;
  /** The TaskManager's board for watermark alignment between its slot threads (absent in tests that run a task alone). */
  alignmentBoard?: AlignmentBoard;
  /**
   * The job's functions handed over directly (in-process execution, where the job is built in the
   * same process); otherwise the bundle's main() runs again to build them.
   */
  userCode?: (tdd: TaskDeploymentDescriptor) => Promise<{ vertex: JobVertex; userCode: Map<string, unknown> }>;
}

export class Task {
  state: ExecutionState = 'DEPLOYING';
  private streamTask: StreamTask | undefined;
  private sourceReader: SourceReader | undefined;
  private services: TaskServices | undefined;
  private processingTime: MailboxProcessingTimeService | undefined;
  private outputIdle = false;
  private writers: RecordWriter[] = [];
  private input: UnionInput | undefined;
  private cancelRequested = false;
  private holders: OperatorStateHolder[] = [];
  private checkpointCoordinator: SubtaskCheckpointCoordinator | undefined;
  /** What made the task fail, as thrown (a UserCodeError carries the user's error as its cause). */
  failureCause: unknown;
  readonly name: string;
  private readonly log: Logger;
  /** Resolves when the task reached a terminal state. */
  readonly terminated: Promise<void>;
  private markTerminated!: () => void;

  private readonly network: NetworkEnvironment;
  private readonly bundles: BundleProvider;
  private readonly onState: TaskStateListener;

  constructor(
    readonly tdd: TaskDeploymentDescriptor,
    private readonly env: TaskEnvironment,
  ) {
    this.network = env.network;
    this.bundles = env.bundles;
    this.onState = env.onState;
    const log = env.log;
    this.name = taskNameOf(tdd);
    this.log = log.child({ jobId: tdd.jobId, task: this.name });
    this.terminated = new Promise((r) => (this.markTerminated = r));
  }

  get executionId(): string {
    return this.tdd.executionId;
  }

  /** Every operator of its chain had finished in the checkpoint it restores (FLIP-147). */
  private get finishedOnRestore(): boolean {
    return this.tdd.restore?.finished === true;
  }

  metrics(): TaskMetrics {
    let recordsOut = 0;
    let bytesOut = 0;
    for (const w of this.writers) {
      recordsOut += w.metrics.numRecordsOut;
      bytesOut += w.metrics.numBytesOut;
    }
    const io = this.streamTask?.io;
    const time = this.streamTask?.time;
    const rates = time?.rates();
    const totals = time?.totals();
    return {
      executionId: this.executionId,
      recordsIn: io?.recordsIn ?? 0,
      recordsOut,
      bytesIn: io?.bytesIn ?? 0,
      bytesOut,
      // With a wait still in progress counted, so a long credit wait shows before it ends.
      backPressuredMs: Math.round(totals?.backPressuredMs ?? 0),
      // Measured by the stream task's loop; 0 while it is being set up.
      busyTimeMsPerSecond: rates?.busyTimeMsPerSecond ?? 0,
      idleTimeMsPerSecond: rates?.idleTimeMsPerSecond ?? 0,
      backPressuredTimeMsPerSecond: rates?.backPressuredTimeMsPerSecond ?? 0,
      accumulatedBusyMs: Math.round(totals?.busyMs ?? 0),
      accumulatedIdleMs: Math.round(totals?.idleMs ?? 0),
      sourceRecords: io?.sourceRecords ?? 0,
      sinkRecords: this.services?.sinkRecords ?? 0,
      watermark: io?.watermark ?? MIN_WATERMARK,
      stateEntries: this.streamTask?.chain.operators.reduce((n, op) => n + op.stateEntries(), 0) ?? 0,
      sinkLagP50: this.services?.sinkLag.percentile(0.5) ?? -1,
      sinkLagP99: this.services?.sinkLag.percentile(0.99) ?? -1,
      ...this.connectorMetrics(),
    };
  }

  private connectorMetrics(): { connector?: Record<string, number> } {
    let out: Record<string, number> | undefined;
    const add = (m: Record<string, number> | undefined) => {
      if (m) out = { ...out, ...m };
    };
    add(this.sourceReader?.metrics?.());
    add(this.streamTask?.alignmentMetrics());
    add(this.streamTask?.debloatMetrics());
    for (const op of this.streamTask?.chain.operators ?? []) add(op.connectorMetrics());
    return out ? { connector: out } : {};
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
      if (this.finishedOnRestore) {
        // Its operators finished before the checkpoint it restores: they are neither opened nor closed.
        await this.streamTask!.runFinishedOnRestore();
        this.processingTime?.shutdown();
        this.log.info('restored as finished: ended at once');
      } else {
        await this.streamTask!.run();
        this.processingTime?.shutdown();
        await this.checkpointCoordinator?.close();
        await this.streamTask!.chain.close();
        await disposeOperatorState(this.holders);
      }
      this.transition('FINISHED');
    } catch (e) {
      if (this.cancelRequested || e instanceof CancelTaskException) {
        await this.cleanUp(e);
        this.transition('CANCELED');
      } else {
        const err = e instanceof Error ? e : new Error(String(e));
        const operatorName = e instanceof UserCodeError ? e.operatorName : '';
        this.failureCause = e;
        this.log.error({ err, operator: operatorName || undefined }, 'task failed');
        // Report before releasing partitions: consumers then fail only after the JobManager heard the root cause.
        this.transition('FAILED', {
          message: err.stack ?? err.message,
          name: isPartitionError(err) ? 'PartitionException' : err.name,
          operatorName,
        });
        await this.cleanUp(e);
      }
    } finally {
      this.markTerminated();
    }
  }

  /**
   * Flink's Task setup and StreamTask restore: loads the user code, sets up result partitions and
   * input gates, builds the operator chain and its source reader, then restores the operators'
   * state and attaches checkpointing.
   */
  private async setUp(): Promise<void> {
    const tdd = this.tdd;
    const mailbox = new Mailbox();
    const processingTime = (this.processingTime = new MailboxProcessingTimeService(mailbox));
    const { vertex, userCode } = await this.loadUserFunctions();
    const services = (this.services = createTaskServices(tdd, {
      maxParallelism: vertex.maxParallelism,
      taskName: this.name,
      log: this.log,
      processingTime,
      setIdle: (idle: boolean) => this.setOutputIdle(idle),
    }));
    const writerByEdge = this.setUpResultPartitions(userCode);
    this.setUpInputGates();
    const chain = new OperatorChain(vertex, userCode, writerByEdge, services);
    const head = vertex.operators[0]!;
    const source = (this.sourceReader = this.createSourceReader(head, userCode, services));
    const strategy = head.kind === 'source' ? (userCode.get(`wm-${head.id}`) as StrategyLike | undefined) : undefined;
    const streamTask = (this.streamTask = new StreamTask(
      chain,
      this.writers,
      services,
      mailbox,
      source,
      this.input,
      strategy,
      tdd.inputGates.map((g) => g.targetInput),
    ));
    if (this.env.bufferDebloat) streamTask.attachBufferDebloating(this.env.bufferDebloat);
    // A task restored as finished holds no state and takes part in no checkpoint.
    if (this.finishedOnRestore) return;
    const board = this.env.alignmentBoard;
    streamTask.attachWatermarkAlignment(
      (r) => this.env.sourceGateway.reportSourceWatermark({ jobId: tdd.jobId, executionId: tdd.executionId, ...r }),
      board &&
        ((group) => ({
          board,
          groupKey: alignmentGroupKey(tdd.jobId, tdd.attempt, group),
          members: alignedSources(tdd.jobGraph.vertices, group).reduce((n, v) => n + v.parallelism, 0),
        })),
    );
    const keyGroupRange = keyGroupRangeFor(vertex.maxParallelism, tdd.parallelism, tdd.subtaskIndex);
    this.holders = await this.restoreState(vertex, chain, keyGroupRange);
    streamTask.stateBackpressure = stateBackpressureOf(this.holders);
    const splits = source ? this.restoreSourceSplits(source, head.id) : undefined;
    if (tdd.checkpointing) this.setUpCheckpointing(vertex, keyGroupRange, tdd.checkpointing, source, splits);
  }

  /** The job's functions: handed over directly (in-process execution) or built by the bundle's main(). */
  private async loadUserFunctions(): Promise<{ vertex: JobVertex; userCode: Map<string, unknown> }> {
    const tdd = this.tdd;
    return this.env.userCode
      ? await this.env.userCode(tdd)
      : await loadUserCode(await this.bundles.entryPath(tdd.bundleHash), tdd);
  }

  /** Tells downstream tasks this task's output is idle, or active again. */
  private setOutputIdle(idle: boolean): void {
    if (idle === this.outputIdle) return;
    this.outputIdle = idle;
    for (const w of this.writers) w.broadcastEvent({ type: 'idle', idle });
  }

  /** A result partition (record writer) per outgoing edge, each with its key selector for hash partitioning. */
  private setUpResultPartitions(userCode: Map<string, unknown>): Map<number, RecordWriter> {
    const tdd = this.tdd;
    const bufferTimeout =
      typeof tdd.jobGraph.config.bufferTimeout === 'number'
        ? tdd.jobGraph.config.bufferTimeout
        : this.env.bufferTimeoutMs;
    const writerByEdge = new Map<number, RecordWriter>();
    for (const p of tdd.partitions) {
      const keySelector = p.keyRef ? (userCode.get(p.keyRef) as ((v: unknown) => unknown) | undefined) : undefined;
      if (p.keyRef && typeof keySelector !== 'function')
        throw new Error(`key selector ${p.keyRef} is missing from the bundle`);
      const w = this.network.createResultPartition(p, {
        producerSubtask: tdd.subtaskIndex,
        bufferTimeoutMs: bufferTimeout,
        keySelector,
      }) as RecordWriter;
      writerByEdge.set(p.edge, w);
      this.writers.push(w);
    }
    return writerByEdge;
  }

  /** One input gate per incoming edge, read as one union input. */
  private setUpInputGates(): void {
    const gates = this.tdd.inputGates;
    if (gates.length) this.input = new UnionInput(gates.map((g) => this.network.createInputGate(g)));
  }

  private createSourceReader(
    head: OperatorDescriptor,
    userCode: Map<string, unknown>,
    services: TaskServices,
  ): SourceReader | undefined {
    // A source restored as finished has nothing left to read: it gets no reader.
    if (head.kind !== 'source' || this.finishedOnRestore) return undefined;
    const { jobId, executionId } = this.tdd;
    return createSourceReader(head, userCode.get(head.id), services, head.name, {
      requestSplit: () => this.env.sourceGateway.requestSplit({ jobId, executionId }),
    });
  }

  /** The operators' keyed and operator state, restored from the checkpoint the task starts from (if any). */
  private restoreState(
    vertex: JobVertex,
    chain: OperatorChain,
    keyGroupRange: KeyGroupRange,
  ): Promise<OperatorStateHolder[]> {
    const tdd = this.tdd;
    return setUpOperatorState({
      vertex,
      operators: chain.operators,
      subtaskIndex: tdd.subtaskIndex,
      parallelism: tdd.parallelism,
      keyGroupRange,
      backendType: tdd.checkpointing?.stateBackend ?? 'heap',
      stateDir: join(this.env.stateDir, tdd.jobId, tdd.executionId),
      restore: tdd.restore,
      checkpointing: tdd.checkpointing,
    });
  }

  /** A source's split positions are its head operator's list state, redistributed on rescale like Flink's. */
  private restoreSourceSplits(source: SourceReader, headId: string): ListState<unknown> | undefined {
    const opState = this.holders[0]?.operatorState;
    if (!opState) return undefined;
    const splitsDescriptor = new ListStateDescriptor<unknown>('_source-splits');
    const splits = source.unionSplitState
      ? opState.getUnionListState(splitsDescriptor)
      : opState.getListState(splitsDescriptor);
    const restored = this.tdd.restore?.operators[headId];
    if (restored) {
      source.restoreSplits(splits.get());
      if (restored.unassignedFrom !== undefined) source.restoreUnassigned?.(restored.unassignedFrom);
    }
    return splits;
  }

  /** The subtask's side of checkpoints: snapshots its state on each barrier and acknowledges it to the JobManager. */
  private setUpCheckpointing(
    vertex: JobVertex,
    keyGroupRange: KeyGroupRange,
    settings: TaskCheckpointSettings,
    source: SourceReader | undefined,
    splits: ListState<unknown> | undefined,
  ): void {
    const tdd = this.tdd;
    const responder = this.env.checkpointResponder;
    this.checkpointCoordinator = new SubtaskCheckpointCoordinator({
      jobId: tdd.jobId,
      executionId: tdd.executionId,
      subtaskIndex: tdd.subtaskIndex,
      maxParallelism: vertex.maxParallelism,
      keyGroupRange,
      settings,
      holders: this.holders,
      writers: this.writers,
      beforeSnapshot: source && splits ? (id) => splits.update(source.snapshotSplits(id)) : undefined,
      acknowledge: (ack) => responder.acknowledge(ack),
      decline: (id, reason) => responder.decline(tdd.jobId, tdd.executionId, id, reason),
      log: this.log,
    });
    this.streamTask!.attachCheckpointing(
      this.checkpointCoordinator,
      settings.mode,
      settings.periodic,
      settings.checkpointsAfterTasksFinish ?? DEFAULT_CHECKPOINTS_AFTER_TASKS_FINISH,
    );
  }

  /** Injects a barrier (source tasks only); false when the task cannot take part now. */
  triggerCheckpoint(barrier: BarrierInfo): boolean {
    if (this.state !== 'RUNNING') return false;
    return this.streamTask?.triggerCheckpoint(barrier) ?? false;
  }

  notifyCheckpoint(checkpointId: number, complete: boolean): void {
    this.streamTask?.notifyCheckpoint(checkpointId, complete);
  }

  /** The JobManager's answer to this source's watermark report. */
  alignWatermark(limit: AlignmentLimit): void {
    this.streamTask?.alignWatermark(limit);
  }

  /** Splits the source's enumerator handed to this subtask. */
  addSplits(splits: SourceSplits): void {
    this.streamTask?.addSplits(splits);
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
    await this.checkpointCoordinator?.close();
    try {
      await this.streamTask?.chain.close();
    } catch (e) {
      this.log.warn({ err: e }, 'closing operators after failure failed');
    }
    await disposeOperatorState(this.holders);
  }

  cancel(): void {
    if (this.cancelRequested) return;
    this.cancelRequested = true;
    this.log.info('canceling task');
    this.transition('CANCELING');
    this.streamTask?.cancel();
  }
}
