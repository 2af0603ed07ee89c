// Readers for the built-in sources. Each subtask reads its own split; the position is one number,
// which is what a checkpoint will store and a restore rewinds to.
import type { OperatorDescriptor } from '../../common/jobgraph.js';
import { UserCodeError, type Output, type TaskServices } from '../operators/operator.js';

export interface SourceReader {
  /** Emits up to `max` records into `out`; returns how many it emitted. */
  emitBatch(max: number, out: Output): number;
  readonly finished: boolean;
  /** This subtask's share of the source's rate limit, records per second (undefined: unlimited). */
  readonly ratePerSecond: number | undefined;
  /** Position to resume from. */
  snapshotPosition(): number;
  restorePosition(position: number): void;
}

/** The contiguous share [start, end) of `total` items that subtask `index` of `parallelism` reads. */
export function splitRange(total: number, index: number, parallelism: number): { start: number; end: number } {
  return { start: Math.floor((index * total) / parallelism), end: Math.floor(((index + 1) * total) / parallelism) };
}

/** Reads positions start, start+stride, ... below end, mapping each through `produce`. */
class IndexedReader implements SourceReader {
  private next: number;

  constructor(
    private readonly start: number,
    private readonly end: number,
    private readonly stride: number,
    private readonly produce: (index: number) => unknown,
    readonly ratePerSecond: number | undefined,
    private readonly services: TaskServices,
    private readonly operatorName: string,
  ) {
    this.next = start;
  }

  get finished(): boolean {
    return this.next >= this.end;
  }

  emitBatch(max: number, out: Output): number {
    const s = this.services;
    let n = 0;
    // One try around the batch, not one per record: errors of chained operators arrive tagged
    // already; anything else came from the generator itself.
    try {
      while (n < max && this.next < this.end) {
        const v = this.produce(this.next);
        this.next += this.stride;
        n++;
        out.collect(v, undefined);
        // An async sink in the chain asked to wait: stop the batch here.
        if (s.pending !== undefined) break;
      }
    } catch (e) {
      throw e instanceof UserCodeError ? e : new UserCodeError(this.operatorName, e);
    }
    return n;
  }

  snapshotPosition(): number {
    return this.next;
  }

  restorePosition(position: number): void {
    if (position < this.start || (position - this.start) % this.stride !== 0) throw new Error(`invalid source position ${position}`);
    this.next = position;
  }
}

export function createSourceReader(op: OperatorDescriptor, source: unknown, services: TaskServices, operatorName: string): SourceReader {
  const cfg = op.config as { sourceKind?: string };
  const { subtaskIndex: i, parallelism: p } = services;
  switch (cfg.sourceKind) {
    case 'sequence': {
      const s = source as { from: number; to: number };
      const { start, end } = splitRange(s.to - s.from + 1, i, p);
      return new IndexedReader(start, end, 1, (k) => s.from + k, undefined, services, operatorName);
    }
    case 'elements': {
      const s = source as { items: readonly unknown[] };
      const { start, end } = splitRange(s.items.length, i, p);
      return new IndexedReader(start, end, 1, (k) => s.items[k], undefined, services, operatorName);
    }
    case 'datagen': {
      const s = source as { generatorFunction: (index: number) => unknown; count: number; ratePerSecond?: number };
      const rate = s.ratePerSecond === undefined ? undefined : s.ratePerSecond / p;
      const gen = s.generatorFunction;
      if (s.count === Infinity) return new IndexedReader(i, Infinity, p, gen, rate, services, operatorName);
      const { start, end } = splitRange(s.count, i, p);
      return new IndexedReader(start, end, 1, gen, rate, services, operatorName);
    }
    default:
      throw new Error(`unknown source kind '${String(cfg.sourceKind)}' of operator '${operatorName}'`);
  }
}
