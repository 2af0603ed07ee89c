// What the JobManager and TaskManagers share about checkpoints: the job's checkpoint settings,
// the handles a task acknowledges with, the `_metadata` of a completed checkpoint and what a
// restored task is told to read. Layout on disk: <state.checkpoints.dir>/<jobId>/chk-<n>/_metadata
// plus one state file per (operator, subtask) that has state; incremental checkpoints add the files
// of <jobId>/shared/, which several checkpoints refer to.

export type CheckpointingMode = 'EXACTLY_ONCE' | 'AT_LEAST_ONCE';

/** env.enableCheckpointing(...) and getCheckpointConfig(), as JSON in JobGraph.config.checkpointing. */
export interface CheckpointingSettings {
  /** Milliseconds between checkpoint triggers. */
  interval: number;
  mode: CheckpointingMode;
  /** A checkpoint not complete after this many milliseconds is aborted (Flink default 10 min). */
  timeout: number;
  /** Least milliseconds between the end of one checkpoint and the trigger of the next. */
  minPauseBetweenCheckpoints: number;
  /** Failed checkpoints in a row the job tolerates before it fails over (Flink's default: 0). */
  tolerableCheckpointFailureNumber: number;
  maxConcurrentCheckpoints: number;
  /** Completed checkpoints kept on disk (state.checkpoints.num-retained). */
  numRetained?: number;
  /** What happens to them when the job ends (execution.checkpointing.externalized-checkpoint-retention). */
  externalizedCheckpointRetention?: ExternalizedCheckpointRetention;
  /** state.backend.incremental: the level backend writes only what changed since the last completed checkpoint. */
  incremental?: boolean;
  /**
   * execution.checkpointing.checkpoints-after-tasks-finish.enabled (Flink's FLIP-147; unset: true):
   * checkpoints go on once some tasks finished, and a task ends only after a checkpoint taken past
   * the end of its input completed. False: checkpoints stop once any task reached its end.
   */
  checkpointsAfterTasksFinish?: boolean;
}

/** Flink's ExternalizedCheckpointRetention: which terminal job states keep the retained checkpoints. */
export type ExternalizedCheckpointRetention =
  'NO_EXTERNALIZED_CHECKPOINTS' | 'DELETE_ON_CANCELLATION' | 'RETAIN_ON_CANCELLATION';

export type RestartStrategySettings =
  | { type: 'none' }
  | { type: 'fixed-delay'; attempts: number; delay: number }
  | {
      type: 'exponential-delay';
      initialBackoff: number;
      maxBackoff: number;
      backoffMultiplier: number;
      resetBackoffThreshold: number;
      jitterFactor: number;
      attempts?: number;
    }
  | { type: 'failure-rate'; maxFailuresPerInterval: number; failureRateInterval: number; delay: number };

/**
 * checkpointId of a task's end-of-input report: its operators prepared their last commit. With
 * checkpoints after tasks finished, that commit happens once a checkpoint taken after it completes;
 * without, once every task of the job sent this report.
 */
export const FINAL_CHECKPOINT_ID = -1;

/** Where one (operator, subtask) state lives inside a checkpoint directory. */
export interface OperatorSubtaskStateHandle {
  operatorId: string;
  subtaskIndex: number;
  /** File name relative to the chk-<n> directory. */
  file: string;
  /** Bytes of the file and its sha256 (hex), so a damaged file is noticed before it is restored. */
  size: number;
  sha256: string;
  /** Key groups the keyed part covers (inclusive); null for operators without keyed state. */
  keyGroupRange: { start: number; end: number } | null;
  /** Names of the operator (non-keyed) states in the file. */
  operatorStates: string[];
  /**
   * Incremental checkpoints (level backend): the keyed backend's state is not in `file` but in
   * these files of `<jobId>/shared/`, applied in order (a full file, then deltas). Files are shared
   * by later checkpoints; a savepoint never has any.
   */
  shared?: SharedStateFile[];
}

/** One file of an incremental chain, in `<state.checkpoints.dir>/<jobId>/shared/`. */
export interface SharedStateFile {
  /** File name inside the shared folder. */
  name: string;
  size: number;
  sha256: string;
  /** A delta on top of the files before it (else a full, canonical state file). */
  delta: boolean;
  /** The checkpoint that wrote it. */
  checkpointId: number;
}

/** Folder of a job's incremental files, next to its chk-<n> folders. */
export const SHARED_STATE_DIR = 'shared';

/** Bytes a handle stands for (its file and its whole chain: Flink's full state size). */
export function handleStateSize(h: OperatorSubtaskStateHandle): number {
  let size = h.size;
  for (const f of h.shared ?? []) size += f.size;
  return size;
}

/** Bytes checkpoint `checkpointId` wrote for a handle (its file and the shared files it created). */
export function handleCheckpointedSize(h: OperatorSubtaskStateHandle, checkpointId: number): number {
  let size = h.size;
  for (const f of h.shared ?? []) if (f.checkpointId === checkpointId) size += f.size;
  return size;
}

/** What a task sends with its acknowledgement. */
export interface TaskCheckpointAck {
  jobId: string;
  executionId: string;
  checkpointId: number;
  handles: OperatorSubtaskStateHandle[];
  /** Milliseconds: synchronous part, asynchronous part, barrier alignment. */
  syncDurationMs: number;
  asyncDurationMs: number;
  alignmentDurationMs: number;
  /** Bytes processed during alignment (buffered from held channels). */
  processedDuringAlignment?: number;
  /**
   * Taken after the task reached the end of its input (its operators finished): the state it
   * finishes with, kept for it once it finished while its operator still runs elsewhere.
   */
  endOfInput?: boolean;
}

export interface CheckpointMetadataOperator {
  operatorId: string;
  /** uid, when the user gave one (savepoint upgrades match on it). */
  uid?: string;
  name: string;
  parallelism: number;
  maxParallelism: number;
  subtasks: OperatorSubtaskStateHandle[];
  /**
   * Subtasks that had finished when the checkpoint was taken. While others still run, a finished
   * subtask's handle is the state it finished with (taken after the end of its input), so a restore
   * runs it again from there: it ends at once, and its splits and union list entries are not lost.
   */
  finishedSubtasks?: number[];
  /**
   * Every subtask had finished (Flink's FullyFinishedOperatorState): no handles; a task whose
   * operators all fully finished is not run again on restore.
   */
  fullyFinished?: boolean;
  /**
   * The state of the operator's coordinator in the JobManager (Flink's coordinator state): a source's
   * split enumerator, what it has yet to hand out.
   */
  coordinatorState?: unknown;
}

/** Contents of `_metadata` (JSON). Paths inside are relative, so a savepoint can be moved. */
export interface CheckpointMetadata {
  format: 'weir-checkpoint';
  version: 1;
  jobId: string;
  checkpointId: number;
  /** Trigger time, epoch milliseconds. */
  timestamp: number;
  completedAt: number;
  savepoint: boolean;
  /** The job that wrote it: its name, bundle (sha256) and engine version (absent in older checkpoints). */
  jobName?: string;
  bundleHash?: string;
  engineVersion?: string;
  operators: CheckpointMetadataOperator[];
  /** Sum of the state files' sizes (with every shared file a handle refers to: the full size). */
  stateSize: number;
  /** Bytes this checkpoint wrote (differs from stateSize for incremental checkpoints). */
  checkpointedSize?: number;
}

/** Added to a TaskDeploymentDescriptor when the task starts from a checkpoint. */
export interface TaskRestoreDescriptor {
  checkpointId: number;
  /** Absolute path of the chk-<n> (or savepoint) directory. */
  dir: string;
  /** Per operator id of this task's chain: every subtask's handle of the restored checkpoint. */
  operators: Record<
    string,
    {
      parallelism: number;
      maxParallelism: number;
      subtasks: OperatorSubtaskStateHandle[];
      /**
       * A generator whose snapshot holds its split enumerator's state, restored into a job whose
       * generator reads interleaved indexes (it gained a rate limit): the first index the enumerator
       * had not handed out. The subtasks take those from here on, interleaved.
       */
      unassignedFrom?: number;
    }
  >;
  /**
   * Every operator of this task's chain had fully finished in the checkpoint: the task ends its
   * outputs and finishes at once, without opening its operators or reading its input again (Flink's
   * task deployed as finished).
   */
  finished?: boolean;
}

/**
 * What kind of snapshot a trigger asks for (Flink's CheckpointOptions and SavepointType). It
 * travels with the barrier, so every task knows a stop-with-savepoint when its barrier arrives.
 */
export interface CheckpointOptions {
  savepoint?: boolean;
  /** Stop-with-savepoint: sources stop right after the barrier; tasks end once it completes. */
  stop?: boolean;
  /** With stop: sources emit the maximum watermark first, firing every event-time window and timer. */
  drain?: boolean;
}

/** Per-task settings a TaskManager needs to take part in checkpoints (in the TDD). */
export interface TaskCheckpointSettings {
  /** False when the job takes only savepoints (no execution.checkpointing.interval). */
  periodic: boolean;
  /** Absolute checkpoint directory of this job: <state.checkpoints.dir>/<jobId>. */
  jobDir: string;
  mode: CheckpointingMode;
  /** Keyed state backend type (state.backend). */
  stateBackend: 'heap' | 'level';
  /** state.backend.incremental (level only; unset: the default, true). */
  incremental?: boolean;
  /** Checkpoints after tasks finished (unset: true): past the end of its input the task waits for one to complete. */
  checkpointsAfterTasksFinish?: boolean;
}

/** execution.checkpointing.checkpoints-after-tasks-finish.enabled's default, as Flink's. */
export const DEFAULT_CHECKPOINTS_AFTER_TASKS_FINISH = true;

/** state.backend.incremental's default: measured to pay off for the level backend (README). */
export const DEFAULT_INCREMENTAL_CHECKPOINTS = true;
