// A checkpoint that was triggered and waits for its tasks' acknowledgements (Flink's PendingCheckpoint).
import type { TaskCheckpointAck } from '../../common/checkpoint.js';
import type { CheckpointRecord } from './checkpoint-stats.js';
import type { TriggerOptions } from './checkpoint-coordinator.js';

/** The operators one subtask runs: what `_metadata` records as finished once the subtask finished. */
export interface SubtaskOperators {
  subtaskIndex: number;
  operatorIds: string[];
  /** The task attempt, whose end-of-input state the coordinator may keep. */
  executionId?: string;
}

/** One task attempt taking part in checkpoints. */
export interface TaskRef {
  executionId: string;
  taskManagerId: string;
  taskName: string;
  /** Its chain, for a task that may finish while the checkpoint is pending. */
  chain?: SubtaskOperators;
}

/** What a completed checkpoint's trigger resolves with. */
export interface CompletedCheckpointInfo {
  checkpointId: number;
  savepoint: boolean;
  /** Trigger time, epoch milliseconds. */
  timestamp: number;
  completedAt: number;
  /** The chk-<n> directory holding `_metadata`. */
  dir: string;
  stateSize: number;
}

export type AckResult = 'accepted' | 'duplicate' | 'unknown-task';

export class PendingCheckpoint {
  readonly acks = new Map<string, TaskCheckpointAck>();
  private readonly waiting: Map<string, TaskRef>;
  readonly tasks: TaskRef[];
  /** Subtasks recorded as finished: those finished at the trigger and those that finished since. */
  readonly finished: SubtaskOperators[];
  /** All acknowledged; `_metadata` is being written. */
  finalizing = false;
  /** Completed or aborted: nothing may change it any more. */
  disposed = false;
  timer: NodeJS.Timeout | undefined;
  /** The operator coordinators' states by operator id, taken as the triggers were sent. */
  coordinatorStates: Record<string, unknown> = {};
  readonly promise: Promise<CompletedCheckpointInfo>;
  resolve!: (info: CompletedCheckpointInfo) => void;
  reject!: (err: Error) => void;

  constructor(
    readonly id: number,
    readonly timestamp: number,
    readonly savepoint: boolean,
    ackFrom: TaskRef[],
    readonly record: CheckpointRecord,
    readonly options: TriggerOptions = {},
    finished: SubtaskOperators[] = [],
  ) {
    this.tasks = [...ackFrom];
    this.finished = [...finished];
    this.waiting = new Map(ackFrom.map((t) => [t.executionId, t]));
    this.promise = new Promise<CompletedCheckpointInfo>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  isWaitingFor(executionId: string): boolean {
    return this.waiting.has(executionId);
  }

  task(executionId: string): TaskRef | undefined {
    return this.tasks.find((t) => t.executionId === executionId);
  }

  get fullyAcknowledged(): boolean {
    return this.waiting.size === 0;
  }

  acknowledge(ack: TaskCheckpointAck): AckResult {
    if (this.acks.has(ack.executionId)) return 'duplicate';
    if (!this.waiting.delete(ack.executionId)) return 'unknown-task';
    this.acks.set(ack.executionId, ack);
    return 'accepted';
  }

  /**
   * A task it waits for finished instead of acknowledging: it had consumed all its input and sent
   * all its output (downstream tasks keep aligning on its channels until they end), so it stands in
   * this checkpoint as finished, with no state.
   */
  acknowledgeFinished(executionId: string): AckResult {
    const t = this.waiting.get(executionId);
    if (!t) return this.acks.has(executionId) ? 'duplicate' : 'unknown-task';
    this.waiting.delete(executionId);
    if (t.chain) this.finished.push(t.chain);
    return 'accepted';
  }
}
