// Runs a SourceFunction (env.addSource) inside the pull-based source loop of a task. run(ctx)
// pushes into a queue that emitBatch() drains, so records reach the chain only from the task loop,
// between its checkpoints and timers. At a checkpoint everything run() emitted so far is flushed
// ahead of the barrier, right before the function's snapshotState() (both in the synchronous
// part), so the function's state and the records before the barrier agree without a checkpoint
// lock: in one thread, run() cannot change anything between the two.
import type { SourceContext, SourceFunction } from '../../api/source-function.js';
import type { Watermark } from '../../api/watermark.js';
import { UserCodeError, type Output, type TaskServices } from '../operators/operator.js';
import type { SourceReader } from './source-readers.js';

const RECORD = 0;
const WATERMARK = 1;
const IDLE = 2;

/** Queued emissions, flat: kind, value, timestamp per entry. */
type Kind = typeof RECORD | typeof WATERMARK | typeof IDLE;

function watermarkTime(mark: Watermark | number): number {
  const ts =
    typeof mark === 'number'
      ? mark
      : mark !== null && typeof mark === 'object'
        ? (mark as { timestamp?: unknown }).timestamp
        : undefined;
  if (typeof ts !== 'number' || Number.isNaN(ts))
    throw new TypeError(`emitWatermark() needs a Watermark, e.g. new Watermark(ts); got ${String(mark)}`);
  return ts;
}

export class SourceFunctionReader implements SourceReader {
  readonly ratePerSecond = undefined;
  readonly emitsWatermarks = true;
  private readonly kinds: Kind[] = [];
  private readonly values: unknown[] = [];
  private readonly timestamps: (number | undefined)[] = [];
  private head = 0;
  private started = false;
  private done = false;
  private failure: { error: unknown } | undefined;
  private closed = false;
  private idle = false;
  private out: Output | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly fn: SourceFunction<unknown>,
    private readonly services: TaskServices,
    private readonly operatorName: string,
  ) {}

  get finished(): boolean {
    // A failed run() is not finished: the next emitBatch() reports the failure.
    return this.done && this.failure === undefined && this.head === this.kinds.length;
  }

  private push(kind: Kind, value: unknown, timestamp: number | undefined): void {
    // After close (cancel, stop) run() may still be winding down: what it emits then is dropped, as in Flink.
    if (this.closed) return;
    this.kinds.push(kind);
    this.values.push(value);
    this.timestamps.push(timestamp);
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    if (w.length === 0) return;
    this.waiters = [];
    for (const f of w) f();
  }

  private startRun(): void {
    this.started = true;
    const ctx: SourceContext<unknown> = {
      collect: (element) => this.push(RECORD, element, undefined),
      collectWithTimestamp: (element, timestamp) => {
        if (typeof timestamp !== 'number' || !Number.isFinite(timestamp))
          throw new TypeError(`collectWithTimestamp() needs a finite timestamp, got ${String(timestamp)}`);
        this.push(RECORD, element, timestamp);
      },
      emitWatermark: (mark) => this.push(WATERMARK, undefined, watermarkTime(mark)),
      markAsTemporarilyIdle: () => this.push(IDLE, undefined, undefined),
    };
    let running: Promise<unknown>;
    try {
      running = Promise.resolve(this.fn.run(ctx));
    } catch (e) {
      running = Promise.reject(e);
    }
    running.then(
      () => {
        this.done = true;
        this.wake();
      },
      (error: unknown) => {
        this.done = true;
        if (!this.closed) this.failure = { error };
        this.wake();
      },
    );
  }

  emitBatch(max: number, out: Output): number {
    // run() starts with the first batch, once the task loop is ready to take what it emits.
    this.out = out;
    if (!this.started) this.startRun();
    const n = this.drain(max, out, false);
    if (this.head === this.kinds.length && this.failure !== undefined) {
      const e = this.failure.error;
      throw e instanceof UserCodeError ? e : new UserCodeError(this.operatorName, e);
    }
    return n;
  }

  /**
   * Emits up to `max` queued records (and the watermarks and idleness among them); returns the
   * records emitted. `all`: at a checkpoint nothing may stay behind, so async sinks' pending work
   * is gathered rather than waited for.
   */
  private drain(max: number, out: Output, all: boolean): number {
    const s = this.services;
    const { kinds, values, timestamps } = this;
    let n = 0;
    let i = this.head;
    try {
      while (n < max && i < kinds.length) {
        const kind = kinds[i]!;
        const value = values[i];
        const ts = timestamps[i];
        i++;
        if (kind === IDLE) {
          if (!this.idle) s.setIdle((this.idle = true));
          continue;
        }
        if (this.idle) s.setIdle((this.idle = false));
        if (kind === WATERMARK) out.emitWatermark(ts!);
        else {
          const before = s.pending;
          out.collect(value, ts);
          n++;
          if (s.pending === undefined) continue;
          // An async sink in the chain asked to wait: stop the batch here.
          if (!all) break;
          if (before !== undefined && s.pending !== before) s.pending = Promise.all([before, s.pending]);
        }
      }
    } finally {
      this.head = i;
      if (i === kinds.length) {
        kinds.length = values.length = timestamps.length = 0;
        this.head = 0;
      }
    }
    return n;
  }

  available(): Promise<void> {
    if (this.done || this.head < this.kinds.length) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * The synchronous part of a checkpoint: what run() emitted so far goes out before the barrier,
   * since the function's snapshotState() (next) counts it as emitted. Its position is its own
   * operator state (CheckpointedFunction), so there are no splits.
   */
  snapshotSplits(): unknown[] {
    if (this.out !== undefined) this.drain(Infinity, this.out, true);
    return [];
  }

  restoreSplits(): void {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    if (!this.started || this.done) return;
    try {
      this.fn.cancel();
    } catch (e) {
      this.services.log.warn({ err: e, operator: this.operatorName }, 'SourceFunction.cancel() failed');
    }
  }
}
