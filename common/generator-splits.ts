// How a bounded DataGeneratorSource without a rate limit splits its indexes (Flink's
// SplitEnumerator with splits handed out on request): ranges of consecutive indexes, in order, to
// whichever subtask asks. A subtask whose core runs slower then reads fewer of them, instead of
// ending last while the others idle. Each subtask starts with a range of its own (no request before
// its first record), and the JobManager's enumerator hands out the rest. A rate-limited generator
// gains nothing from this (its limit sets the pace, not the cores) and keeps interleaved indexes,
// whose event times advance together, as does an endless one, and one subtask alone reads all.

/** The most indexes in a subtask's initial split (later ones are sized by its rate: jobmanager/source-coordinator.ts). */
const MAX_INITIAL_SPLIT_INDEXES = 50_000;
/** Initial splits are a sixteenth of a subtask's share at most, so a slower subtask can leave some of its share to others. */
const SPLITS_PER_SUBTASK = 16;

/** Whether the generator's splits are handed out on request (`count` null or Infinity: endless). */
export function splitsOnRequest(count: number | null, ratePerSecond: number | undefined, parallelism: number): boolean {
  return parallelism > 1 && count !== null && Number.isFinite(count) && ratePerSecond === undefined;
}

/** Indexes in each subtask's initial split (and the first the enumerator hands out) for `count` indexes read by `parallelism` subtasks. */
export function splitSize(count: number, parallelism: number): number {
  return Math.max(1, Math.min(MAX_INITIAL_SPLIT_INDEXES, Math.ceil(count / (parallelism * SPLITS_PER_SUBTASK))));
}

/** The range subtask `index` starts with when no snapshot holds the source's state (may be empty). */
export function initialSplit(count: number, parallelism: number, index: number): { start: number; end: number } {
  const size = splitSize(count, parallelism);
  return { start: Math.min(count, index * size), end: Math.min(count, (index + 1) * size) };
}

/** The enumerator's state in a checkpoint (the operator's coordinator state): the next index to hand out. */
export interface GeneratorEnumeratorState {
  next: number;
}

/** The state stored in a checkpoint, checked: a corrupt snapshot gets a clear error, not a wrong job. */
export function parseEnumeratorState(state: unknown, count: number, operatorName: string): GeneratorEnumeratorState {
  const next = (state as GeneratorEnumeratorState | null)?.next;
  if (typeof next !== 'number' || !Number.isSafeInteger(next) || next < 0)
    throw new Error(
      `the checkpoint's split enumerator state of source '${operatorName}' is not valid: ${JSON.stringify(state)}`,
    );
  // A job upgraded to generate fewer indexes ends where it now ends.
  return { next: Math.min(next, count) };
}
