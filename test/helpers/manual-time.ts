import type { ProcessingTimeService } from '../../taskmanager/runtime/timer-service.js';

/** Processing time that moves only when the test says; due callbacks run in time order, as the mailbox would. */
export class ManualTime implements ProcessingTimeService {
  time = 0;
  private tasks: { at: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.time;
  }

  schedule(at: number, fn: () => void): () => void {
    const t = { at, fn, live: true };
    this.tasks.push(t);
    return () => (t.live = false);
  }

  advance(to: number): void {
    this.time = to;
    for (;;) {
      const due = this.tasks.filter((t) => t.live && t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      due.fn();
    }
    this.tasks = this.tasks.filter((t) => t.live);
  }
}
