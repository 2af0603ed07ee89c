// Connects a job's CheckpointCoordinator to its ExecutionGraph and to the TaskManagers: which
// tasks to trigger and wait for, how to reach them, and what to tell tasks at deployment.
import { join } from 'node:path';
import type { CheckpointingSettings, CheckpointMetadata, TaskCheckpointSettings, TaskRestoreDescriptor } from '../common/checkpoint.js';
import type { Ack, TriggerCheckpointRequest } from '../common/control.js';
import type { Logger } from '../common/logging.js';
import { unary } from '../common/rpc.js';
import { CheckpointCoordinator, type TaskRef } from './checkpoint/checkpoint-coordinator.js';
import { CheckpointStorage } from './checkpoint/checkpoint-storage.js';
import type { Execution, ExecutionGraph } from './execution-graph.js';
import type { ResourceManager } from './resource-manager.js';

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
  onFailureThresholdExceeded(reason: string): void;
}

function ref(e: Execution): TaskRef {
  return { executionId: e.executionId, taskManagerId: e.taskManagerId ?? '', taskName: e.taskName };
}

export class JobCheckpointing {
  readonly coordinator: CheckpointCoordinator;
  readonly jobDir: string;
  /** Tasks of the current attempt that reached the end of their input (final acknowledgement). */
  private readonly finalAcked = new Set<string>();

  constructor(private readonly o: JobCheckpointingOptions) {
    const jobId = o.graph.jobId;
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
      tasks: () => {
        const execs = o.graph.allExecutions();
        if (!execs.every((e) => e.state === 'RUNNING')) return null;
        // Tasks past the end of their input get no barriers: they are triggered like sources.
        return { trigger: execs.filter((e) => e.vertex.numInputs === 0 || this.finalAcked.has(e.executionId)).map(ref), ackFrom: execs.map(ref) };
      },
      operators: () =>
        o.graph.jobGraph.vertices.flatMap((v) =>
          v.operators.map((op) => ({ operatorId: op.id, ...(op.uid ? { uid: op.uid } : {}), name: op.name, parallelism: v.parallelism, maxParallelism: v.maxParallelism })),
        ),
      gateway: {
        trigger: async (task, checkpointId, timestamp, options) => {
          const tm = o.rm.taskManagers.get(task.taskManagerId);
          if (!tm) throw new Error(`TaskManager ${task.taskManagerId} of ${task.taskName} is gone`);
          const req: TriggerCheckpointRequest = { executionId: task.executionId, checkpointId, timestamp, savepoint: options.savepoint === true, stop: options.stop === true, drain: options.drain === true };
          const ack = await unary<TriggerCheckpointRequest, Ack>(tm.client, 'TriggerCheckpoint', req, o.rpcTimeoutMs);
          if (!ack.ok) throw new Error(ack.error);
        },
        notify: (tasks, checkpointId, complete) => {
          const byTm = new Map<string, string[]>();
          for (const t of tasks) byTm.set(t.taskManagerId, [...(byTm.get(t.taskManagerId) ?? []), t.executionId]);
          for (const [tmId, executionIds] of byTm) {
            const tm = o.rm.taskManagers.get(tmId);
            if (!tm) continue;
            unary(tm.client, 'NotifyCheckpoint', { jobId, checkpointId, complete, executionIds }, o.rpcTimeoutMs).catch((e: Error) =>
              o.log.warn({ err: e.message, checkpointId, taskManagerId: tmId }, 'cannot notify tasks of a checkpoint'),
            );
          }
        },
      },
      onFailureThresholdExceeded: (reason) => o.onFailureThresholdExceeded(reason),
    });
  }

  /** What every task of this job is told at deployment. */
  taskSettings(): TaskCheckpointSettings {
    const incremental = this.o.settings.incremental;
    return { jobDir: this.jobDir, mode: this.o.settings.mode, stateBackend: this.o.stateBackend, periodic: this.o.periodic, ...(incremental !== undefined ? { incremental } : {}) };
  }

  /** A task reached the end of its input; once all have, two-phase-commit sinks commit. */
  acknowledgeFinal(executionId: string): void {
    const execs = this.o.graph.allExecutions();
    if (!execs.some((e) => e.executionId === executionId)) return;
    this.finalAcked.add(executionId);
    const e = execs.find((x) => x.executionId === executionId)!;
    if (e.vertex.numInputs > 0) this.coordinator.triggerEndedTask(ref(e));
    this.coordinator.acknowledgeFinal(executionId, execs.map(ref));
  }

  /** A new attempt starts: end-of-input acknowledgements of the old one no longer count. */
  resetAttempt(): void {
    this.finalAcked.clear();
  }
}

/** The restore descriptor for one task: its chain's operators' handles in the checkpoint. */
export function restoreFor(exec: Execution, restore: { metadata: CheckpointMetadata; dir: string } | undefined): TaskRestoreDescriptor | undefined {
  if (!restore) return undefined;
  const operators: TaskRestoreDescriptor['operators'] = {};
  for (const op of exec.vertex.operators) {
    const m = restore.metadata.operators.find((x) => x.operatorId === op.id);
    if (m) operators[op.id] = { parallelism: m.parallelism, maxParallelism: m.maxParallelism, subtasks: m.subtasks };
  }
  return { checkpointId: restore.metadata.checkpointId, dir: restore.dir, operators };
}
