// The CheckpointCoordinator of one job: triggers checkpoints at the sources, collects the tasks'
// acknowledgements, writes `_metadata` when all are in, tells the tasks the outcome, and keeps the
// statistics the REST API shows. It knows tasks only through TaskRefs and a gateway, so the
// JobMaster wires it to gRPC and tests drive it with fakes.
import {
  DEFAULT_CHECKPOINTS_AFTER_TASKS_FINISH,
  FINAL_CHECKPOINT_ID,
  handleCheckpointedSize,
  handleStateSize,
  type CheckpointingSettings,
  type CheckpointMetadata,
  type CheckpointMetadataOperator,
  type CheckpointOptions,
  type OperatorSubtaskStateHandle,
  type TaskCheckpointAck,
} from '../../common/checkpoint.js';
import {
  parseStorageFailure,
  storageFailureOf,
  type CheckpointStorageFailure,
} from '../../common/checkpoint-storage-failure.js';
import type { Logger } from '../../common/logging.js';
import {
  DEFAULT_EXTERNALIZED_CHECKPOINT_RETENTION,
  discardsOnJobEnd,
  EXTERNALIZED_CHECKPOINT_RETENTIONS,
  externalizationJson,
  type ExternalizedCheckpointRetention,
  type TerminalJobStatus,
} from './checkpoint-retention.js';
import { FinishedSubtaskStates } from './finished-subtask-states.js';
import {
  CheckpointStatsTracker,
  type CheckpointingStatisticsJson,
  type CheckpointStatsState,
} from './checkpoint-stats.js';
import { sharedNamesOf, type CheckpointStorage, type StoredCheckpoint } from './checkpoint-storage.js';
import {
  PendingCheckpoint,
  type CompletedCheckpointInfo,
  type SubtaskOperators,
  type TaskRef,
} from './pending-checkpoint.js';

export type { CompletedCheckpointInfo, SubtaskOperators, TaskRef } from './pending-checkpoint.js';

/**
 * Who takes part in a checkpoint: the tasks to trigger (sources, and running tasks past the end of
 * their input), the running tasks to wait for, and the subtasks that finished (recorded as such).
 */
export interface CheckpointPlan {
  trigger: TaskRef[];
  ackFrom: TaskRef[];
  finished?: SubtaskOperators[];
}

export interface CheckpointOperatorInfo {
  operatorId: string;
  uid?: string;
  name: string;
  parallelism: number;
  maxParallelism: number;
}

export interface CheckpointGateway {
  /** Asks a source task to inject barrier `checkpointId`; rejects when the task cannot be reached. */
  trigger(task: TaskRef, checkpointId: number, timestamp: number, options: CheckpointOptions): Promise<void>;
  /** Tells tasks that a checkpoint completed (commit) or was aborted. Fire and forget. */
  notify(tasks: TaskRef[], checkpointId: number, complete: boolean): void;
}

export interface CheckpointCoordinatorOptions {
  jobId: string;
  settings: CheckpointingSettings;
  storage: CheckpointStorage;
  log: Logger;
  /** The plan of the next checkpoint; null while none can be taken (tasks deploying, or none to trigger). */
  tasks(): CheckpointPlan | null;
  operators(): CheckpointOperatorInfo[];
  gateway: CheckpointGateway;
  /**
   * The operator coordinators' states by operator id (source split enumerators). Taken in the same
   * turn as gateway.trigger is called for every task to trigger, so nothing else runs in between.
   */
  coordinatorStates?: () => Record<string, unknown>;
  /** Too many checkpoints failed in a row (execution.checkpointing.tolerable-failed-checkpoints): fail the job over. */
  onFailureThresholdExceeded(reason: string): void;
  /** A checkpoint failed because its storage cannot be written; called once until one completes again. */
  onStorageFailure?(failure: CheckpointStorageFailure, checkpointId: number): void;
  now?: () => number;
  /** web.checkpoints.history; default 10. */
  historySize?: number;
  /** state.backend, for configJson(). */
  stateBackend?: 'heap' | 'level';
  /** False for a job that takes only savepoints (and manual checkpoints); default true. */
  periodic?: boolean;
  /** What `_metadata` records of the job that wrote it. */
  describeJob?: () => { jobName: string; bundleHash: string; engineVersion: string };
  /**
   * After the job ended, aborted checkpoints' directories are swept once more this much later, for
   * files that tasks still wrote while they were canceled (default 30 s).
   */
  lateSweepDelayMs?: number;
}

/** A savepoint is written to its own folder under this directory (state.savepoints.dir or the request's). */
export interface TriggerOptions extends CheckpointOptions {
  targetDirectory?: string;
  /** Asked for through triggerCheckpoint() (a savepoint or a manual checkpoint), not periodic. */
  requested?: boolean;
}

/** Aborted ids remembered to recognise (and clean up after) late acknowledgements. */
const ABORTED_MEMORY = 1000;

/** How long a task past its end that could not be triggered has to report that it finished. */
const FINISHED_REPORT_GRACE_MS = 3000;

export class CheckpointCoordinator {
  private readonly settings: CheckpointingSettings;
  private readonly storage: CheckpointStorage;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly tracker: CheckpointStatsTracker;
  private readonly pending = new Map<number, PendingCheckpoint>();
  private readonly aborted = new Set<number>();
  private nextId = 1;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  /** A periodic trigger found the concurrency limit reached: trigger when a checkpoint ends. */
  private waitingForSlot = false;
  private lastCheckpointEnd: number | undefined;
  private consecutiveFailures = 0;
  /** Completed checkpoints on disk that retention manages. */
  private retained: StoredCheckpoint[] = [];
  private retention: Promise<void> = Promise.resolve();
  private readonly finalAcks = new Set<string>();
  private finalNotified = false;
  private readonly externalizedRetention: ExternalizedCheckpointRetention;
  /** The job ended: no checkpoint starts any more. */
  private terminated = false;
  private lateSweep: NodeJS.Timeout | undefined;
  /** Every running task is past its end: take a checkpoint as soon as none is pending. */
  private finalWanted = false;
  /** End-of-input states of finished subtasks, carried into checkpoints while their operators run elsewhere. */
  private readonly finishedStates: FinishedSubtaskStates;
  /** The storage failure reported (alerted) since the last completed checkpoint. */
  private storageFailure: CheckpointStorageFailure | undefined;

  constructor(private readonly opts: CheckpointCoordinatorOptions) {
    this.settings = opts.settings;
    this.storage = opts.storage;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.tracker = new CheckpointStatsTracker(opts.historySize ?? 10);
    this.finishedStates = new FinishedSubtaskStates(opts.log);
    const s = opts.settings;
    if (opts.periodic !== false && !(s.interval > 0))
      throw new Error(`checkpoint interval must be positive, got ${s.interval}`);
    if (!(s.timeout > 0)) throw new Error(`checkpoint timeout must be positive, got ${s.timeout}`);
    if (!(s.minPauseBetweenCheckpoints >= 0))
      throw new Error(`checkpoint min pause must not be negative, got ${s.minPauseBetweenCheckpoints}`);
    if (!(Number.isInteger(s.maxConcurrentCheckpoints) && s.maxConcurrentCheckpoints >= 1))
      throw new Error(`max concurrent checkpoints must be a positive integer, got ${s.maxConcurrentCheckpoints}`);
    if (!(Number.isInteger(s.tolerableCheckpointFailureNumber) && s.tolerableCheckpointFailureNumber >= -1))
      throw new Error(
        `tolerable checkpoint failures must be an integer >= -1, got ${s.tolerableCheckpointFailureNumber}`,
      );
    this.externalizedRetention = s.externalizedCheckpointRetention ?? DEFAULT_EXTERNALIZED_CHECKPOINT_RETENTION;
    if (!EXTERNALIZED_CHECKPOINT_RETENTIONS.includes(this.externalizedRetention)) {
      throw new Error(
        `externalized checkpoint retention must be one of ${EXTERNALIZED_CHECKPOINT_RETENTIONS.join(', ')}, got ${String(this.externalizedRetention)}`,
      );
    }
  }

  get jobId(): string {
    return this.opts.jobId;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get numPendingCheckpoints(): number {
    return this.pending.size;
  }

  /** Starts periodic checkpoints (again, after a failover). */
  start(): void {
    if (this.running || this.terminated || this.opts.periodic === false) return;
    this.running = true;
    this.scheduleTick(this.settings.interval);
    this.log.info({ jobId: this.jobId, interval: this.settings.interval }, 'periodic checkpoints started');
  }

  /** Stops periodic checkpoints and aborts the pending ones (not counted as failures). */
  stop(reason: string): void {
    const wasRunning = this.running;
    this.running = false;
    this.waitingForSlot = false;
    this.finalWanted = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of [...this.pending.values()]) this.abort(p, `Checkpoint Coordinator is suspending: ${reason}`, false);
    this.finalAcks.clear();
    this.finalNotified = false;
    if (wasRunning) this.log.info({ jobId: this.jobId, reason }, 'periodic checkpoints stopped');
  }

  /**
   * Triggers a checkpoint now (or a savepoint), outside the periodic schedule and its limits.
   * Resolves when it completed; rejects when it could not be triggered or was aborted.
   */
  async triggerCheckpoint(options: TriggerOptions = {}): Promise<CompletedCheckpointInfo> {
    const p = this.startCheckpoint({ ...options, requested: true });
    if (!p) throw new Error(`Checkpoint triggering failed for job ${this.jobId}: not all tasks are running`);
    return p.promise;
  }

  /**
   * Every running task reached the end of its input and waits for a checkpoint to complete before
   * it finishes: take it now rather than at the next interval, so a bounded job ends promptly.
   */
  triggerFinalCheckpoint(): void {
    if (!this.running) return;
    if (this.pending.size > 0) {
      // One in flight may hold snapshots taken before the end: another follows once it ended.
      this.finalWanted = true;
      return;
    }
    this.finalWanted = false;
    let p: PendingCheckpoint | undefined;
    try {
      p = this.startCheckpoint({});
    } catch (e) {
      this.log.warn({ jobId: this.jobId, err: e }, 'final checkpoint not triggered');
      return;
    }
    p?.promise.catch(() => undefined);
  }

  receiveAcknowledge(ack: TaskCheckpointAck): void {
    if (ack.checkpointId === FINAL_CHECKPOINT_ID) {
      this.log.warn(
        { executionId: ack.executionId },
        'final acknowledgement passed to receiveAcknowledge; use acknowledgeFinal',
      );
      return;
    }
    if (ack.jobId !== this.jobId) {
      this.log.warn(
        { jobId: this.jobId, ackJobId: ack.jobId, checkpointId: ack.checkpointId },
        'acknowledgement for another job ignored',
      );
      return;
    }
    const p = this.pending.get(ack.checkpointId);
    if (!p) {
      if (this.aborted.has(ack.checkpointId)) {
        // The task wrote its files after the abort removed the directory: remove them too.
        this.log.debug(
          { checkpointId: ack.checkpointId, executionId: ack.executionId },
          'late acknowledgement of an aborted checkpoint; discarding its files',
        );
        this.storage
          .discard(ack.checkpointId)
          .catch((e: unknown) =>
            this.log.warn({ err: e, checkpointId: ack.checkpointId }, 'cannot discard a late acknowledgement'),
          );
        if (ack.handles.some((h) => h.shared?.length)) void this.collectSharedFiles();
      } else {
        this.log.warn(
          { checkpointId: ack.checkpointId, executionId: ack.executionId },
          'acknowledgement of an unknown checkpoint ignored',
        );
      }
      return;
    }
    const result = p.acknowledge(ack);
    if (result !== 'accepted') {
      this.log.warn({ checkpointId: p.id, executionId: ack.executionId, result }, 'acknowledgement ignored');
      return;
    }
    this.tracker.reportAck(p.record, ack, this.now());
    if (p.fullyAcknowledged) void this.complete(p);
  }

  /** A task could not take its snapshot: the checkpoint fails (and counts toward the tolerable failures). */
  receiveDecline(executionId: string, checkpointId: number, reason: string): void {
    const p = this.pending.get(checkpointId);
    if (!p || p.finalizing) {
      this.log.debug({ checkpointId, executionId, reason }, 'decline of a checkpoint that is no longer pending');
      return;
    }
    const task = p.task(executionId);
    if (!task) {
      this.log.warn({ checkpointId, executionId }, 'decline from a task outside the checkpoint ignored');
      return;
    }
    const storage = parseStorageFailure(reason);
    this.abort(p, `Checkpoint was declined by task ${task.taskName} (${executionId}): ${reason}`, !storage, storage);
  }

  /**
   * A task reached the end of its input: barriers no longer reach it, so every pending checkpoint
   * that waits for it triggers it directly.
   */
  triggerEndedTask(task: TaskRef): void {
    for (const p of this.pending.values()) {
      if (p.finalizing || !p.isWaitingFor(task.executionId)) continue;
      const { savepoint, stop, drain } = p.options;
      this.opts.gateway
        .trigger(task, p.id, p.timestamp, { savepoint: savepoint === true, stop: stop === true, drain: drain === true })
        .catch((e: Error) =>
          this.triggerFailed(
            p,
            task,
            `Trigger of the checkpoint failed at task ${task.taskName} (${task.executionId}), which reached the end of its input: ${e.message}`,
          ),
        );
    }
  }

  /**
   * A task finished. Checkpoints waiting for it that were triggered after it reported the end of
   * its input record it as finished (whatever it snapshotted for them was its final state); others
   * may wait for a snapshot taken before its end that will never be acknowledged: they are aborted
   * (not a failure) and the next one goes on without the task.
   */
  onTaskFinished(executionId: string): void {
    for (const p of [...this.pending.values()]) {
      if (p.finalizing || !p.isWaitingFor(executionId)) continue;
      const task = p.task(executionId)!;
      if (!task.chain) {
        this.abort(p, `Task ${task.taskName} finished before the checkpoint completed`, false);
        continue;
      }
      p.acknowledgeFinished(executionId);
      this.tracker.reportFinishedSubtasks(p.record, 1);
      this.log.debug(
        { checkpointId: p.id, task: task.taskName },
        'task finished during the checkpoint; recorded as finished',
      );
      if (p.fullyAcknowledged) void this.complete(p);
    }
  }

  /**
   * End-of-input acknowledgement (checkpoint id FINAL_CHECKPOINT_ID) of one task. Once every task
   * in `allTasks` (the job's current attempts) has sent one, they are notified, once, that the
   * final checkpoint is complete, so two-phase-commit sinks commit what they hold. Returns true
   * for the acknowledgement that completed the set.
   */
  acknowledgeFinal(executionId: string, allTasks: TaskRef[]): boolean {
    if (this.finalNotified) return false;
    this.finalAcks.add(executionId);
    if (!allTasks.every((t) => this.finalAcks.has(t.executionId))) return false;
    this.finalNotified = true;
    this.log.info({ jobId: this.jobId, tasks: allTasks.length }, 'every task reached the end of its input; committing');
    this.opts.gateway.notify(allTasks, FINAL_CHECKPOINT_ID, true);
    return true;
  }

  /**
   * The newest usable checkpoint of this job (damaged ones skipped), to restart from. New
   * checkpoint ids continue past every chk-<n> on disk, so none is ever reused.
   */
  async restoreLatest(): Promise<{ metadata: CheckpointMetadata; dir: string } | undefined> {
    const [found, highest, onDisk] = await Promise.all([
      this.storage.latestValid(),
      this.storage.highestCheckpointId(),
      this.storage.listCompleted(),
    ]);
    this.nextId = Math.max(this.nextId, highest + 1);
    // A new attempt: the finished subtasks of the old one restore from the checkpoint.
    this.finishedStates.clear();
    // The failed attempt's tasks may have written into aborted checkpoints after their discard.
    await this.sweepAbandoned();
    await this.collectSharedFiles();
    const known = new Set(this.retained.map((c) => c.checkpointId));
    for (const c of onDisk) if (!known.has(c.checkpointId)) this.retained.push(c);
    if (!found) {
      // Starting from nothing while completed checkpoints exist would lose state and repeat committed output.
      if (onDisk.length > 0) {
        throw new Error(
          `none of the ${onDisk.length} retained checkpoint(s) of job ${this.opts.jobId} can be restored (${onDisk.map((c) => c.dir).join(', ')}); the JobManager log says why for each`,
        );
      }
      return undefined;
    }
    this.recordRestore(found.metadata, found.dir);
    return { metadata: found.metadata, dir: found.dir };
  }

  /** The body of GET /jobs/:jobid/checkpoints. */
  stats(): CheckpointingStatisticsJson {
    return this.tracker.snapshot(this.now());
  }

  /** The statistics as plain JSON, kept by high availability for a JobManager that takes over. */
  exportStats(): CheckpointStatsState {
    return this.tracker.exportState();
  }

  /** Continues the statistics of the JobManager that ran this job before. */
  importStats(state: CheckpointStatsState): void {
    this.tracker.importState(state, this.now());
  }

  /** The body of GET /jobs/:jobid/checkpoints/config. */
  configJson(): Record<string, unknown> {
    const s = this.settings;
    return {
      mode: s.mode === 'AT_LEAST_ONCE' ? 'at_least_once' : 'exactly_once',
      interval: s.interval,
      timeout: s.timeout,
      min_pause: s.minPauseBetweenCheckpoints,
      max_concurrent: s.maxConcurrentCheckpoints,
      // What happens to the retained checkpoints when the job ends (see shutdown()).
      externalization: externalizationJson(this.externalizedRetention),
      state_backend: this.opts.stateBackend ?? 'heap',
      checkpoint_storage: 'filesystem',
      unaligned_checkpoints: false,
      tolerable_failed_checkpoints: s.tolerableCheckpointFailureNumber,
      aligned_checkpoint_timeout: 0,
      checkpoints_after_tasks_finish: s.checkpointsAfterTasksFinish ?? DEFAULT_CHECKPOINTS_AFTER_TASKS_FINISH,
      state_changelog_enabled: false,
      // Weir extras.
      checkpoint_dir: this.storage.jobDir,
      num_retained: s.numRetained ?? 1,
      externalized_checkpoint_retention: this.externalizedRetention,
    };
  }

  /**
   * The job reached a terminal state (Flink's CheckpointCoordinator and CompletedCheckpointStore
   * shutdown): stops checkpointing, deletes the retained checkpoints unless the externalized
   * checkpoint retention keeps them for this state (savepoints are never deleted), and removes what
   * aborted checkpoints left behind, again after lateSweepDelayMs for tasks that were still writing.
   * The statistics say at once which checkpoints are gone; the promise settles when the disk is done.
   */
  shutdown(status: TerminalJobStatus): Promise<void> {
    this.stop(`the job is ${status}`);
    if (this.terminated) return this.retention;
    this.terminated = true;
    const discard = discardsOnJobEnd(this.externalizedRetention, status);
    if (discard) this.tracker.reportAllCheckpointsDiscarded();
    this.log.info(
      {
        jobId: this.jobId,
        status,
        retention: this.externalizedRetention,
        checkpoints: discard ? 'deleted' : 'retained',
        dir: this.storage.jobDir,
      },
      discard
        ? `the job is ${status}: deleting its retained checkpoints`
        : `the job is ${status}: its retained checkpoints are kept (${this.externalizedRetention})`,
    );
    this.retention = this.retention.then(async () => {
      if (discard) await this.deleteRetained();
      await this.sweepAbandoned();
      await this.collectSharedNow();
      if (discard) await this.storage.removeJobDirIfEmpty();
    });
    this.lateSweep = setTimeout(() => {
      this.retention = this.retention.then(async () => {
        await this.sweepAbandoned();
        await this.collectSharedNow();
        if (discard) await this.storage.removeJobDirIfEmpty();
      });
    }, this.opts.lateSweepDelayMs ?? 30_000);
    this.lateSweep.unref();
    return this.retention.catch((e: unknown) =>
      this.log.warn({ err: e, jobId: this.jobId }, 'cleaning up the checkpoints of an ended job failed'),
    );
  }

  /** Stops the late sweep of an ended job (JobManager shutdown, tests). */
  dispose(): void {
    if (this.lateSweep) clearTimeout(this.lateSweep);
    this.lateSweep = undefined;
  }

  get retentionPolicy(): ExternalizedCheckpointRetention {
    return this.externalizedRetention;
  }

  /** Deletes every completed checkpoint of this job on disk (savepoints live elsewhere and stay). */
  private async deleteRetained(): Promise<void> {
    const onDisk = await this.storage.listCompleted().catch((e: unknown) => {
      this.log.warn({ err: e, jobId: this.jobId }, 'cannot list the retained checkpoints');
      return [] as StoredCheckpoint[];
    });
    const all = new Map<string, StoredCheckpoint>();
    for (const c of [...this.retained, ...onDisk]) all.set(c.dir, c);
    const kept: StoredCheckpoint[] = [];
    for (const c of all.values()) {
      if (!(await this.storage.deleteCompleted(c))) kept.push(c);
    }
    this.retained = kept;
    this.log.info(
      { jobId: this.jobId, deleted: all.size - kept.length, kept: kept.length },
      'retained checkpoints of the ended job deleted',
    );
  }

  /** Removes chk-<n> directories without `_metadata` that no pending checkpoint uses. */
  private async sweepAbandoned(): Promise<void> {
    await this.storage
      .removeIncomplete((id) => this.pending.has(id))
      .catch((e: unknown) => this.log.warn({ err: e, jobId: this.jobId }, 'cannot sweep aborted checkpoints'));
  }

  /** Deletes shared files (incremental checkpoints) no retained or pending checkpoint refers to, after the retention work queued so far. */
  private collectSharedFiles(): Promise<void> {
    this.retention = this.retention.then(() => this.collectSharedNow());
    return this.retention;
  }

  private async collectSharedNow(): Promise<void> {
    // A pending checkpoint's acknowledged handles may refer to files no completed checkpoint does (yet).
    const pendingHandles = [...this.pending.values()].flatMap((p) => [...p.acks.values()].flatMap((a) => a.handles));
    await this.storage
      .collectSharedFiles(sharedNamesOf(pendingHandles), (id) => this.pending.has(id))
      .catch((e: unknown) => this.log.warn({ err: e, jobId: this.jobId }, 'cannot delete unused shared state files'));
  }

  /** A restore from a savepoint or another job's checkpoint, already loaded and checked by the caller. */
  recordExternalRestore(metadata: CheckpointMetadata, dir: string): void {
    this.recordRestore(metadata, dir);
  }

  get isPeriodic(): boolean {
    return this.opts.periodic !== false;
  }

  private recordRestore(metadata: CheckpointMetadata, dir: string): void {
    this.nextId = Math.max(this.nextId, metadata.checkpointId + 1);
    this.tracker.reportRestored(metadata.checkpointId, this.now(), metadata.savepoint, dir);
    this.log.info(
      { jobId: this.jobId, checkpointId: metadata.checkpointId, dir, savepoint: metadata.savepoint },
      'restoring from checkpoint',
    );
  }

  private startCheckpoint(options: TriggerOptions): PendingCheckpoint | undefined {
    if (this.terminated) return undefined;
    const savepoint = options.savepoint === true;
    const tasks = this.opts.tasks();
    if (!tasks) return undefined;
    if (tasks.trigger.length === 0 || tasks.ackFrom.length === 0)
      throw new Error(`Checkpoint triggering failed for job ${this.jobId}: no tasks to trigger or to acknowledge`);
    const id = this.nextId++;
    const timestamp = this.now();
    const finished = tasks.finished ?? [];
    const record = this.tracker.reportPending(id, savepoint, timestamp, tasks.ackFrom.length + finished.length);
    this.tracker.reportFinishedSubtasks(record, finished.length);
    const p = new PendingCheckpoint(id, timestamp, savepoint, tasks.ackFrom, record, options, finished);
    this.pending.set(id, p);
    p.timer = setTimeout(() => this.abort(p, 'Checkpoint expired before completing.', true), this.settings.timeout);
    this.log.info(
      {
        jobId: this.jobId,
        checkpointId: id,
        savepoint,
        ...(options.stop ? { stop: true, drain: options.drain === true } : {}),
      },
      savepoint ? 'triggering savepoint' : 'triggering checkpoint',
    );
    void this.sendTriggers(p, tasks.trigger);
    return p;
  }

  private async sendTriggers(p: PendingCheckpoint, trigger: TaskRef[]): Promise<void> {
    try {
      await this.storage.checkpointDir(p.id);
    } catch (e) {
      this.abort(
        p,
        `Cannot create the checkpoint directory: ${(e as Error).message}`,
        false,
        storageFailureOf(e, this.storage.jobDir),
      );
      return;
    }
    if (p.disposed) {
      // Aborted while the directory was being made: the abort's discard may have run first.
      await this.storage.discard(p.id).catch(() => undefined);
      return;
    }
    p.coordinatorStates = this.opts.coordinatorStates?.() ?? {};
    await Promise.all(
      trigger.map(async (t) => {
        try {
          const { savepoint, stop, drain } = p.options;
          await this.opts.gateway.trigger(t, p.id, p.timestamp, {
            savepoint: savepoint === true,
            stop: stop === true,
            drain: drain === true,
          });
        } catch (e) {
          this.triggerFailed(
            p,
            t,
            `Trigger of the checkpoint failed at task ${t.taskName} (${t.executionId}) on TaskManager ${t.taskManagerId}: ${(e as Error).message}`,
          );
        }
      }),
    );
  }

  /**
   * As in Flink, a trigger failure is not a checkpoint failure: nothing was snapshotted. A task past
   * the end of its input may have just finished (its FINISHED report on its way): it then counts as
   * finished; only if it has not said so after a grace period is the checkpoint aborted.
   */
  private triggerFailed(p: PendingCheckpoint, t: TaskRef, reason: string): void {
    if (!p.task(t.executionId)?.chain) {
      this.abort(p, reason, false);
      return;
    }
    setTimeout(() => {
      if (!p.disposed && !p.finalizing && p.isWaitingFor(t.executionId)) this.abort(p, reason, false);
    }, FINISHED_REPORT_GRACE_MS).unref();
  }

  private async complete(p: PendingCheckpoint): Promise<void> {
    p.finalizing = true;
    if (p.timer) clearTimeout(p.timer);
    let metadata: CheckpointMetadata;
    let dir: string;
    const handles = [...p.acks.values()].flatMap((a) => a.handles);
    if (handles.some((h) => h.shared?.length)) {
      // A task builds on the last checkpoint it heard completed; if that one was subsumed meanwhile,
      // files of its chain may be gone. Not the job's fault: the tasks write full files next time.
      const missing = await this.storage
        .missingSharedFiles(handles)
        .catch((e: Error) => [`(cannot check: ${e.message})`]);
      if (missing.length > 0 && !p.disposed) {
        p.finalizing = false;
        this.abort(
          p,
          `Incremental state it builds on was deleted (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}); the next checkpoint writes full state`,
          false,
        );
        return;
      }
    }
    let carried: OperatorSubtaskStateHandle[];
    try {
      const fully = this.fullyFinishedOperators(p);
      carried = await this.finishedStates.carry(p.finished, (id) => fully.has(id), this.storage.pathOf(p.id));
      metadata = this.buildMetadata(p, carried, fully);
      const target = p.options.targetDirectory;
      // A savepoint leaves the job's checkpoint folder for a folder of its own, with relative paths only.
      dir = target ? await this.storage.writeSavepoint(metadata, target) : await this.storage.writeMetadata(metadata);
    } catch (e) {
      if (p.disposed) {
        await this.storage.discard(p.id).catch(() => undefined);
        return;
      }
      p.finalizing = false;
      const where = p.options.targetDirectory ?? this.storage.pathOf(p.id);
      const storage = storageFailureOf(e, where);
      this.abort(p, `Failure to finalize the checkpoint: ${(e as Error).message} (in ${where})`, !storage, storage);
      return;
    }
    if (p.disposed) {
      // stop() aborted it while `_metadata` was written: that write must not survive.
      await this.storage
        .discard(p.id)
        .catch((e: unknown) => this.log.warn({ err: e, checkpointId: p.id }, 'cannot discard an aborted checkpoint'));
      return;
    }
    p.disposed = true;
    this.pending.delete(p.id);
    if (!p.options.targetDirectory) {
      // A savepoint's folder is the user's: states of finished subtasks are carried from checkpoints only.
      this.finishedStates.recordCompleted(p.acks.values(), dir);
      this.finishedStates.moved(p.finished, carried, dir);
    }
    this.tracker.reportCompleted(p.record, metadata.completedAt, dir);
    this.consecutiveFailures = 0;
    if (this.storageFailure && !p.options.targetDirectory) {
      this.log.info(
        { jobId: this.jobId, checkpointId: p.id, dir, failedWith: this.storageFailure.code },
        'checkpoint storage is writable again: a checkpoint completed',
      );
      this.storageFailure = undefined;
    }
    this.lastCheckpointEnd = metadata.completedAt;
    this.log.info(
      {
        jobId: this.jobId,
        checkpointId: p.id,
        savepoint: p.savepoint,
        stateSize: metadata.stateSize,
        durationMs: metadata.completedAt - p.timestamp,
        checkpointedSize: metadata.checkpointedSize,
      },
      p.savepoint ? 'savepoint completed' : 'checkpoint completed',
    );
    for (const older of [...this.pending.values()]) {
      // Only periodic checkpoints are subsumed: one a user asked for completes and says so.
      if (older.id < p.id && !older.savepoint && !older.options.requested && !older.finalizing)
        this.abort(older, 'Checkpoint has been subsumed.', false);
    }
    if (!p.options.targetDirectory) await this.retain({ checkpointId: p.id, dir, savepoint: p.savepoint });
    this.opts.gateway.notify(p.tasks, p.id, true);
    p.resolve({
      checkpointId: p.id,
      savepoint: p.savepoint,
      timestamp: p.timestamp,
      completedAt: metadata.completedAt,
      dir,
      stateSize: metadata.stateSize,
    });
    this.onCheckpointEnded();
  }

  /** Operators all of whose subtasks finished (Flink's FullyFinishedOperatorState). */
  private fullyFinishedOperators(p: PendingCheckpoint): Set<string> {
    const finished = finishedSubtasksByOperator(p.finished);
    return new Set(
      this.opts
        .operators()
        .filter((o) => (finished.get(o.operatorId)?.length ?? 0) >= o.parallelism)
        .map((o) => o.operatorId),
    );
  }

  /** `carried`: the end-of-input states of finished subtasks whose operators run on elsewhere. */
  private buildMetadata(
    p: PendingCheckpoint,
    carried: OperatorSubtaskStateHandle[],
    fully: Set<string>,
  ): CheckpointMetadata {
    const handles = [...[...p.acks.values()].flatMap((a) => a.handles), ...carried];
    const finished = finishedSubtasksByOperator(p.finished);
    const operators: CheckpointMetadataOperator[] = this.opts.operators().map((o) => {
      const done = finished.get(o.operatorId);
      return {
        operatorId: o.operatorId,
        ...(o.uid !== undefined ? { uid: o.uid } : {}),
        name: o.name,
        parallelism: o.parallelism,
        maxParallelism: o.maxParallelism,
        subtasks: fully.has(o.operatorId)
          ? []
          : handles.filter((h) => h.operatorId === o.operatorId).sort((a, b) => a.subtaskIndex - b.subtaskIndex),
        ...(done ? { finishedSubtasks: done, ...(fully.has(o.operatorId) ? { fullyFinished: true } : {}) } : {}),
        ...(p.coordinatorStates[o.operatorId] !== undefined
          ? { coordinatorState: p.coordinatorStates[o.operatorId] }
          : {}),
      };
    });
    const known = new Set(operators.map((o) => o.operatorId));
    const stray = handles.find((h) => !known.has(h.operatorId));
    if (stray) throw new Error(`state acknowledged for operator ${stray.operatorId}, which is not part of the job`);
    return {
      format: 'weir-checkpoint',
      version: 1,
      jobId: this.jobId,
      checkpointId: p.id,
      timestamp: p.timestamp,
      completedAt: this.now(),
      savepoint: p.savepoint,
      ...(this.opts.describeJob?.() ?? {}),
      operators,
      stateSize: handles.reduce((s, h) => s + handleStateSize(h), 0),
      checkpointedSize: handles.reduce((s, h) => s + handleCheckpointedSize(h, p.id), 0),
    };
  }

  /** Retention runs one at a time, so concurrent completions never work from a stale list. */
  private retain(added: StoredCheckpoint): Promise<void> {
    this.retention = this.retention.then(async () => {
      const before = [...this.retained, added];
      try {
        this.retained = await this.storage.retain(before);
      } catch (e) {
        // Kept for now; the next completed checkpoint tries to delete the subsumed ones again.
        this.retained = before;
        this.log.warn({ err: e, jobId: this.jobId }, 'cannot delete subsumed checkpoints');
        return;
      }
      const keptDirs = new Set(this.retained.map((c) => c.dir));
      const discarded = before.filter((c) => !keptDirs.has(c.dir));
      this.tracker.reportDiscarded(discarded.map((c) => c.dir));
      if (discarded.length > 0) await this.collectSharedNow();
    });
    return this.retention;
  }

  /**
   * Ends a pending checkpoint as failed. `counted` failures count toward the tolerable ones; a
   * storage failure never does (see common/checkpoint-storage-failure.ts) and is reported once.
   */
  private abort(p: PendingCheckpoint, reason: string, counted: boolean, storage?: CheckpointStorageFailure): void {
    if (p.disposed) return;
    p.disposed = true;
    if (p.timer) clearTimeout(p.timer);
    this.pending.delete(p.id);
    this.aborted.add(p.id);
    if (this.aborted.size > ABORTED_MEMORY) this.aborted.delete(this.aborted.values().next().value!);
    // A finalizing checkpoint is discarded by complete() once its `_metadata` write is over.
    if (!p.finalizing)
      this.storage
        .discard(p.id)
        .catch((e: unknown) => this.log.warn({ err: e, checkpointId: p.id }, 'cannot discard an aborted checkpoint'));
    // New shared files its tasks wrote are referred to by nothing now.
    if ([...p.acks.values()].some((a) => a.handles.some((h) => h.shared?.length))) void this.collectSharedFiles();
    const at = this.now();
    this.tracker.reportFailed(p.record, at, reason);
    this.log.warn(
      { jobId: this.jobId, checkpointId: p.id, savepoint: p.savepoint, reason },
      p.savepoint ? 'savepoint failed' : 'checkpoint failed',
    );
    this.opts.gateway.notify(p.tasks, p.id, false);
    p.reject(new Error(`${p.savepoint ? 'Savepoint' : 'Checkpoint'} ${p.id} of job ${this.jobId} failed: ${reason}`));
    this.lastCheckpointEnd = at;
    // Savepoints are the user's requests; their failures do not fail the job (as in Flink).
    if (counted && !p.savepoint) this.countFailure(reason);
    if (storage && !p.savepoint) this.reportStorageFailure(storage, p.id);
    this.onCheckpointEnded();
  }

  private reportStorageFailure(failure: CheckpointStorageFailure, checkpointId: number): void {
    if (this.storageFailure) return;
    this.storageFailure = failure;
    // At warn: the alert notifier writes the one error line (and calls the webhook).
    this.log.warn(
      { jobId: this.jobId, checkpointId, directory: failure.directory, code: failure.code },
      `checkpoint storage cannot be written (${failure.code} in ${failure.directory}); checkpoints fail but the job keeps running, and they resume by themselves once the directory is writable`,
    );
    this.opts.onStorageFailure?.(failure, checkpointId);
  }

  private countFailure(reason: string): void {
    this.consecutiveFailures++;
    const tolerable = this.settings.tolerableCheckpointFailureNumber;
    if (tolerable < 0 || this.consecutiveFailures <= tolerable) return;
    const failures = this.consecutiveFailures;
    // Reset as Flink's CheckpointFailureManager does: the failover this causes starts a new count.
    this.consecutiveFailures = 0;
    this.opts.onFailureThresholdExceeded(
      `${failures} checkpoint(s) failed in a row, ${tolerable} tolerated (execution.checkpointing.tolerable-failed-checkpoints); the latest failed due to: ${reason}`,
    );
  }

  /** A min pause implies one checkpoint at a time (as Flink documents). */
  private get maxConcurrent(): number {
    return this.settings.minPauseBetweenCheckpoints > 0 ? 1 : this.settings.maxConcurrentCheckpoints;
  }

  private scheduleTick(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTick(), Math.max(0, delay));
  }

  private onTick(): void {
    this.timer = undefined;
    if (!this.running) return;
    if (this.pending.size >= this.maxConcurrent) {
      this.waitingForSlot = true;
      return;
    }
    if (this.lastCheckpointEnd !== undefined) {
      const pauseLeft = this.lastCheckpointEnd + this.settings.minPauseBetweenCheckpoints - this.now();
      if (pauseLeft > 0) {
        this.scheduleTick(pauseLeft);
        return;
      }
    }
    this.scheduleTick(this.settings.interval);
    let p: PendingCheckpoint | undefined;
    try {
      p = this.startCheckpoint({});
    } catch (e) {
      this.log.warn({ jobId: this.jobId, err: e }, 'periodic checkpoint not triggered');
      return;
    }
    // Tasks deploying, or none to trigger (or some finished, without checkpoints after tasks finish): skip this one, as Flink does.
    if (!p) this.log.debug({ jobId: this.jobId }, 'periodic checkpoint skipped: no checkpoint can be taken now');
    // Its failure is logged and counted by abort(); nobody else awaits a periodic checkpoint.
    else p.promise.catch(() => undefined);
  }

  private onCheckpointEnded(): void {
    if (this.finalWanted && this.pending.size === 0) setImmediate(() => this.triggerFinalCheckpoint());
    if (this.running && this.waitingForSlot && this.pending.size < this.maxConcurrent) {
      this.waitingForSlot = false;
      this.scheduleTick(0);
    }
  }
}

/** Per operator id: the sorted indexes of its finished subtasks. */
function finishedSubtasksByOperator(finished: SubtaskOperators[]): Map<string, number[]> {
  const out = new Map<string, Set<number>>();
  for (const f of finished) {
    for (const id of f.operatorIds) {
      let set = out.get(id);
      if (!set) out.set(id, (set = new Set()));
      set.add(f.subtaskIndex);
    }
  }
  return new Map([...out].map(([id, set]) => [id, [...set].sort((a, b) => a - b)]));
}
