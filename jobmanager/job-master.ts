// The JobMaster of one job: waits for slots, deploys every subtask, follows task states, drives
// checkpoints, and on a failure either restarts every task from the latest completed checkpoint
// (RESTARTING, as the restart strategy allows) or ends the job as FAILED.
import { EventEmitter } from 'node:events';
import {
  FINAL_CHECKPOINT_ID,
  type CheckpointingSettings,
  type CheckpointMetadata,
  type TaskCheckpointAck,
} from '../common/checkpoint.js';
import type {
  Ack,
  AddSplitsRequest,
  AlignmentLimit,
  SourceWatermarkReport,
  TaskExecutionState,
  TaskMetrics,
  WatermarkAlignmentUpdate,
} from '../common/control.js';
import { alignedSources, requiredSlots, type JobGraph } from '../common/jobgraph.js';
import type { Logger } from '../common/logging.js';
import { groupBy } from '../common/group-by.js';
import { isUnavailable } from '../common/rpc.js';
import { fencedUnary } from './ha/leadership-fence.js';
import { WatermarkAlignmentCoordinator, type PushedLimit } from './watermark-alignment.js';
import { SourceCoordinator } from './source-coordinator.js';
import { isGloballyTerminal, type ExecutionState, type JobStatus } from '../common/states.js';
import { buildDeployment, type DeploymentContext } from './deployment-builder.js';
import { Execution, ExecutionGraph, type ExceptionEntry } from './execution-graph.js';
import { JobCheckpointing } from './job-checkpointing.js';
import type { CheckpointStorageFailure } from '../common/checkpoint-storage-failure.js';
import type { ExternalRestore } from './checkpoint/savepoint-restore.js';
import type { CheckpointStatsState } from './checkpoint/checkpoint-stats.js';
import { ENGINE_VERSION } from '../common/version.js';
import type { ResourceManager, TaskManagerInfo } from './resource-manager.js';
import type { RestartBackoffTimeStrategy } from './restart/restart-strategy.js';

export interface JobMasterOptions {
  jobId: string;
  jobGraph: JobGraph;
  bundleId: string;
  programArgs: string[];
  defaultParallelism: number;
  slotRequestTimeoutMs: number;
  cancellationTimeoutMs: number;
  spreadOutSlots: boolean;
  rpcTimeoutMs: number;
  restartStrategy: RestartBackoffTimeStrategy;
  /**
   * Checkpoint settings; `periodic` false when the job does not checkpoint (its own settings or the
   * cluster's execution.checkpointing.*): it still takes savepoints.
   */
  checkpointing: {
    settings: CheckpointingSettings;
    periodic: boolean;
    checkpointsDir: string;
    numRetained: number;
    stateBackend: 'heap' | 'level';
    historySize: number;
  };
  /** The savepoint or retained checkpoint the job starts from (`-s`), already checked against the graph. */
  initialRestore?: ExternalRestore;
  /** The uploaded jar it was run from (for the web UI's restart and upgrade). */
  jarId?: string;
  /** web.exception-history-size: failures kept for the REST API (default 16, as Flink). */
  exceptionHistorySize?: number;
  /**
   * Set when a JobManager takes over a job another one ran (high availability): the first attempt
   * restores the latest completed checkpoint, and history and statistics continue.
   */
  recovery?: JobRecovery;
}

export interface JobRecovery {
  startTime: number;
  exceptionHistory: ExceptionEntry[];
  checkpointStats?: CheckpointStatsState;
}

type Restore = { metadata: CheckpointMetadata; dir: string };

/** Where a job's first attempt took its state from (GET /jobs/:jobid "restored-from"). */
export interface RestoredFrom {
  path: string;
  jobId: string | null;
  checkpointId: number;
  isSavepoint: boolean;
}

export interface JobMasterEvents {
  statusChanged: [status: JobStatus, cause: string | undefined];
  /** Checkpoints fail because their storage cannot be written; once until one completes again (an alert). */
  checkpointStorageFailure: [failure: CheckpointStorageFailure, checkpointId: number];
}

export class JobMaster extends EventEmitter<JobMasterEvents> {
  /** Watermark alignment of the job's sources: subtasks of the running attempt that have not ended count. */
  private readonly alignment = new WatermarkAlignmentCoordinator(
    (group) => this.alignedExecutions(group),
    (limits) => this.pushAlignmentLimits(limits),
  );
  /** Split enumerators of the job's sources that hand out splits on request. */
  private readonly sources: SourceCoordinator;
  readonly graph: ExecutionGraph;
  private readonly deployCtx: DeploymentContext;
  private slotWaitTimer: NodeJS.Timeout | undefined;
  private cancelTimer: NodeJS.Timeout | undefined;
  private readonly onResources = () => this.tryAllocate();
  private readonly onLost = (tm: TaskManagerInfo, cause: string) => this.onTaskManagerLost(tm, cause);
  private readonly onMetrics = (_tm: string, m: TaskMetrics[]) => this.updateMetrics(m);
  private slotsHeld = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** The cancel phase of the current restart completed (guards against acting twice). */
  private restartPending = false;
  readonly checkpointing: JobCheckpointing;
  private restore: Restore | undefined;
  /** Set while a stop-with-savepoint runs: a second one is refused. */
  private stopping = false;

  constructor(
    private readonly opts: JobMasterOptions,
    private readonly rm: ResourceManager,
    private readonly log: Logger,
  ) {
    super();
    this.graph = new ExecutionGraph(
      opts.jobId,
      opts.jobGraph,
      opts.recovery?.startTime ?? Date.now(),
      opts.exceptionHistorySize,
      (subject, from, to) => {
        // Reports that cross a cancellation or arrive after an end are expected races; anything else is a bug to see.
        const race =
          from === 'CANCELING' ||
          from === 'FINISHED' ||
          from === 'CANCELED' ||
          from === 'FAILED' ||
          from === 'SUSPENDED';
        this.log[race ? 'debug' : 'warn'](
          { subject, from, to },
          `refused the impossible move ${from} → ${to} of ${subject}`,
        );
      },
    );
    if (opts.recovery) this.graph.exceptionHistory.push(...opts.recovery.exceptionHistory);
    this.deployCtx = {
      jobName: opts.jobGraph.name,
      bundleId: opts.bundleId,
      programArgs: opts.programArgs,
      defaultParallelism: opts.defaultParallelism,
    };
    this.sources = new SourceCoordinator(opts.jobId, {
      send: (request) => this.sendSplits(request),
      undelivered: (executionId, message) => {
        const e = this.graph.findExecution(executionId);
        if (e && !e.terminal) this.onExecutionFailed(e, 'SplitAssignmentException', message);
      },
      failed: (message) => this.handleFailure('SourceCoordinatorException', message, null),
      warn: (message) => this.log.warn({ jobId: this.jobId }, message),
    });
    const cp = opts.checkpointing;
    this.checkpointing = new JobCheckpointing({
      sources: this.sources,
      graph: this.graph,
      settings: cp.settings,
      periodic: cp.periodic,
      checkpointsDir: cp.checkpointsDir,
      numRetained: cp.numRetained,
      stateBackend: cp.stateBackend,
      historySize: cp.historySize,
      rm,
      rpcTimeoutMs: opts.rpcTimeoutMs,
      log,
      describeJob: () => ({ jobName: opts.jobGraph.name, bundleHash: opts.bundleId, engineVersion: ENGINE_VERSION }),
      onFailureThresholdExceeded: (reason) =>
        this.handleFailure('CheckpointException', `Exceeded checkpoint tolerable failure threshold: ${reason}`, null),
      onStorageFailure: (failure, checkpointId) => this.emit('checkpointStorageFailure', failure, checkpointId),
    });
    if (opts.recovery?.checkpointStats) this.checkpointing.coordinator.importStats(opts.recovery.checkpointStats);
    if (opts.initialRestore && !opts.recovery) {
      this.restore = opts.initialRestore;
      this.checkpointing.coordinator.recordExternalRestore(opts.initialRestore.metadata, opts.initialRestore.dir);
    }
  }

  get jarId(): string | undefined {
    return this.opts.jarId;
  }

  get programArgs(): string[] {
    return this.opts.programArgs;
  }

  get defaultParallelism(): number {
    return this.opts.defaultParallelism;
  }

  get restoredFrom(): RestoredFrom | undefined {
    const r = this.opts.initialRestore;
    return (
      r && {
        path: r.dir,
        jobId: r.metadata.jobId ?? null,
        checkpointId: r.metadata.checkpointId,
        isSavepoint: r.metadata.savepoint,
      }
    );
  }

  /**
   * Takes a savepoint into a new folder under `targetDirectory`; resolves with its path. With
   * `cancelJob` the job is canceled once it completed (Flink's cancel-with-savepoint).
   */
  async triggerSavepoint(targetDirectory: string, cancelJob = false): Promise<string> {
    this.assertRunning('a savepoint');
    const info = await this.checkpointing.coordinator.triggerCheckpoint({ savepoint: true, targetDirectory });
    if (cancelJob) this.cancel();
    return info.dir;
  }

  /**
   * Stop-with-savepoint: the sources stop right after the savepoint's barrier (after the maximum
   * watermark when `drain`), every task commits what the savepoint covers and ends, and the job
   * ends FINISHED. Resolves with the savepoint's path once the job has ended.
   */
  async stopWithSavepoint(targetDirectory: string, drain: boolean): Promise<string> {
    this.assertRunning('stop-with-savepoint');
    if (this.stopping) throw new Error(`a stop-with-savepoint of job ${this.jobId} is already in progress`);
    this.stopping = true;
    const coordinator = this.checkpointing.coordinator;
    // No periodic checkpoint may run beside it: its barrier would meet stopped sources.
    coordinator.stop('stop-with-savepoint');
    try {
      const info = await coordinator.triggerCheckpoint({ savepoint: true, stop: true, drain, targetDirectory });
      // Tasks end once told the savepoint completed; one that never hears of it must not keep the job alive.
      const timer = setTimeout(() => {
        this.log.warn(
          { jobId: this.jobId, savepoint: info.dir },
          'tasks did not finish after the stop-with-savepoint completed; canceling them',
        );
        this.cancel();
      }, this.opts.cancellationTimeoutMs);
      const ended = await this.whenTerminal().finally(() => clearTimeout(timer));
      if (ended !== 'FINISHED') {
        throw new Error(
          `savepoint ${info.dir} completed (it can be resumed), but the job then ended ${ended}${ended === 'FAILED' ? `: ${this.rootCause() ?? 'no cause recorded'}` : ' instead of FINISHED'}`,
        );
      }
      return info.dir;
    } catch (e) {
      if (this.status === 'RUNNING' && this.slotsHeld) coordinator.start();
      throw e;
    } finally {
      this.stopping = false;
    }
  }

  /** A checkpoint now (Flink's POST /jobs/:jobid/checkpoints), periodic or not. */
  async triggerManualCheckpoint(): Promise<{ checkpointId: number }> {
    this.assertRunning('a checkpoint');
    const info = await this.checkpointing.coordinator.triggerCheckpoint();
    return { checkpointId: info.checkpointId };
  }

  private assertRunning(what: string): void {
    if (this.status !== 'RUNNING')
      throw new Error(`cannot take ${what} of job ${this.jobId}: it is ${this.status}, not RUNNING`);
    if (this.stopping)
      throw new Error(`cannot take ${what} of job ${this.jobId}: it is being stopped with a savepoint`);
    // Finished tasks are recorded as finished (checkpoints after tasks finished); the coordinator refuses when it cannot.
    const notRunning = this.graph.allExecutions().filter((e) => e.state !== 'RUNNING' && e.state !== 'FINISHED');
    if (notRunning.length > 0) {
      throw new Error(
        `cannot take ${what} of job ${this.jobId}: ${notRunning.length} of its ${this.graph.allExecutions().length} tasks are not running (${notRunning[0]!.taskName} is ${notRunning[0]!.state})`,
      );
    }
  }

  /** Resolves with the job's final status once it has one. */
  whenTerminal(): Promise<JobStatus> {
    return new Promise((resolve) => {
      if (isGloballyTerminal(this.status)) return resolve(this.status);
      const listener = (status: JobStatus) => {
        if (!isGloballyTerminal(status)) return;
        this.off('statusChanged', listener);
        resolve(status);
      };
      this.on('statusChanged', listener);
    });
  }

  get jobId(): string {
    return this.opts.jobId;
  }

  get status(): JobStatus {
    return this.graph.status;
  }

  start(): void {
    this.rm.on('taskManagerLost', this.onLost);
    this.rm.on('metrics', this.onMetrics);
    if (this.opts.recovery) {
      void this.startRecovered();
      return;
    }
    this.setStatus('RUNNING');
    this.schedule();
  }

  /** A job taken over from another JobManager: its latest completed checkpoint first, as after a failure. */
  private async startRecovered(): Promise<void> {
    const found = await this.restoreOrFail();
    if (!found || isGloballyTerminal(this.status) || this.status === 'CANCELLING') return;
    const { restore } = found;
    this.restore = restore;
    this.log.info(
      { jobId: this.jobId, ...(restore ? { checkpointId: restore.metadata.checkpointId, dir: restore.dir } : {}) },
      restore
        ? 'recovered job restores its latest checkpoint'
        : 'recovered job starts without a checkpoint (it completed none)',
    );
    this.setStatus('RUNNING');
    this.schedule();
  }

  /** The state to start from; undefined once the job failed because none can be used. */
  private async restoreOrFail(): Promise<{ restore: Restore | undefined } | undefined> {
    try {
      return { restore: await this.latestRestore() };
    } catch (err) {
      this.graph.exceptionHistory.push(this.exceptionEntry('CheckpointException', (err as Error).message, null));
      this.fail((err as Error).message);
      this.checkCompletion();
      return undefined;
    }
  }

  /** The newest usable checkpoint, else the savepoint the job started from, else nothing. */
  private async latestRestore(): Promise<Restore | undefined> {
    const restore = await this.checkpointing.coordinator.restoreLatest();
    if (restore) return restore;
    // Before its first checkpoint, a job started from a savepoint restarts from that savepoint.
    const initial = this.opts.initialRestore;
    if (initial) this.checkpointing.coordinator.recordExternalRestore(initial.metadata, initial.dir);
    return initial;
  }

  /** Asks for slots for every execution of the current attempt and deploys once it has them. */
  private schedule(): void {
    for (const e of this.graph.allExecutions()) e.transition('SCHEDULED');
    const needed = requiredSlots(this.opts.jobGraph);
    if (!this.tryAllocate()) {
      this.log.info({ jobId: this.jobId, needed, free: this.rm.freeSlots() }, 'waiting for slots');
      this.rm.on('resourcesChanged', this.onResources);
      this.slotWaitTimer = setTimeout(() => {
        this.rm.off('resourcesChanged', this.onResources);
        const total = this.rm.totalSlots();
        this.handleFailure(
          'NoResourceAvailableException',
          `Could not acquire the minimum required resources: the job needs ${needed} slot(s) (its highest parallelism) but only ${this.rm.freeSlots()} of ${total} are free on ${this.rm.taskManagers.size} TaskManager(s) after waiting ${this.opts.slotRequestTimeoutMs} ms (slot.request.timeout).`,
          null,
        );
      }, this.opts.slotRequestTimeoutMs);
    }
  }

  private tryAllocate(): boolean {
    if (this.slotsHeld || this.status !== 'RUNNING') return this.slotsHeld;
    const needed = requiredSlots(this.opts.jobGraph);
    const slots = this.rm.allocateSlots(this.jobId, needed, this.opts.spreadOutSlots);
    if (!slots) return false;
    this.slotsHeld = true;
    this.rm.off('resourcesChanged', this.onResources);
    if (this.slotWaitTimer) clearTimeout(this.slotWaitTimer);
    // Slot sharing: slot i holds subtask i of every vertex.
    for (const row of this.graph.executions) {
      for (const e of row) {
        const s = slots[e.subtaskIndex]!;
        e.taskManagerId = s.tm.id;
        e.taskManagerAddress = s.tm.rpcAddress;
        e.slotIndex = s.slotIndex;
        e.dataAddress = s.tm.slotDataAddresses[s.slotIndex] || s.tm.rpcAddress;
      }
    }
    this.deployAll();
    this.checkpointing?.coordinator.start();
    return true;
  }

  private deployAll(): void {
    try {
      this.sources.reset(this.opts.jobGraph.vertices, this.restore?.metadata);
    } catch (err) {
      this.handleFailure(
        'CheckpointException',
        `cannot restore the job's split enumerators: ${(err as Error).message}`,
        null,
      );
      return;
    }
    for (const e of this.graph.allExecutions()) {
      const tm = this.rm.taskManagers.get(e.taskManagerId!);
      if (!tm) {
        this.onExecutionFailed(e, 'TaskManagerLost', `TaskManager ${e.taskManagerId} is gone`);
        return;
      }
      let tdd;
      try {
        tdd = buildDeployment(this.graph, e, this.deployCtx);
        tdd.checkpointing = this.checkpointing.taskSettings();
        tdd.jobManagerId = this.rm.jobManagerId;
        const restore = this.checkpointing.restoreFor(e, this.restore);
        if (restore) tdd.restore = restore;
      } catch (err) {
        this.handleFailure(
          'JobDeploymentException',
          `cannot build deployment for ${e.taskName}: ${(err as Error).message}`,
          e,
        );
        return;
      }
      e.transition('DEPLOYING');
      fencedUnary<{ descriptorJson: string }, Ack>(
        tm.client,
        'SubmitTask',
        { descriptorJson: JSON.stringify(tdd) },
        this.opts.rpcTimeoutMs,
      )
        .then((ack) => {
          if (!ack.ok)
            this.onExecutionFailed(
              e,
              'TaskDeploymentException',
              `TaskManager ${tm.id} refused ${e.taskName}: ${ack.error}`,
            );
        })
        .catch((err: Error) => {
          const message = `cannot deploy ${e.taskName} to TaskManager ${tm.id} (${tm.rpcAddress}): ${err.message}`;
          // A refused connection means the process is gone: say so at once, so the restart does not pick it again.
          if (isUnavailable(err)) this.rm.reportUnreachable(tm.id, message);
          this.onExecutionFailed(e, 'TaskDeploymentException', message);
        });
    }
  }

  /** A task state report from a TaskManager. */
  onTaskState(update: TaskExecutionState): void {
    const e = this.graph.findExecution(update.executionId);
    if (!e) return;
    const state = update.state as ExecutionState;
    if (update.metrics) this.updateMetrics([{ ...update.metrics, executionId: e.executionId }]);
    if (state === 'FAILED') {
      const where = update.operatorName ? ` (operator '${update.operatorName}')` : '';
      this.onExecutionFailed(
        e,
        update.errorName || 'Exception',
        `${e.taskName}${where} failed on TaskManager ${update.taskManagerId}: ${update.error}`,
      );
      return;
    }
    const canceling = state === 'CANCELING' || state === 'CANCELED';
    if (canceling && this.status === 'RUNNING' && e.state !== 'CANCELING' && !e.terminal) {
      // Not asked for: its TaskManager lost contact with this JobManager (or shut down). A failure to
      // recover from, not the end of the job (which would also delete its checkpoints). CANCELING
      // counts too: taken as asked for, a later loss of that TaskManager ended the job as CANCELED.
      this.onExecutionFailed(
        e,
        'TaskCanceledException',
        `${e.taskName} was canceled by TaskManager ${update.taskManagerId} without the JobManager asking (the TaskManager lost contact with the JobManager or shut down)`,
      );
      return;
    }
    // A task asked to cancel that finished first has still been canceled (Flink's completeCancelling).
    const next = state === 'FINISHED' && e.state === 'CANCELING' ? 'CANCELED' : state;
    if (!e.transition(next)) return;
    this.log.debug({ jobId: this.jobId, task: e.taskName, state: next }, 'task state');
    if (next === 'FINISHED') this.checkpointing?.coordinator.onTaskFinished(e.executionId);
    this.checkCompletion();
  }

  /** A task's checkpoint acknowledgement (or its end-of-input acknowledgement). */
  onCheckpointAck(ack: TaskCheckpointAck): void {
    const cp = this.checkpointing;
    if (!cp) return;
    if (ack.checkpointId === FINAL_CHECKPOINT_ID) cp.acknowledgeFinal(ack.executionId);
    else cp.coordinator.receiveAcknowledge(ack);
  }

  /** A source subtask's watermark (watermark alignment); returns how far its group may advance. */
  onSourceWatermark(report: SourceWatermarkReport): AlignmentLimit {
    return this.alignment.report(report);
  }

  /** A source subtask asks its enumerator for splits (ignored from subtasks of an earlier attempt or that ended). */
  onSplitRequest(executionId: string): void {
    const e = this.graph.findExecution(executionId);
    if (!e || e.terminal) return;
    this.sources.onSplitRequest(executionId, e.vertex.operators[0]!.id);
  }

  private async sendSplits(request: AddSplitsRequest): Promise<void> {
    const e = this.graph.findExecution(request.executionId);
    const tm = e?.taskManagerId ? this.rm.taskManagers.get(e.taskManagerId) : undefined;
    if (!tm) throw new Error(`the TaskManager of subtask ${request.executionId} is gone`);
    const ack = await fencedUnary<AddSplitsRequest, Ack>(tm.client, 'AddSplits', request, this.opts.rpcTimeoutMs);
    if (!ack.ok) throw new Error(ack.error);
  }

  /** Execution ids of the running attempt's source subtasks aligned in `group` that have not ended. */
  private alignedExecutions(group: string): Set<string> {
    const vertices = new Set(alignedSources(this.graph.jobGraph.vertices, group));
    const ids = new Set<string>();
    for (const e of this.graph.allExecutions()) if (vertices.has(e.vertex) && !e.terminal) ids.add(e.executionId);
    return ids;
  }

  /** Limits a report changed for other source subtasks: one call per TaskManager, not awaited. */
  private pushAlignmentLimits(limits: PushedLimit[]): void {
    for (const [tmId, tmLimits] of groupBy(limits, (l) => this.graph.findExecution(l.executionId)?.taskManagerId)) {
      const tm = this.rm.taskManagers.get(tmId);
      if (!tm) continue;
      const update: WatermarkAlignmentUpdate = { jobId: this.jobId, limits: tmLimits };
      // A limit that does not arrive is answered again at the subtask's next report.
      fencedUnary<WatermarkAlignmentUpdate, Ack>(
        tm.client,
        'UpdateWatermarkAlignment',
        update,
        this.opts.rpcTimeoutMs,
      ).catch((err: Error) =>
        this.log.debug({ jobId: this.jobId, taskManagerId: tmId, err: err.message }, 'alignment limits not pushed'),
      );
    }
  }

  onCheckpointDecline(executionId: string, checkpointId: number, reason: string): void {
    this.checkpointing?.coordinator.receiveDecline(executionId, checkpointId, reason);
  }

  private onExecutionFailed(e: Execution, name: string, message: string): void {
    if (e.terminal) return;
    const failingOver = this.status === 'FAILING' || this.status === 'RESTARTING';
    // A consumer's "my producer failed" may arrive before the producer's own report: the real cause becomes the root.
    const h = this.graph.exceptionHistory;
    if (failingOver && name !== 'PartitionException' && h.at(-1)?.exceptionName === 'PartitionException')
      h.push(this.exceptionEntry(name, message, e));
    if (e.state === 'CANCELING' || this.status === 'CANCELLING' || this.status === 'RESTARTING') {
      // Tasks asked to cancel often fail on their way out (their inputs vanish): that is a cancellation.
      e.transition('CANCELED');
      this.checkCompletion();
      return;
    }
    e.failureCause = message;
    e.transition('FAILED');
    if (this.status === 'FAILING') {
      this.checkCompletion();
      return;
    }
    if (isGloballyTerminal(this.status)) return;
    this.handleFailure(name, message, e);
  }

  private exceptionEntry(name: string, message: string, e: Execution | null): ExceptionEntry {
    return {
      exceptionName: name,
      stacktrace: message,
      timestamp: Date.now(),
      taskName: e?.taskName ?? null,
      location: e?.taskManagerAddress ?? null,
      taskManagerId: e?.taskManagerId ?? null,
    };
  }

  /** A failure of the job: restart every task if the restart strategy allows, else fail for good. */
  private handleFailure(name: string, message: string, e: Execution | null): void {
    if (
      isGloballyTerminal(this.status) ||
      this.status === 'FAILING' ||
      this.status === 'CANCELLING' ||
      this.status === 'RESTARTING'
    )
      return;
    this.graph.exceptionHistory.push(this.exceptionEntry(name, message, e));
    this.stopCoordinators('the job is failing over');
    const strategy = this.opts.restartStrategy;
    strategy.notifyFailure(message);
    if (strategy.canRestart()) {
      this.setStatus('RESTARTING', message);
      this.restartPending = true;
      this.cancelRemaining();
      return;
    }
    this.fail(message);
  }

  private fail(message: string): void {
    this.stopCoordinators('the job failed');
    this.setStatus('FAILING', message);
    this.cancelRemaining();
  }

  cancel(): boolean {
    if (isGloballyTerminal(this.status) || this.status === 'CANCELLING') return false;
    if (this.status === 'FAILING') return true;
    this.stopCoordinators('the job is canceled');
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartPending = false;
    this.setStatus('CANCELLING');
    this.cancelRemaining();
    return true;
  }

  /** Every task of the failed attempt ended: wait the strategy's backoff, then restore and redeploy. */
  private restartAfterCancel(): void {
    if (!this.restartPending) return;
    this.restartPending = false;
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    this.rm.releaseSlots(this.jobId);
    this.slotsHeld = false;
    const delay = this.opts.restartStrategy.getBackoffTime();
    this.log.info({ jobId: this.jobId, delayMs: delay, attempt: this.graph.attempt + 1 }, 'restarting job');
    this.restartTimer = setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    if (this.status !== 'RESTARTING') return;
    const found = await this.restoreOrFail();
    if (!found || this.status !== 'RESTARTING') return;
    const { restore } = found;
    this.restore = restore;
    if (restore)
      this.log.info({ jobId: this.jobId, checkpointId: restore.metadata.checkpointId }, 'restoring from checkpoint');
    this.graph.newAttempt();
    this.checkpointing?.resetAttempt();
    this.setStatus('RUNNING');
    this.schedule();
  }

  private cancelRemaining(): void {
    if (this.slotWaitTimer) clearTimeout(this.slotWaitTimer);
    this.rm.off('resourcesChanged', this.onResources);
    for (const e of this.graph.allExecutions()) {
      if (e.terminal) continue;
      if (e.state === 'CREATED' || e.state === 'SCHEDULED' || !e.taskManagerId) {
        e.transition('CANCELED');
        continue;
      }
      e.transition('CANCELING');
      const tm = this.rm.taskManagers.get(e.taskManagerId);
      if (!tm) {
        e.transition('CANCELED');
        continue;
      }
      fencedUnary<{ executionId: string }, Ack>(
        tm.client,
        'CancelTask',
        { executionId: e.executionId },
        this.opts.rpcTimeoutMs,
      )
        .then((ack) => {
          if (!ack.ok) {
            // Unknown to the TaskManager: it never started or already ended there.
            e.transition('CANCELED');
            this.checkCompletion();
          }
        })
        .catch(() => {
          e.transition('CANCELED');
          this.checkCompletion();
        });
    }
    // A TaskManager that never confirms must not keep the job from ending.
    this.cancelTimer = setTimeout(() => {
      for (const e of this.graph.allExecutions()) if (!e.terminal) e.transition('CANCELED');
      this.checkCompletion();
    }, this.opts.cancellationTimeoutMs);
    this.cancelTimer.unref();
    this.checkCompletion();
  }

  private onTaskManagerLost(tm: TaskManagerInfo, cause: string): void {
    const affected = this.graph.allExecutions().filter((e) => e.taskManagerId === tm.id && !e.terminal);
    if (affected.length === 0) return;
    for (const e of affected) {
      if (this.status === 'CANCELLING' || this.status === 'FAILING' || this.status === 'RESTARTING')
        e.transition('CANCELED');
    }
    const first = affected.find((e) => !e.terminal);
    if (first)
      this.onExecutionFailed(
        first,
        'TaskManagerLostException',
        `${cause}; its tasks were lost (${affected.map((e) => e.taskName).join(', ')})`,
      );
    for (const e of affected) if (!e.terminal) e.transition('CANCELED');
    this.checkCompletion();
  }

  private checkCompletion(): void {
    const execs = this.graph.allExecutions();
    if (!execs.every((e) => e.terminal)) return;
    if (this.status === 'RESTARTING') return this.restartAfterCancel();
    let next: JobStatus;
    if (this.status === 'FAILING') next = 'FAILED';
    else if (this.status === 'CANCELLING') next = 'CANCELED';
    else if (execs.every((e) => e.state === 'FINISHED')) next = 'FINISHED';
    else if (this.status === 'RUNNING') {
      // Tasks ended without failure or finish (canceled from outside): treat as canceled.
      next = 'CANCELED';
    } else return;
    this.finishJob(next);
  }

  private finishJob(status: JobStatus): void {
    if (isGloballyTerminal(this.status)) return;
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    this.stopCoordinators(`the job is ${status}`);
    this.setStatus(status, status === 'FAILED' ? (this.rootCause() ?? undefined) : undefined);
    this.rm.off('taskManagerLost', this.onLost);
    this.rm.off('metrics', this.onMetrics);
    this.rm.releaseSlots(this.jobId);
    for (const tm of this.rm.taskManagers.values()) {
      fencedUnary(
        tm.client,
        'ReleaseJob',
        { jobId: this.jobId, jobManagerId: this.rm.jobManagerId },
        this.opts.rpcTimeoutMs,
      ).catch(() => undefined);
    }
  }

  rootCause(): string | null {
    return this.graph.exceptionHistory.at(-1)?.stacktrace ?? null;
  }

  private setStatus(status: JobStatus, cause?: string): void {
    if (!this.graph.transition(status)) return;
    // Failures are reported once, at level error, by the alert notifier listening to statusChanged.
    this.log.info(
      { jobId: this.jobId, jobName: this.opts.jobGraph.name, state: status, ...(cause ? { cause } : {}) },
      `job ${status}`,
    );
    this.emit('statusChanged', status, cause);
  }

  private updateMetrics(metrics: TaskMetrics[]): void {
    for (const m of metrics) {
      const e = this.graph.findExecution(m.executionId);
      if (!e) continue;
      const { executionId: _id, ...counters } = m;
      e.metrics = counters;
    }
  }

  /** The attempt's checkpoints and split enumerators (their file listings) stop together. */
  private stopCoordinators(reason: string): void {
    this.checkpointing?.coordinator.stop(reason);
    this.sources.stop();
  }

  /** Stops timers and listeners when the JobManager shuts down. */
  dispose(): void {
    this.stopCoordinators('the JobManager shuts down');
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.slotWaitTimer) clearTimeout(this.slotWaitTimer);
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    this.rm.off('resourcesChanged', this.onResources);
    this.rm.off('taskManagerLost', this.onLost);
    this.rm.off('metrics', this.onMetrics);
  }
}
