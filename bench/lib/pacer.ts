// Paces an endless DataGeneratorSource by a schedule, with catch-up. It is a sink chained to the
// source: after record i it holds the source (through the task's backpressure on async sinks)
// until the subtask's next record, i + parallelism, is due. A source behind its schedule emits as
// fast as it can, as a consumer reading a backlog does: after a failover rewinds it to a
// checkpoint, the replayed records carry their original creation times and the lag shows the
// backlog draining. RateLimiterStrategy instead restarts its clock on every (re)start, so a
// backlog would never drain.
import { RichSinkFunction, type RuntimeContext } from 'weir';

export interface PaceSchedule {
  /** Records 0 .. freeRecords-1 are not paced (a fill phase). */
  freeRecords: number;
  /** Records per second over all subtasks from record freeRecords on. */
  ratePerSecond: number;
  /**
   * Epoch ms at which record freeRecords is due, the same after every restart; undefined: when
   * each subtask reaches it (the clock then restarts with the subtask).
   */
  startAt?: number;
}

/** Epoch ms at which record `index` is due; -Infinity in the free part. */
export function dueAt(index: number, schedule: PaceSchedule, startAt: number): number {
  return index < schedule.freeRecords
    ? -Infinity
    : startAt + ((index - schedule.freeRecords) * 1000) / schedule.ratePerSecond;
}

export class Pacer<T> extends RichSinkFunction<T> {
  private stride = 1;
  private startAt: number | undefined;

  constructor(
    private readonly indexOf: (record: T) => number,
    private readonly schedule: PaceSchedule,
  ) {
    super();
  }

  override open(ctx: RuntimeContext): void {
    // An endless DataGeneratorSource gives subtask k the indexes k, k + p, k + 2p, ...
    this.stride = ctx.getNumberOfParallelSubtasks();
    this.startAt = this.schedule.startAt;
  }

  invoke(record: T): Promise<void> | void {
    const next = this.indexOf(record) + this.stride;
    if (next < this.schedule.freeRecords) return;
    this.startAt ??= Date.now();
    const wait = dueAt(next, this.schedule, this.startAt) - Date.now();
    if (wait >= 1) return new Promise((resolve) => setTimeout(resolve, wait));
  }
}
