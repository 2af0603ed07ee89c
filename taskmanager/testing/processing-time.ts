// Flink's TestProcessingTimeService: processing time that moves only when the test moves it.
// Callbacks due by then (processing-time timers, windows, periodic watermarks) run in time order,
// as the task's mailbox would run them.
import type { ProcessingTimeService } from '../runtime/timer-service.js';

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  live: boolean;
}

export class TestProcessingTimeService implements ProcessingTimeService {
  private time: number;
  private seq = 0;
  private scheduled: Scheduled[] = [];
  private shutDown = false;

  constructor(initialTime = 0) {
    this.time = initialTime;
  }

  now(): number {
    return this.time;
  }

  schedule(at: number, fn: () => void): () => void {
    const s: Scheduled = { at, seq: this.seq++, fn, live: !this.shutDown };
    if (s.live) this.scheduled.push(s);
    return () => {
      s.live = false;
    };
  }

  /** Moves time to `time` and runs every callback due by then, earliest first (also those they schedule). */
  setCurrentTime(time: number): void {
    if (typeof time !== 'number' || !Number.isFinite(time))
      throw new TypeError(`processing time must be a finite number, got ${String(time)}`);
    if (time < this.time) throw new RangeError(`processing time cannot go back (from ${this.time} to ${time})`);
    this.time = time;
    for (;;) {
      let due: Scheduled | undefined;
      for (const s of this.scheduled) {
        if (!s.live || s.at > time) continue;
        if (due === undefined || s.at < due.at || (s.at === due.at && s.seq < due.seq)) due = s;
      }
      if (due === undefined) break;
      due.live = false;
      this.scheduled = this.scheduled.filter((s) => s.live);
      due.fn();
    }
    this.scheduled = this.scheduled.filter((s) => s.live);
  }

  /** Callbacks still waiting for their time. */
  numScheduled(): number {
    return this.scheduled.filter((s) => s.live).length;
  }

  /** The operators closed: nothing fires any more. */
  shutdown(): void {
    this.shutDown = true;
    for (const s of this.scheduled) s.live = false;
    this.scheduled = [];
  }
}
