// Flink's SourceCoordinator for the job's bounded generators whose splits are handed out on request
// (common/generator-splits.ts): one enumerator per such source, its state in every checkpoint, and
// the order of what the JobManager sends to a source subtask.
// Splits and barriers must not pass each other. A split handed out before a checkpoint's enumerator
// snapshot counts as read or held by the subtask, so it must reach the task before the barrier; one
// handed out after must reach it after. So calls to one subtask (AddSplits, TriggerCheckpoint) go one
// at a time, each once the previous one's reply is in: a reply means the TaskManager has passed the
// call on to the task's thread, and the task takes both in the order they came. The checkpoint
// coordinator takes the snapshot in the same turn as it queues the triggers (Flink closes its event
// valve from the coordinator's snapshot until the sources are triggered; this queue does the same).
import type { CheckpointMetadata, CheckpointMetadataOperator } from '../common/checkpoint.js';
import type { AddSplitsRequest, IndexRange } from '../common/control.js';
import {
  initialSplit,
  parseEnumeratorState,
  splitSize,
  splitsOnRequest,
  type GeneratorEnumeratorState,
} from '../common/generator-splits.js';
import type { JobVertex, SourceConfig } from '../common/jobgraph.js';

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
class GeneratorSplitEnumerator {
  private readonly readers = new Map<string, ReaderProgress>();

  constructor(
    private next: number,
    private readonly count: number,
    private readonly parallelism: number,
    /** The size of each subtask's initial range; undefined when restored (its splits came from a snapshot). */
    private readonly initialSize: number | undefined,
  ) {}

  nextSplit(executionId: string, now: number): IndexRange | undefined {
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
  for (const v of vertices) {
    enumeratorFor(v, restore);
    unassignedFrom(v, savedOf(restore, v.operators[0]!.id));
  }
}

export interface SourceCoordinatorContext {
  /** Sends splits to the subtask's TaskManager; rejects when they did not reach the task. */
  send(request: AddSplitsRequest): Promise<void>;
  /** Splits that did not reach a subtask still running are lost to this attempt: it must fail over. */
  undelivered(executionId: string, message: string): void;
}

export class SourceCoordinator {
  /** By source operator id. */
  private enumerators = new Map<string, GeneratorSplitEnumerator>();
  /** The last call queued for each subtask of the attempt (cleared with it). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly jobId: string,
    private readonly ctx: SourceCoordinatorContext,
  ) {}

  /** A new attempt, from `restore` or from the start; throws when the snapshot's enumerator state is unusable. */
  reset(vertices: readonly JobVertex[], restore: CheckpointMetadata | undefined): void {
    const enumerators = new Map<string, GeneratorSplitEnumerator>();
    for (const v of vertices) {
      const e = enumeratorFor(v, restore);
      if (e) enumerators.set(v.operators[0]!.id, e);
    }
    this.enumerators = enumerators;
    this.queues.clear();
  }

  /** A subtask of source `operatorId` asks for more: it gets the next range, or hears there is none left. */
  onSplitRequest(executionId: string, operatorId: string): void {
    const enumerator = this.enumerators.get(operatorId);
    if (!enumerator) {
      this.ctx.undelivered(executionId, `source operator ${operatorId} hands out no splits on request`);
      return;
    }
    const split = enumerator.nextSplit(executionId, performance.now());
    const request: AddSplitsRequest = {
      jobId: this.jobId,
      executionId,
      ranges: split ? [split] : [],
      noMoreSplits: split === undefined,
    };
    this.inOrder(executionId, () => this.ctx.send(request)).catch((e: Error) =>
      this.ctx.undelivered(
        executionId,
        `the split [${split?.start ?? '-'}, ${split?.end ?? '-'}) could not be handed to the subtask: ${e.message}`,
      ),
    );
  }

  /** The enumerators' states by operator id, for the checkpoint about to be triggered. */
  snapshot(): Record<string, GeneratorEnumeratorState> {
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
