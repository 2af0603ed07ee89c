// Readers for the built-in sources. Each subtask reads its own splits; their positions are the
// source's operator state, what a checkpoint stores and a restore rewinds to.
import type { OperatorDescriptor } from '../../common/jobgraph.js';
import { UserCodeError, type Output, type TaskServices } from '../operators/operator.js';
import { createFileSourceReader } from './file-source-reader.js';
import { createKafkaSourceReader } from './kafka/kafka-source-reader.js';
import { SourceFunctionReader } from './source-function-reader.js';
import type { SourceFunction } from '../../api/source-function.js';
import type { SplitOutput } from '../runtime/split-watermarks.js';
import type { SourceSplits } from '../../common/control.js';
import { initialSplit, splitsOnRequest } from '../../common/generator-splits.js';
import { RequestedSplitsReader, type SplitHolder, type SplitRequester } from './split-requests.js';

export interface SourceReader {
  /** Emits up to `max` records into `out`; returns how many it emitted. */
  emitBatch(max: number, out: Output): number;
  readonly finished: boolean;
  /** This subtask's share of the source's rate limit, records per second (undefined: unlimited). */
  readonly ratePerSecond: number | undefined;
  /**
   * The splits this reader still has to read, each with its position: the source's operator state
   * (plain data, redistributed evenly over the subtasks when the parallelism changes).
   */
  snapshotSplits(checkpointId?: number): unknown[];
  /** Replaces the reader's splits by restored ones (any number, from any former subtask). */
  restoreSplits(splits: unknown[]): void;
  /**
   * Union list state instead of split state: every subtask gets all restored splits and keeps its
   * own (Kafka partitions belong to the subtask the assignment formula names).
   */
  readonly unionSplitState?: boolean;
  /** Connects and positions the reader, after restoreSplits and before the first batch. */
  start?(splitOutput: SplitOutput): Promise<void>;
  /** Settles when emitBatch may emit again (asked after it emitted nothing while not finished). */
  available?(): Promise<void>;
  /** Readers with splits of their own write records through the SplitOutput given to start(), not `out`. */
  readonly perSplitOutput?: boolean;
  /** The reader emits watermarks into `out` itself (a SourceFunction's emitWatermark). */
  readonly emitsWatermarks?: boolean;
  notifyCheckpointComplete?(checkpointId: number): void;
  /**
   * A generator reading interleaved indexes, restored from a snapshot of one that handed out ranges
   * on request: the indexes from `from` on were not handed out, and this subtask takes its share.
   */
  restoreUnassigned?(from: number): void;
  /** Splits the source's enumerator handed to this subtask, in answer to a request (see SplitRequester). */
  addSplits?(splits: SourceSplits): void;
  /** Metrics of the connector by Flink's names (records-lag-max, pendingRecords). */
  metrics?(): Record<string, number>;
  close?(): Promise<void>;
}

/** The contiguous share [start, end) of `total` items that subtask `index` of `parallelism` reads. */
export function splitRange(total: number, index: number, parallelism: number): { start: number; end: number } {
  return { start: Math.floor((index * total) / parallelism), end: Math.floor(((index + 1) * total) / parallelism) };
}

/** A range of indexes read with a stride; `next` is the position to resume from. */
export interface IndexSplit {
  next: number;
  end: number;
  stride: number;
}

function isIndexSplit(v: unknown): v is IndexSplit {
  const s = v as IndexSplit;
  return (
    !!s &&
    typeof s === 'object' &&
    typeof s.next === 'number' &&
    (typeof s.end === 'number' || s.end === null) &&
    typeof s.stride === 'number' &&
    s.stride > 0
  );
}

/** Reads its splits one after the other, mapping each index through `produce`. */
class IndexedReader implements SplitHolder {
  protected splits: IndexSplit[];

  constructor(
    split: IndexSplit,
    private readonly produce: (index: number) => unknown,
    readonly ratePerSecond: number | undefined,
    private readonly services: TaskServices,
    private readonly operatorName: string,
  ) {
    this.splits = split.next < split.end ? [split] : [];
  }

  get finished(): boolean {
    return this.splits.length === 0;
  }

  get held(): number {
    return this.splits.length;
  }

  take(splits: SourceSplits): void {
    for (const r of splits.ranges) if (r.start < r.end) this.splits.push({ next: r.start, end: r.end, stride: 1 });
  }

  emitBatch(max: number, out: Output): number {
    const s = this.services;
    let n = 0;
    // One try around the batch, not one per record: errors of chained operators arrive tagged
    // already; anything else came from the generator itself.
    try {
      while (n < max && this.splits.length > 0) {
        const split = this.splits[0]!;
        if (split.next >= split.end) {
          this.splits.shift();
          continue;
        }
        const v = this.produce(split.next);
        split.next += split.stride;
        n++;
        out.collect(v, undefined);
        if (split.next >= split.end) this.splits.shift();
        // An async sink in the chain asked to wait: stop the batch here.
        if (s.pending !== undefined) break;
      }
    } catch (e) {
      throw e instanceof UserCodeError ? e : new UserCodeError(this.operatorName, e);
    }
    return n;
  }

  snapshotSplits(): unknown[] {
    // Infinity is not msgpack/JSON friendly: an endless split is stored with end null.
    return this.splits.map((x) => ({ next: x.next, end: Number.isFinite(x.end) ? x.end : null, stride: x.stride }));
  }

  restoreSplits(splits: unknown[]): void {
    const restored: IndexSplit[] = [];
    for (const v of splits) {
      if (!isIndexSplit(v))
        throw new Error(
          `operator '${this.operatorName}': restored source split ${JSON.stringify(v)} is not a sequence split`,
        );
      restored.push({ next: v.next, end: v.end === null ? Infinity : v.end, stride: v.stride });
    }
    this.splits = restored.filter((x) => x.next < x.end);
  }
}

/** A rate-limited, endless or lone generator: subtask i of p generates the indexes i, i + p, ... */
class InterleavedReader extends IndexedReader {
  constructor(
    private readonly index: number,
    private readonly parallelism: number,
    private readonly count: number,
    produce: (index: number) => unknown,
    ratePerSecond: number | undefined,
    services: TaskServices,
    operatorName: string,
  ) {
    super({ next: index, end: count, stride: parallelism }, produce, ratePerSecond, services, operatorName);
  }

  restoreUnassigned(from: number): void {
    const p = this.parallelism;
    const first = from + ((((this.index - from) % p) + p) % p);
    if (first < this.count) this.splits.push({ next: first, end: this.count, stride: p });
  }
}

/** `requester`: the way to the source's enumerator (absent where no JobManager runs, as in unit tests). */
export function createSourceReader(
  op: OperatorDescriptor,
  source: unknown,
  services: TaskServices,
  operatorName: string,
  requester?: SplitRequester,
): SourceReader {
  if (op.kind !== 'source') throw new Error(`operator '${operatorName}' is a ${op.kind}, not a source`);
  const { subtaskIndex: i, parallelism: p } = services;
  switch (op.config.sourceKind) {
    case 'sequence': {
      const s = source as { from: number; to: number };
      const { start, end } = splitRange(s.to - s.from + 1, i, p);
      return new IndexedReader({ next: start, end, stride: 1 }, (k) => s.from + k, undefined, services, operatorName);
    }
    case 'elements': {
      const s = source as { items: readonly unknown[] };
      const { start, end } = splitRange(s.items.length, i, p);
      return new IndexedReader({ next: start, end, stride: 1 }, (k) => s.items[k], undefined, services, operatorName);
    }
    case 'datagen': {
      const s = source as { generatorFunction: (index: number) => unknown; count: number; ratePerSecond?: number };
      if (requester && splitsOnRequest(s.count, s.ratePerSecond, p)) {
        const { start, end } = initialSplit(s.count, p, i);
        return new RequestedSplitsReader(
          new IndexedReader({ next: start, end, stride: 1 }, s.generatorFunction, undefined, services, operatorName),
          requester,
        );
      }
      const rate = s.ratePerSecond === undefined ? undefined : s.ratePerSecond / p;
      // Rate-limited, endless or alone: interleaved, subtask i generates indexes i, i + p, ... Generators derive
      // event time from the index, so contiguous ranges would put the subtasks' event times count / p
      // apart: the slowest watermark would hold every later window's state until the end.
      return new InterleavedReader(i, p, s.count, s.generatorFunction, rate, services, operatorName);
    }
    case 'file':
      return createFileSourceReader(source, services, operatorName, requester);
    case 'kafka':
      return createKafkaSourceReader(source, services, operatorName);
    case 'function':
      return new SourceFunctionReader(source as SourceFunction<unknown>, services, operatorName);
    default:
      throw new Error(
        `unknown source kind '${String((op.config as { sourceKind?: unknown }).sourceKind)}' of operator '${operatorName}'`,
      );
  }
}
