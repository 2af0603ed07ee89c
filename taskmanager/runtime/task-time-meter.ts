// Where a task's time goes, as Flink's TaskIOMetricGroup reports it: idleTimeMsPerSecond (waiting
// for input), backPressuredTimeMsPerSecond (waiting for output buffers, credit) and
// busyTimeMsPerSecond (the rest: records, timers, actions, a source emitting). Waits are timed where
// the task loop sleeps; busy time is what is left of the wall clock, as in Flink, so the three add
// up to 1000 for a running task.

export type TaskWait = 'idle' | 'backPressured';

export interface TaskTimeRates {
  busyTimeMsPerSecond: number;
  idleTimeMsPerSecond: number;
  backPressuredTimeMsPerSecond: number;
}

export interface TaskTimeTotals {
  busyMs: number;
  idleMs: number;
  backPressuredMs: number;
}

/** Flink's metric views (MeterView, TimerGauge) cover the last 5 s (View.UPDATE_INTERVAL_SECONDS). */
export const TASK_TIME_WINDOW_MS = 5000;

interface Sample {
  t: number;
  idle: number;
  bp: number;
}

export class TaskTimeMeter {
  private idleMs = 0;
  private bpMs = 0;
  private waiting: TaskWait | undefined;
  private waitStart = 0;
  private readonly started: number;
  /** Cumulative totals at past reads, oldest first; one at or before the window's start is kept as its base. */
  private readonly samples: Sample[];

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly windowMs = TASK_TIME_WINDOW_MS,
  ) {
    this.started = now();
    this.samples = [{ t: this.started, idle: 0, bp: 0 }];
  }

  /** The task loop is about to sleep for `kind`; a wait already open ends first. */
  startWait(kind: TaskWait): void {
    if (this.waiting) this.endWait();
    this.waiting = kind;
    this.waitStart = this.now();
  }

  /** The sleep ended; returns how long it lasted (0 when none was open). */
  endWait(): number {
    const kind = this.waiting;
    if (!kind) return 0;
    const d = Math.max(0, this.now() - this.waitStart);
    if (kind === 'idle') this.idleMs += d;
    else this.bpMs += d;
    this.waiting = undefined;
    return d;
  }

  /** Time since the meter started, split by where it went (an open wait counts up to now). */
  totals(): TaskTimeTotals {
    const s = this.current(this.now());
    return { idleMs: s.idle, backPressuredMs: s.bp, busyMs: Math.max(0, s.t - this.started - s.idle - s.bp) };
  }

  /**
   * The three rates over the last `windowMs` (over the task's life while it is younger). Every read
   * records the totals, so a reader at a steady pace (the slot's metrics report) keeps the window moving.
   */
  rates(): TaskTimeRates {
    const cur = this.current(this.now());
    const last = this.samples.at(-1)!;
    if (cur.t > last.t) this.samples.push(cur);
    // Keep exactly one sample at or before the window's start: the base of the rate.
    while (this.samples.length > 2 && this.samples[1]!.t <= cur.t - this.windowMs) this.samples.shift();
    const base = this.samples[0]!;
    const span = cur.t - base.t;
    if (span <= 0) return { busyTimeMsPerSecond: 0, idleTimeMsPerSecond: 0, backPressuredTimeMsPerSecond: 0 };
    const per = (ms: number) => Math.min(1000, Math.max(0, Math.round((ms * 1000) / span)));
    const idle = per(cur.idle - base.idle);
    const bp = Math.min(1000 - idle, per(cur.bp - base.bp));
    return { busyTimeMsPerSecond: 1000 - idle - bp, idleTimeMsPerSecond: idle, backPressuredTimeMsPerSecond: bp };
  }

  private current(t: number): Sample {
    const open = this.waiting ? Math.max(0, t - this.waitStart) : 0;
    return {
      t,
      idle: this.idleMs + (this.waiting === 'idle' ? open : 0),
      bp: this.bpMs + (this.waiting === 'backPressured' ? open : 0),
    };
  }
}
