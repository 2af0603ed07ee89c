// What a task loop sleeps on while it waits (for credit, input, a rate limiter's pause, a
// stop-with-savepoint's outcome): one promise per sleep, settled by the next signal() from whatever
// event comes first (mail, a checkpoint action, cancellation, the promise waited for). A sleep thus
// leaves nothing behind. Promise.race against a promise that outlives the wait does: each race adds
// a reaction to it (and through it keeps the race's promise and closures) until that promise
// settles, which for a task's cancellation is never while the task runs.
export class WakeSignal {
  private promise: Promise<void> | undefined;
  private resolve: (() => void) | undefined;

  /** Resolves at the next signal(). Check the conditions signal() stands for before sleeping. */
  wait(): Promise<void> {
    return (this.promise ??= new Promise<void>((r) => (this.resolve = r)));
  }

  /** Wakes the current sleeper, if any; the next wait() sleeps anew. */
  signal(): void {
    const r = this.resolve;
    this.promise = undefined;
    this.resolve = undefined;
    r?.();
  }
}
