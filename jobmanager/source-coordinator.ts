// Flink's SourceCoordinator for the job's sources whose splits are handed out on request: bounded
// generators (common/generator-splits.ts) and FileSources (file-split-enumerator.ts). One enumerator
// per such source, its state in every checkpoint, and the order of what the JobManager sends to a
// source subtask.
// Splits and barriers must not pass each other. A split handed out before a checkpoint's enumerator
// snapshot counts as read or held by the subtask, so it must reach the task before the barrier; one
// handed out after must reach it after. So calls to one subtask (AddSplits, TriggerCheckpoint) go one
// at a time, each once the previous one's reply is in: a reply means the TaskManager has passed the
// call on to the task's thread, and the task takes both in the order they came. The checkpoint
// coordinator takes the snapshot in the same turn as it queues the triggers (Flink closes its event
// valve from the coordinator's snapshot until the sources are triggered; this queue does the same).
import type { CheckpointMetadata, CheckpointMetadataOperator } from '../common/checkpoint.js';
import type { AddSplitsRequest, IndexRange, SourceSplits } from '../common/control.js';
import {
  initialSplit,
  parseEnumeratorState,
  splitSize,
  splitsOnRequest,
  type GeneratorEnumeratorState,
} from '../common/generator-splits.js';
import type { JobVertex, SourceConfig } from '../common/jobgraph.js';
import { FileSplitEnumerator, parseFileEnumeratorState, type FileEnumeratorContext } from './file-split-enumerator.js';

/** Flink's SplitEnumerator, as the coordinator drives it. */
export interface SplitEnumerator {
  /** Starts what runs by itself (listing files); called once the attempt's tasks are deployed. */
  start?(): void;
  /** What the asking subtask gets; null: nothing yet, the request waits (for files to be discovered). */
  nextSplits(executionId: string, now: number): SourceSplits | null;
  /** The state a checkpoint stores for it (plain data). */
  snapshot(): unknown;
  close?(): void;
}

/**
 * A split lasts about this long at its subtask's rate. A subtask asks for the next one as it starts
 * its last, so the answer must come back within one split's reading (a round trip through the
 * JobManager takes milliseconds, more on a loaded machine), and each request costs both processes a
 * gRPC call: fixed-size splits of 50 000 stalled q7's sources, which read 2.5 M events/s each. The
 * subtasks of a source read about one split apart, so it also bounds how far apart in event time they are.
 */
const TARGET_SPLIT_MS = 100;
const MAX_SPLIT_INDEXES = 2_000_000;

/** What the enumerator knows of a subtask's reading: its last request, and the splits around it. */
interface ReaderProgress {
  /** When it last asked (it then started reading `reading`, and was handed `handed`). */
  at: number;
  reading: number | undefined;
  handed: number;
}

/**
 * Hands out the indexes [next, count) in order, to whichever subtask asks, in ranges sized to last
 * TARGET_SPLIT_MS at the asking subtask's rate. The rate is the split it finished since its last
 * request over the time since. Near the end ranges shrink to a fraction of each subtask's share of
 * what is left, so the subtasks end together.
 */
class GeneratorSplitEnumerator implements SplitEnumerator {
  private readonly readers = new Map<string, ReaderProgress>();

  constructor(
    private next: number,
    private readonly count: number,
    private readonly parallelism: number,
    /** The size of each subtask's initial range; undefined when restored (its splits came from a snapshot). */
    private readonly initialSize: number | undefined,
  ) {}

  nextSplits(executionId: string, now: number): SourceSplits {
    const range = this.nextRange(executionId, now);
    return { ranges: range ? [range] : [], files: [], noMoreSplits: range === undefined };
  }

  private nextRange(executionId: string, now: number): IndexRange | undefined {
    if (this.next >= this.count) return undefined;
    const r = this.readers.get(executionId);
    const elapsed = r ? now - r.at : 0;
    const bySpeed = Math.min(
      MAX_SPLIT_INDEXES,
      r?.reading !== undefined && elapsed > 0
        ? Math.round((r.reading * TARGET_SPLIT_MS) / elapsed)
        : splitSize(this.count, this.parallelism),
    );
    // Near the end, half a subtask's share of what is left, but not below a quarter of the target
    // time: every split costs a round trip, which the subtask may wait for.
    const endCap = Math.max(Math.ceil((this.count - this.next) / (2 * this.parallelism)), Math.ceil(bySpeed / 4));
    const size = Math.max(1, Math.min(bySpeed, endCap));
    const start = this.next;
    this.next = Math.min(this.count, start + size);
    this.readers.set(executionId, { at: now, reading: r ? r.handed : this.initialSize, handed: this.next - start });
    return { start, end: this.next };
  }

  snapshot(): GeneratorEnumeratorState {
    return { next: this.next };
  }
}

/** A vertex headed by a bounded or endless generator: its count (Infinity: endless) and how it splits. */
function generatorOf(vertex: JobVertex): { id: string; name: string; count: number; onRequest: boolean } | undefined {
  const head = vertex.operators[0];
  if (head?.kind !== 'source') return undefined;
  const c = head.config as SourceConfig;
  if (c.sourceKind !== 'datagen') return undefined;
  const onRequest = splitsOnRequest(c.count, c.ratePerSecond, vertex.parallelism);
  return { id: head.id, name: head.name, count: c.count ?? Infinity, onRequest };
}

const savedOf = (restore: CheckpointMetadata | undefined, operatorId: string) =>
  restore?.operators.find((o) => o.operatorId === operatorId);

/** A vertex headed by a FileSource: its files are always handed out on request. */
function fileSourceOf(vertex: JobVertex) {
  const head = vertex.operators[0];
  if (head?.kind !== 'source') return undefined;
  const c = head.config as SourceConfig;
  if (c.sourceKind !== 'file') return undefined;
  return { id: head.id, name: head.name, paths: c.paths, discoveryIntervalMs: c.discoveryIntervalMs };
}

/** Parsed from the snapshot whether or not the job is started from it, so a bad state is refused before. */
function fileEnumeratorFor(
  vertex: JobVertex,
  restore: CheckpointMetadata | undefined,
  ctx: FileEnumeratorContext,
): FileSplitEnumerator | undefined {
  const f = fileSourceOf(vertex);
  if (!f) return undefined;
  const saved = savedOf(restore, f.id);
  const state =
    saved === undefined
      ? undefined
      : saved.coordinatorState === undefined
        ? ('no-state' as const)
        : parseFileEnumeratorState(saved.coordinatorState, f.name);
  return new FileSplitEnumerator(f, state, ctx);
}

/**
 * The enumerator a job attempt starts with, for a generator that hands out splits on request.
 * Without state for the source in the snapshot, the subtasks start with their initial ranges (the
 * same ones they compute) and it hands out the rest. A snapshot whose source read interleaved
 * splits (taken before splits were handed out) has no enumerator state: the subtasks' restored
 * splits hold every index left, so it has none.
 */
function enumeratorFor(
  vertex: JobVertex,
  restore: CheckpointMetadata | undefined,
): GeneratorSplitEnumerator | undefined {
  const g = generatorOf(vertex);
  if (!g?.onRequest) return undefined;
  const p = vertex.parallelism;
  const saved = savedOf(restore, g.id);
  if (!saved)
    return new GeneratorSplitEnumerator(initialSplit(g.count, p, p - 1).end, g.count, p, splitSize(g.count, p));
  const next =
    saved.coordinatorState === undefined ? g.count : parseEnumeratorState(saved.coordinatorState, g.count, g.name).next;
  return new GeneratorSplitEnumerator(next, g.count, p, undefined);
}

/**
 * A generator that reads interleaved indexes (rate-limited, endless or alone), restored from a
 * snapshot whose enumerator state says what it had not handed out yet: the first such index, which
 * its subtasks then share out (TaskRestoreDescriptor's unassignedFrom).
 */
export function unassignedFrom(vertex: JobVertex, saved: CheckpointMetadataOperator | undefined): number | undefined {
  const g = generatorOf(vertex);
  if (!g || g.onRequest || saved?.coordinatorState === undefined) return undefined;
  return parseEnumeratorState(saved.coordinatorState, g.count, g.name).next;
}

/** Checks the enumerator states of a snapshot against the job that is to start from it; throws what is wrong. */
export function checkEnumeratorStates(vertices: readonly JobVertex[], restore: CheckpointMetadata): void {
  const unused: FileEnumeratorContext = { discovered() {}, failed() {}, warn() {} };
  for (const v of vertices) {
    enumeratorFor(v, restore);
    fileEnumeratorFor(v, restore, unused);
    unassignedFrom(v, savedOf(restore, v.operators[0]!.id));
  }
}

export interface SourceCoordinatorContext {
  /** Sends splits to the subtask's TaskManager; rejects when they did not reach the task. */
  send(request: AddSplitsRequest): Promise<void>;
  /** Splits that did not reach a subtask still running are lost to this attempt: it must fail over. */
  undelivered(executionId: string, message: string): void;
  /** An enumerator cannot go on (a FileSource's paths cannot be listed): the job fails over. */
  failed(message: string): void;
  warn(message: string): void;
}

function describeSplits(s: SourceSplits): string {
  const parts = [...s.ranges.map((r) => `[${r.start}, ${r.end})`), ...s.files];
  return parts.length > 0 ? `the split ${parts.join(', ')}` : 'the end of the splits';
}

export class SourceCoordinator {
  /** By source operator id. */
  private enumerators = new Map<string, SplitEnumerator>();
  /** Subtasks whose request waits for splits, in the order they asked, by source operator id. */
  private waiting = new Map<string, string[]>();
  /** The last call queued for each subtask of the attempt (cleared with it). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly jobId: string,
    private readonly ctx: SourceCoordinatorContext,
  ) {}

  /** A new attempt, from `restore` or from the start; throws when the snapshot's enumerator state is unusable. */
  reset(vertices: readonly JobVertex[], restore: CheckpointMetadata | undefined): void {
    this.stop();
    const enumerators = new Map<string, SplitEnumerator>();
    for (const v of vertices) {
      const id = v.operators[0]!.id;
      const e =
        enumeratorFor(v, restore) ??
        fileEnumeratorFor(v, restore, {
          discovered: () => this.answerWaiting(id),
          failed: (message) => this.ctx.failed(message),
          warn: (message) => this.ctx.warn(message),
        });
      if (e) enumerators.set(id, e);
    }
    this.enumerators = enumerators;
    this.queues.clear();
    for (const e of enumerators.values()) e.start?.();
  }

  /** Ends the attempt's enumerators (their listings) and forgets waiting requests. */
  stop(): void {
    for (const e of this.enumerators.values()) e.close?.();
    this.enumerators = new Map();
    this.waiting = new Map();
  }

  /** A subtask of source `operatorId` asks for more: it gets the next split, hears there is none left, or waits. */
  onSplitRequest(executionId: string, operatorId: string): void {
    const enumerator = this.enumerators.get(operatorId);
    if (!enumerator) {
      this.ctx.undelivered(executionId, `source operator ${operatorId} hands out no splits on request`);
      return;
    }
    const splits = enumerator.nextSplits(executionId, performance.now());
    if (splits) this.hand(executionId, splits);
    else {
      const waiting = this.waiting.get(operatorId) ?? [];
      if (!waiting.includes(executionId)) waiting.push(executionId);
      this.waiting.set(operatorId, waiting);
    }
  }

  /** The enumerator of `operatorId` found splits: the subtasks waiting get them, first come first served. */
  private answerWaiting(operatorId: string): void {
    const enumerator = this.enumerators.get(operatorId);
    const waiting = this.waiting.get(operatorId);
    if (!enumerator || !waiting) return;
    while (waiting.length > 0) {
      const splits = enumerator.nextSplits(waiting[0]!, performance.now());
      if (!splits) return;
      this.hand(waiting.shift()!, splits);
    }
  }

  private hand(executionId: string, splits: SourceSplits): void {
    const request: AddSplitsRequest = { jobId: this.jobId, executionId, ...splits };
    this.inOrder(executionId, () => this.ctx.send(request)).catch((e: Error) =>
      this.ctx.undelivered(executionId, `${describeSplits(splits)} could not be handed to the subtask: ${e.message}`),
    );
  }

  /** The enumerators' states by operator id, for the checkpoint about to be triggered. */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.enumerators].map(([id, e]) => [id, e.snapshot()]));
  }

  /**
   * Runs `call` once every call queued before for the subtask has its reply (queued synchronously:
   * the order is that of the inOrder calls).
   */
  inOrder<T>(executionId: string, call: () => Promise<T>): Promise<T> {
    const p = (this.queues.get(executionId) ?? Promise.resolve()).then(call);
    // The next call waits for this one's reply, not for its success.
    this.queues.set(
      executionId,
      p.catch(() => undefined),
    );
    return p;
  }
}
