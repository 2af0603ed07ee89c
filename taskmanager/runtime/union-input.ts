// Several input gates (a union of edges, later two inputs) read as one: fair round robin over
// gates, each item tagged with the gate it came from.
import type { BufferOrEvent, InputGate } from '../network/types.js';

export class UnionInput {
  private next = 0;

  constructor(readonly gates: InputGate[]) {}

  /** Index of the gate the last polled item came from. */
  lastGate = 0;

  pollNext(): BufferOrEvent | undefined {
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

  getAvailableFuture(): Promise<void> {
    const open = this.gates.filter((g) => !g.isFinished());
    if (open.length === 1) return open[0]!.getAvailableFuture();
    return Promise.race(open.map((g) => g.getAvailableFuture()));
  }

  close(): void {
    for (const g of this.gates) g.close();
  }
}
