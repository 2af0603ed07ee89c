// The split enumerator of a FileSource (Flink's StaticFileSplitEnumerator, and with monitorContinuously
// its ContinuousFileSplitEnumerator): lists the source's paths in the JobManager and hands out one
// file per request, in the listing's order, to whichever subtask asks, so a subtask on a slower core
// reads fewer files. A continuous one lists again every interval and hands out each file it has not
// seen before; a request it cannot answer waits for the next discovery. Its state, in every
// checkpoint, is what it has not handed out yet (and, continuous, every path it has seen).
import { listFiles } from '../common/file-listing.js';
import type { SourceSplits } from '../common/control.js';
import type { SplitEnumerator } from './source-coordinator.js';

/** The enumerator's state in a checkpoint's `_metadata` (the source operator's coordinator state). */
export interface FileEnumeratorState {
  /** Files not handed out yet, in order; null: the paths were not listed yet (nothing was handed out). */
  pending: string[] | null;
  /** Continuous: every path discovered so far (handed out or pending), so none is read twice. */
  seen?: string[];
}

export interface FileSourceSpec {
  /** The source operator's name, for messages. */
  name: string;
  paths: readonly string[];
  /** monitorContinuously's interval; undefined: bounded. */
  discoveryIntervalMs: number | undefined;
}

export interface FileEnumeratorContext {
  /** Files to hand out arrived (or, bounded, the listing did): requests that waited may be answered now. */
  discovered(): void;
  /** The first listing failed: the job cannot read its input. */
  failed(message: string): void;
  /** A later listing failed; the next interval tries again. */
  warn(message: string): void;
}

const isPaths = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((p) => typeof p === 'string' && p.length > 0);

/** The state stored in a checkpoint, checked: a corrupt snapshot gets a clear error, not a wrong job. */
export function parseFileEnumeratorState(state: unknown, sourceName: string): FileEnumeratorState {
  const s = state as FileEnumeratorState | null;
  const valid =
    typeof s === 'object' &&
    s !== null &&
    (s.pending === null || isPaths(s.pending)) &&
    (s.seen === undefined || isPaths(s.seen));
  if (!valid)
    throw new Error(
      `the checkpoint's split enumerator state of source '${sourceName}' is not valid: ${JSON.stringify(state)?.slice(0, 200)}`,
    );
  return { pending: s.pending === null ? null : [...s.pending], ...(s.seen ? { seen: [...s.seen] } : {}) };
}

export class FileSplitEnumerator implements SplitEnumerator {
  /**
   * Files to hand out are pending[head..]; null until the first listing. Handed-out paths stay
   * behind `head`: the listing (bounded) or `seen` (continuous) holds them anyway.
   */
  private pending: string[] | null;
  private head = 0;
  /** Continuous only. */
  private readonly seen: Set<string> | undefined;
  /**
   * Restored from a snapshot that had no enumerator state (its subtasks split the files among
   * themselves and hold every file they had left): the first listing only marks what is there as seen.
   */
  private seedOnly: boolean;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private listedOnce = false;

  /**
   * `state`: from the checkpoint restored; 'no-state': the snapshot had the source but no enumerator
   * state; undefined: a fresh start.
   */
  constructor(
    private readonly spec: FileSourceSpec,
    state: FileEnumeratorState | 'no-state' | undefined,
    private readonly ctx: FileEnumeratorContext,
  ) {
    const continuous = spec.discoveryIntervalMs !== undefined;
    this.seedOnly = state === 'no-state' && continuous;
    this.pending = state === 'no-state' ? (continuous ? null : []) : (state?.pending ?? null);
    this.seen = continuous ? new Set(state === 'no-state' ? [] : (state?.seen ?? [])) : undefined;
  }

  /** Lists the paths if it must, and, continuous, every interval after. */
  start(): void {
    if (this.pending === null || this.seen !== undefined) void this.discover();
  }

  nextSplits(): SourceSplits | null {
    const pending = this.pending;
    if (pending === null) return null;
    if (this.head < pending.length) return { ranges: [], files: [pending[this.head++]!], noMoreSplits: false };
    // Continuous: the request waits for files yet to come.
    return this.seen !== undefined ? null : { ranges: [], files: [], noMoreSplits: true };
  }

  snapshot(): FileEnumeratorState {
    const pending = this.pending === null ? null : this.pending.slice(this.head);
    return this.seen === undefined ? { pending } : { pending, seen: [...this.seen] };
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async discover(): Promise<void> {
    let files: string[];
    try {
      files = await listFiles(this.spec.paths);
    } catch (e) {
      if (this.closed) return;
      const message = `FileSource '${this.spec.name}': ${(e as Error).message}`;
      // The paths must be there when the job starts (a typo fails it at once); later a path that
      // is gone for a while (an unmounted share) is retried.
      if (!this.listedOnce) this.ctx.failed(message);
      else {
        this.ctx.warn(message);
        this.schedule();
      }
      return;
    }
    if (this.closed) return;
    this.listedOnce = true;
    this.add(files);
    this.schedule();
  }

  /** A listing's files: all of them (bounded), or those not seen before (continuous). */
  private add(files: string[]): void {
    const seen = this.seen;
    if (seen === undefined) {
      this.pending = files;
      this.ctx.discovered();
      return;
    }
    const pending = (this.pending ??= []);
    const before = pending.length;
    for (const f of files) {
      if (seen.has(f)) continue;
      seen.add(f);
      // Restored without enumerator state: the files there now are held by the subtasks already.
      if (!this.seedOnly) pending.push(f);
    }
    this.seedOnly = false;
    if (pending.length > before) this.ctx.discovered();
  }

  private schedule(): void {
    if (this.closed || this.spec.discoveryIntervalMs === undefined) return;
    this.timer = setTimeout(() => void this.discover(), this.spec.discoveryIntervalMs);
    this.timer.unref?.();
  }
}
