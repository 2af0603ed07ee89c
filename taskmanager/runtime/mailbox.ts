// The task's mailbox (as in Flink's MailboxProcessor): actions from outside the record path
// (processing-time timers, periodic watermarks) are queued here and run by the task loop between
// records, so operator code never runs concurrently with itself.
import type { ProcessingTimeService } from './timer-service.js';

export class Mailbox {
  private mails: (() => void)[] = [];
  private closed = false;
  /** Called when a mail is queued: wakes the task loop if it waits. */
  onMail: (() => void) | undefined;

  get size(): number {
    return this.mails.length;
  }

  put(mail: () => void): void {
    if (this.closed) return;
    this.mails.push(mail);
    this.onMail?.();
  }

  /** Runs every queued mail (and mails they queue) in order. */
  runAll(): void {
    while (this.mails.length > 0) {
      const batch = this.mails;
      this.mails = [];
      for (const m of batch) m();
    }
  }

  close(): void {
    this.closed = true;
    this.mails = [];
  }
}

/** Wall-clock processing time whose callbacks run through the task's mailbox. */
export class MailboxProcessingTimeService implements ProcessingTimeService {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly mailbox: Mailbox) {}

  now(): number {
    return Date.now();
  }

  schedule(time: number, fn: () => void): () => void {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        this.mailbox.put(fn);
      },
      Math.max(0, time - Date.now()),
    );
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }

  /** Cancels everything still scheduled (task end). */
  shutdown(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
