// One operation per deployment name at a time: a second apply (or a rollback) waits for the first,
// for a bounded time, then is refused with what holds the name. This is what keeps two terminals
// running `weir apply` at once from ever starting two jobs for one name.
import { RequestError } from '../dispatcher.js';

interface Holder {
  what: string;
  since: number;
  done: Promise<void>;
}

export class NameLocks {
  private readonly held = new Map<string, Holder>();

  /** Resolves with a release function once `name` is free; a 409 RequestError after `timeoutMs`. */
  async acquire(name: string, what: string, timeoutMs: number): Promise<() => void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const holder = this.held.get(name);
      if (!holder) break;
      const left = deadline - Date.now();
      const freed = await Promise.race([
        holder.done.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, left)).unref()),
      ]);
      if (!freed && this.held.get(name) === holder) {
        throw new RequestError(
          `deployment ${name} is busy: ${holder.what} has been running for ${Math.round((Date.now() - holder.since) / 1000)} s (started ${new Date(holder.since).toISOString()}); waited ${Math.round(timeoutMs / 1000)} s (deployment.apply.lock-timeout). Try again once it is done (weir get deployments ${name}).`,
          409,
        );
      }
    }
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    const holder: Holder = { what, since: Date.now(), done };
    this.held.set(name, holder);
    return () => {
      if (this.held.get(name) === holder) this.held.delete(name);
      release();
    };
  }

  isHeld(name: string): boolean {
    return this.held.has(name);
  }
}
