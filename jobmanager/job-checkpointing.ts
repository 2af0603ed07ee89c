// Connects a job's CheckpointCoordinator to its ExecutionGraph and to the TaskManagers: which
// tasks to trigger and wait for, how to reach them, and what to tell tasks at deployment.
// Checkpoints after tasks finished (Flink's FLIP-147): finished tasks are left out and recorded as
// finished; running tasks past the end of their input get no barriers and are triggered like
// sources; once every running task is past its end, the checkpoint that lets them finish is taken
// at once.
import { groupBy } from '../common/group-by.js';
import { join } from 'node:path';
import {
  DEFAULT_CHECKPOINTS_AFTER_TASKS_FINISH,
  type CheckpointingSettings,
  type CheckpointMetadata,
  type TaskCheckpointSettings,
  type TaskRestoreDescriptor,
} from '../common/checkpoint.js';
import type { CheckpointStorageFailure } from '../common/checkpoint-storage-failure.js';
import type { Ack, TriggerCheckpointRequest } from '../common/control.js';
import type { Logger } from '../common/logging.js';
import { fencedUnary } from './ha/leadership-fence.js';
import {
  CheckpointCoordinator,
  type CheckpointPlan,
  type SubtaskOperators,
  type TaskRef,
} from './checkpoint/checkpoint-coordinator.js';
import { CheckpointStorage } from './checkpoint/checkpoint-storage.js';
import { restoresAsFinished } from './checkpoint/finished-state.js';
import type { Execution, ExecutionGraph } from './execution-graph.js';
import type { ResourceManager } from './resource-manager.js';
import { unassignedFrom, type SourceCoordinator } from './source-coordinator.js';

export interface JobCheckpointingOptions {
  graph: ExecutionGraph;
  settings: CheckpointingSettings;
  /** state.checkpoints.dir */
  checkpointsDir: string;
  numRetained: number;
  stateBackend: 'heap' | 'level';
  /** web.checkpoints.history */
  historySize: number;
  rm: ResourceManager;
  rpcTimeoutMs: number;
  log: Logger;
  /** False when the job takes savepoints only (no checkpoint interval). */
  periodic: boolean;
  describeJob(): { jobName: string; bundleHash: string; engineVersion: string };
  /** Source split enumerators: their states go into each checkpoint, and their calls keep order with triggers. */
  sources: SourceCoordinator;
  onFailureThresholdExceeded(reason: string): void;
  /** Checkpoints fail because their storage cannot be written (once until one completes again). */
  onStorageFailure?(failure: CheckpointStorageFailure, checkpointId: number): void;
}

function ref(e: Execution): TaskRef {
  return { executionId: e.executionId, taskManagerId: e.taskManagerId ?? '', taskName: e.taskName };
}

function chainOf(e: Execution): SubtaskOperators {
  return {
    subtaskIndex: e.subtaskIndex,
    operatorIds: e.vertex.operators.map((op) => op.id),
    executionId: e.executionId,
  };
}

export class JobCheckpointing {
  readonly coordinator: CheckpointCoordinator;
  readonly jobDir: string;
  /** Tasks of the current attempt that reached the end of their input (final acknowledgement). */
  private readonly finalAcked = new Set<string>();
  /** Tasks of the current attempt deployed as finished: they end at once and take part in nothing. */
  private readonly deployedFinished = new Set<string>();
  private readonly afterTasksFinish: boolean;

  constructor(private readonly o: JobCheckpointingOptions) {
    const jobId = o.graph.jobId;
    this.afterTasksFinish = o.settings.checkpointsAfterTasksFinish ?? DEFAULT_CHECKPOINTS_AFTER_TASKS_FINISH;
    this.jobDir = join(o.checkpointsDir, jobId);
    const storage = new CheckpointStorage(this.jobDir, o.settings.numRetained ?? o.numRetained, o.log);
    this.coordinator = new CheckpointCoordinator({
      jobId,
      settings: o.settings,
      storage,
      log: o.log,
      stateBackend: o.stateBackend,
      historySize: o.historySize,
      periodic: o.periodic,
      describeJob: o.describeJob,
      tasks: () => this.plan(),
      operators: () =>
        o.graph.jobGraph.vertices.flatMap((v) =>
          v.operators.map((op) => ({
            operatorId: op.id,
            ...(op.uid ? { uid: op.uid } : {}),
            name: op.name,
            parallelism: v.parallelism,
            maxParallelism: v.maxParallelism,
          })),
        ),
      coordinatorStates: () => o.sources.snapshot(),
      gateway: {
        // Queued at once behind the splits sent to the task before the coordinators' snapshot.
        trigger: (task, checkpointId, timestamp, options) =>
          o.sources.inOrder(task.executionId, async () => {
            const tm = o.rm.taskManagers.get(task.taskManagerId);
            if (!tm) throw new Error(`TaskManager ${task.taskManagerId} of ${task.taskName} is gone`);
            const req: TriggerCheckpointRequest = {
              executionId: task.executionId,
              checkpointId,
              timestamp,
              savepoint: options.savepoint === true,
              stop: options.stop === true,
              drain: options.drain === true,
            };
            const ack = await fencedUnary<TriggerCheckpointRequest, Ack>(
              tm.client,
              'TriggerCheckpoint',
              req,
              o.rpcTimeoutMs,
            );
            if (!ack.ok) throw new Error(ack.error);
          }),
        notify: (tasks, checkpointId, complete) => {
          for (const [tmId, tmTasks] of groupBy(tasks, (t) => t.taskManagerId)) {
            const executionIds = tmTasks.map((t) => t.executionId);
            const tm = o.rm.taskManagers.get(tmId);
            if (!tm) continue;
            fencedUnary(
              tm.client,
              'NotifyCheckpoint',
              { jobId, checkpointId, complete, executionIds },
              o.rpcTimeoutMs,
            ).catch((e: Error) =>
              o.log.warn({ err: e.message, checkpointId, taskManagerId: tmId }, 'cannot notify tasks of a checkpoint'),
            );
          }
        },
      },
      onFailureThresholdExceeded: (reason) => o.onFailureThresholdExceeded(reason),
      ...(o.onStorageFailure ? { onStorageFailure: o.onStorageFailure } : {}),
    });
  }

  /** Who takes part in the next checkpoint; null when none can be taken now. */
  private plan(): CheckpointPlan | null {
    const execs = this.o.graph.allExecutions();
    // Deploying, or failing over: skip this one, as Flink does.
    if (execs.some((e) => e.state !== 'RUNNING' && e.state !== 'FINISHED')) return null;
    const isFinished = (e: Execution) => e.state === 'FINISHED' || this.deployedFinished.has(e.executionId);
    const finished = execs.filter(isFinished);
    const running = execs.filter((e) => !isFinished(e));
    // Flink before FLIP-147: no checkpoint once a task reached its end.
    if (!this.afterTasksFinish && (finished.length > 0 || this.finalAcked.size > 0)) return null;
    // Tasks past the end of their input get no barriers: they are triggered like sources.
    const trigger = running.filter((e) => e.vertex.numInputs === 0 || this.finalAcked.has(e.executionId));
    // Every source finished and the tasks left have yet to report their end: they trigger the next one then.
    if (running.length === 0 || trigger.length === 0) return null;
    return {
      trigger: trigger.map(ref),
      // A task past its end may finish while the checkpoint is pending; it then counts as finished.
      ackFrom: running.map((e) => (this.finalAcked.has(e.executionId) ? { ...ref(e), chain: chainOf(e) } : ref(e))),
      finished: finished.map(chainOf),
    };
  }

  /** What every task of this job is told at deployment. */
  taskSettings(): TaskCheckpointSettings {
    const incremental = this.o.settings.incremental;
    return {
      jobDir: this.jobDir,
      mode: this.o.settings.mode,
      stateBackend: this.o.stateBackend,
      periodic: this.o.periodic,
      checkpointsAfterTasksFinish: this.afterTasksFinish,
      ...(incremental !== undefined ? { incremental } : {}),
    };
  }

  /**
   * A task reached the end of its input and its operators prepared their last commit. With
   * checkpoints after tasks finished it commits and finishes once a checkpoint taken after that
   * completes; without, two-phase-commit sinks commit once every task got there.
   */
  acknowledgeFinal(executionId: string): void {
    const execs = this.o.graph.allExecutions();
    const e = execs.find((x) => x.executionId === executionId);
    if (!e) return;
    this.finalAcked.add(executionId);
    if (e.vertex.numInputs > 0) this.coordinator.triggerEndedTask({ ...ref(e), chain: chainOf(e) });
    if (!this.afterTasksFinish) {
      this.coordinator.acknowledgeFinal(executionId, execs.map(ref));
      return;
    }
    const waiting = execs.filter((x) => x.state === 'RUNNING' && !this.deployedFinished.has(x.executionId));
    if (waiting.every((x) => this.finalAcked.has(x.executionId))) this.coordinator.triggerFinalCheckpoint();
  }

  /** The restore descriptor of a task about to be deployed; remembers the tasks deployed as finished. */
  restoreFor(
    exec: Execution,
    restore: { metadata: CheckpointMetadata; dir: string } | undefined,
  ): TaskRestoreDescriptor | undefined {
    const d = restoreFor(exec, restore);
    if (d?.finished) this.deployedFinished.add(exec.executionId);
    return d;
  }

  /** A new attempt starts: end-of-input acknowledgements of the old one no longer count. */
  resetAttempt(): void {
    this.finalAcked.clear();
    this.deployedFinished.clear();
  }
}

/**
 * The restore descriptor for one task: its chain's operators' handles in the checkpoint, or, when
 * every one of them had fully finished there, that the task is deployed as finished. A subtask of a
 * partially finished operator runs again from the state it finished with, and ends at once.
 */
export function restoreFor(
  exec: Execution,
  restore: { metadata: CheckpointMetadata; dir: string } | undefined,
): TaskRestoreDescriptor | undefined {
  if (!restore) return undefined;
  if (restoresAsFinished(exec.vertex, restore.metadata))
    return { checkpointId: restore.metadata.checkpointId, dir: restore.dir, operators: {}, finished: true };
  const operators: TaskRestoreDescriptor['operators'] = {};
  for (const [i, op] of exec.vertex.operators.entries()) {
    const m = restore.metadata.operators.find((x) => x.operatorId === op.id);
    if (!m) continue;
    const from = i === 0 ? unassignedFrom(exec.vertex, m) : undefined;
    operators[op.id] = {
      parallelism: m.parallelism,
      maxParallelism: m.maxParallelism,
      subtasks: m.subtasks,
      ...(from !== undefined ? { unassignedFrom: from } : {}),
    };
  }
  return { checkpointId: restore.metadata.checkpointId, dir: restore.dir, operators };
}
