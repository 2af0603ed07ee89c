// The ExecutionGraph: one Execution per (vertex, subtask, attempt), with Flink's state names and
// per-state timestamps, plus the job-level status history the REST API reports.
import { randomBytes } from 'node:crypto';
import type { TaskMetrics } from '../common/control.js';
import type { JobGraph, JobVertex } from '../common/jobgraph.js';
import {
  aggregateExecutionState,
  executionTransition,
  isExecutionTerminal,
  jobTransition,
  type ExecutionState,
  type JobStatus,
  type RefusedTransition,
} from '../common/states.js';

/** A subtask's counters as its TaskManager last reported them. */
export type ExecutionMetrics = Omit<TaskMetrics, 'executionId'>;

export class Execution {
  state: ExecutionState = 'CREATED';
  readonly timestamps: Partial<Record<ExecutionState, number>> = { CREATED: Date.now() };
  taskManagerId: string | undefined;
  taskManagerAddress: string | undefined;
  slotIndex: number | undefined;
  /** host:port of the data server of the slot's thread (producers are read there). */
  dataAddress: string | undefined;
  failureCause: string | undefined;
  metrics: ExecutionMetrics = {
    recordsIn: 0,
    recordsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    backPressuredMs: 0,
    sourceRecords: 0,
    sinkRecords: 0,
    watermark: Number.MIN_SAFE_INTEGER,
    stateEntries: 0,
    sinkLagP50: -1,
    sinkLagP99: -1,
    busyTimeMsPerSecond: 0,
    idleTimeMsPerSecond: 0,
    backPressuredTimeMsPerSecond: 0,
    accumulatedBusyMs: 0,
    accumulatedIdleMs: 0,
  };

  constructor(
    readonly executionId: string,
    readonly vertex: JobVertex,
    readonly subtaskIndex: number,
    readonly attempt: number,
    private readonly refused: RefusedTransition = () => undefined,
  ) {}

  /** Moves to `next` if Flink's rules allow it (EXECUTION_TRANSITIONS); returns whether the state changed. */
  transition(next: ExecutionState): boolean {
    const outcome = executionTransition(this.state, next);
    if (outcome === 'refused') this.refused(this.taskName, this.state, next);
    if (outcome !== 'moved') return false;
    this.state = next;
    this.timestamps[next] = Date.now();
    return true;
  }

  get terminal(): boolean {
    return isExecutionTerminal(this.state);
  }

  /** "Map -> Sink (2/4)#0", Flink's task name with attempt. */
  get taskName(): string {
    return `${this.vertex.name} (${this.subtaskIndex + 1}/${this.vertex.parallelism})#${this.attempt}`;
  }
}

export interface ExceptionEntry {
  exceptionName: string;
  stacktrace: string;
  timestamp: number;
  taskName: string | null;
  location: string | null;
  taskManagerId: string | null;
}

/** Flink's default web.exception-history-size. */
export const DEFAULT_EXCEPTION_HISTORY_SIZE = 16;

/**
 * The job's failures, oldest first, bounded by web.exception-history-size: past the bound, push()
 * drops the oldest (the latest, the root cause, always stays). An Array, so readers use it as one.
 */
export class ExceptionHistory extends Array<ExceptionEntry> {
  // map, filter, slice and friends return plain arrays.
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  /** Entries dropped so far to stay within maxSize. */
  dropped = 0;

  constructor(readonly maxSize: number = DEFAULT_EXCEPTION_HISTORY_SIZE) {
    super();
    if (!Number.isInteger(maxSize) || maxSize < 1)
      throw new Error(`web.exception-history-size must be a positive integer, got ${maxSize}`);
  }

  override push(...entries: ExceptionEntry[]): number {
    super.push(...entries);
    const over = this.length - this.maxSize;
    if (over > 0) {
      this.splice(0, over);
      this.dropped += over;
    }
    return this.length;
  }
}

export class ExecutionGraph {
  status: JobStatus = 'CREATED';
  readonly statusTimestamps: Partial<Record<JobStatus, number>>;
  /** executions[vertexIndex][subtaskIndex] for the current attempt. */
  executions: Execution[][];
  /** Attempt number of the current executions (0, then one more per restart). */
  attempt = 0;
  /** Failures, oldest first, at most web.exception-history-size of them. */
  readonly exceptionHistory: ExceptionHistory;
  endTime = -1;
  /**
   * Part of every execution id: a JobManager that takes a job over (high availability) starts again
   * at attempt 0, and reports from the old JobManager's tasks must not match the new ones.
   */
  private readonly incarnation = randomBytes(3).toString('hex');

  constructor(
    readonly jobId: string,
    readonly jobGraph: JobGraph,
    readonly startTime: number,
    exceptionHistorySize = DEFAULT_EXCEPTION_HISTORY_SIZE,
    /** Told of every move the state tables refuse, of the job or of an execution. */
    private readonly refused: RefusedTransition = () => undefined,
  ) {
    this.exceptionHistory = new ExceptionHistory(exceptionHistorySize);
    this.statusTimestamps = { INITIALIZING: startTime, CREATED: startTime };
    this.executions = this.createExecutions(0);
  }

  /** New executions for every subtask (a restart); reports from the old attempt no longer match. */
  newAttempt(): void {
    this.attempt++;
    this.executions = this.createExecutions(this.attempt);
  }

  private createExecutions(attempt: number): Execution[][] {
    return this.jobGraph.vertices.map((v, vi) =>
      Array.from(
        { length: v.parallelism },
        (_, i) => new Execution(`${this.jobId}_${vi}_${i}_${attempt}_${this.incarnation}`, v, i, attempt, this.refused),
      ),
    );
  }

  /** Moves the job to `next` if Flink's rules allow it (JOB_TRANSITIONS); returns whether it changed. */
  transition(next: JobStatus): boolean {
    const outcome = jobTransition(this.status, next);
    if (outcome === 'refused') this.refused(`job ${this.jobId}`, this.status, next);
    if (outcome !== 'moved') return false;
    this.status = next;
    const now = Date.now();
    this.statusTimestamps[next] = now;
    if (next === 'FINISHED' || next === 'FAILED' || next === 'CANCELED') this.endTime = now;
    return true;
  }

  allExecutions(): Execution[] {
    return this.executions.flat();
  }

  findExecution(executionId: string): Execution | undefined {
    for (const row of this.executions) for (const e of row) if (e.executionId === executionId) return e;
    return undefined;
  }

  /** Flink's vertex state: see aggregateExecutionState. */
  static aggregateState(execs: Execution[]): ExecutionState {
    return aggregateExecutionState(execs.map((e) => e.state));
  }
}
