// Several input gates (a union of edges, later two inputs) read as one: fair round robin over
// gates, each item tagged with the gate it came from.
import type { BufferOrEvent, InputGate } from '../network/types.js';

export class UnionInput {
  private next = 0;

  constructor(readonly gates: InputGate[]) {}

  /** Index of the gate the last polled item came from. */
  lastGate = 0;

  pollNext(): BufferOrEvent | undefined {
    const next = this.pollGates();
    if (next !== undefined) return next;
    // Nothing ready, so the task would sleep: a busy slot thread's event loop delivers other slot
    // threads' buffers only between time slices, so take those that already arrived first.
    let arrived = false;
    for (const g of this.gates) if (g.receivePending?.()) arrived = true;
    return arrived ? this.pollGates() : undefined;
  }

  private pollGates(): BufferOrEvent | undefined {
    const n = this.gates.length;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      const boe = this.gates[i]!.pollNext();
      if (boe !== undefined) {
        this.lastGate = i;
        this.next = (i + 1) % n;
        return boe;
      }
    }
    return undefined;
  }

  isFinished(): boolean {
    return this.gates.every((g) => g.isFinished());
  }

  /** Each gate's availability future this union already listens to (at most one reaction each). */
  private readonly watched: (Promise<void> | undefined)[] = [];
  private waiter: { promise: Promise<void>; resolve: () => void } | undefined;

  /**
   * Resolves when any open gate may have data. Not Promise.race over the gates' futures: a gate
   * that stays empty keeps the same pending future, and every race would add a reaction to it
   * that lives until that gate gets data, which an idle input may never.
   */
  getAvailableFuture(): Promise<void> {
    const open = this.gates.filter((g) => !g.isFinished());
    if (open.length === 1) return open[0]!.getAvailableFuture();
    let waiter = this.waiter;
    if (!waiter) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      waiter = this.waiter = { promise, resolve };
    }
    for (const [i, g] of this.gates.entries()) {
      if (g.isFinished()) continue;
      const f = g.getAvailableFuture();
      if (this.watched[i] === f) continue;
      this.watched[i] = f;
      const wake = () => {
        if (this.watched[i] === f) this.watched[i] = undefined;
        const w = this.waiter;
        this.waiter = undefined;
        w?.resolve();
      };
      // A failed gate shows its error at the next pollNext().
      f.then(wake, wake);
    }
    return waiter.promise;
  }

  close(): void {
    for (const g of this.gates) g.close();
  }
}
