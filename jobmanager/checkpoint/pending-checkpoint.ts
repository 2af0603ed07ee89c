// A checkpoint that was triggered and waits for its tasks' acknowledgements (Flink's PendingCheckpoint).
import type { TaskCheckpointAck } from '../../common/checkpoint.js';
import type { CheckpointRecord } from './checkpoint-stats.js';
import type { TriggerOptions } from './checkpoint-coordinator.js';

/** One task attempt taking part in checkpoints. */
export interface TaskRef {
  executionId: string;
  taskManagerId: string;
  taskName: string;
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
  /** All acknowledged; `_metadata` is being written. */
  finalizing = false;
  /** Completed or aborted: nothing may change it any more. */
  disposed = false;
  timer: NodeJS.Timeout | undefined;
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
  ) {
    this.tasks = [...ackFrom];
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
}
