// The local phase of a window aggregation split in two (Flink's LocalSlicingWindowAggOperator, which
// its SQL planner puts before the exchange of a window aggregation): chained to the upstream
// operator, it folds elements into one accumulator per key and slice (window-slicing.ts) and sends
// those partial accumulators through the keyBy exchange instead of the elements. The window
// operator after the exchange merges them into its slices (WindowConfig.preAggregated). What
// crosses the exchange shrinks from one record per element to one per key and slice, and a hot
// key's elements are folded by every upstream subtask instead of all by the one owning the key.
//
// A partial is held until the watermark reaches its slice's end (before then no window of it can
// fire downstream), so it is sent before the watermark that could fire one of its windows, and
// the window operator decides on it as it would have on each of its elements: the watermark it
// has seen is at most this subtask's, which was below the slice's end while the partial grew.
// An element whose slice this subtask's watermark already passed goes on at once, alone.
// Everything held goes on at a checkpoint barrier (this operator keeps no state), at the end of
// input, and when MAX_PARTIALS are held.
import { TimeWindow } from '../../api/windowing/time-window.js';
import type { WindowOperatorSpec } from '../../api/windowing/types.js';
import { normalizeKey } from '../state/key-normalizer.js';
import { StreamOperator, type OperatorSetup } from './operator.js';
import { windowContentsFor, type WindowContents } from './window-contents.js';
import { sliceGeometryOf, sliceSizeOf } from './window-slicing.js';

/** Partials held before all are sent: bounds memory for keys that rarely repeat (Flink's mini-batch size). */
export const MAX_PARTIALS = 10_000;

/** What the graph hands this operator as user code (api/local-window-aggregation.ts). */
export interface LocalWindowAggregateCode {
  spec: WindowOperatorSpec;
  key: (value: unknown) => unknown;
}

/** The partials of one slice: normalized key to the record sent for it, [key, accumulator]. */
class SlicePartials {
  readonly byKey = new Map<unknown, [unknown, unknown]>();
  constructor(
    readonly start: number,
    readonly end: number,
  ) {}
}

export class LocalWindowAggregateOperator extends StreamOperator {
  private readonly spec: WindowOperatorSpec;
  private readonly keyOf: (value: unknown) => unknown;
  private readonly contents: WindowContents;
  private readonly sliceSize: number;
  private readonly offset: number;
  /** Held slices by ascending start; a flush sends a slice's map whole and drops it (no deletes). */
  private readonly slices: SlicePartials[] = [];
  private held = 0;
  private watermark = Number.MIN_SAFE_INTEGER;
  /** The slice of the previous element: most elements fall into it (no division, no search). */
  private last: SlicePartials | undefined = undefined;

  constructor(setup: OperatorSetup) {
    super(setup);
    const code = setup.userCode as Partial<LocalWindowAggregateCode> | undefined;
    const geometry = code?.spec ? sliceGeometryOf(code.spec) : undefined;
    if (!code || typeof code.key !== 'function' || !geometry)
      throw new Error(`operator '${this.name}': user code is not a sliced window aggregation and its key selector`);
    this.spec = code.spec!;
    this.keyOf = code.key;
    this.contents = windowContentsFor(this.spec);
    this.sliceSize = sliceSizeOf(geometry);
    this.offset = geometry.offset;
  }

  /** The window operator's functions are opened there, not here. */
  protected override lifecycleObject(): unknown {
    return undefined;
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    try {
      const key = this.keyOf(value);
      let slice = this.last;
      if (slice === undefined || !(timestamp! >= slice.start && timestamp! < slice.end)) {
        if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) {
          // The assigner's own error for an element without a timestamp.
          this.spec.assigner.assignWindows(value, timestamp, { getCurrentProcessingTime: () => Date.now() });
          throw new Error('window aggregation needs elements with timestamps');
        }
        const start = TimeWindow.getWindowStartWithOffset(timestamp, this.offset, this.sliceSize);
        const end = start + this.sliceSize;
        if (end - 1 <= this.watermark) {
          // Its slice's windows may have fired downstream already: on at once, alone, to be judged there.
          this.output.collect([key, this.contents.add(undefined, value, timestamp)], end - 1);
          return;
        }
        slice = this.sliceAt(start);
        this.last = slice;
      }
      const nk = normalizeKey(key);
      const byKey = slice.byKey;
      const partial = byKey.get(nk);
      if (partial !== undefined) partial[1] = this.contents.add(partial[1], value, timestamp);
      else {
        byKey.set(nk, [key, this.contents.add(undefined, value, timestamp)]);
        if (++this.held >= MAX_PARTIALS) this.flush(Infinity);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /** The held slice starting at `start`, added in order if there is none. */
  private sliceAt(start: number): SlicePartials {
    const slices = this.slices;
    let i = slices.length - 1;
    while (i >= 0 && slices[i]!.start > start) i--;
    if (i >= 0 && slices[i]!.start === start) return slices[i]!;
    const slice = new SlicePartials(start, start + this.sliceSize);
    slices.splice(i + 1, 0, slice);
    return slice;
  }

  override processWatermark(timestamp: number): void {
    if (timestamp > this.watermark) {
      this.watermark = timestamp;
      const first = this.slices[0];
      if (first !== undefined && first.end - 1 <= timestamp) this.flush(timestamp);
    }
    this.output.emitWatermark(timestamp);
  }

  /** Sends the partials of the slices ending at or before `upTo` + 1, stamped with their slice's last millisecond. */
  private flush(upTo: number): void {
    const slices = this.slices;
    let n = 0;
    while (n < slices.length && slices[n]!.end - 1 <= upTo) {
      const slice = slices[n]!;
      const timestamp = slice.end - 1;
      for (const partial of slice.byKey.values()) this.output.collect(partial, timestamp);
      this.held -= slice.byKey.size;
      if (this.last === slice) this.last = undefined;
      n++;
    }
    slices.splice(0, n);
  }

  /** Nothing may stay behind the barrier: this operator's partials are in no snapshot. */
  override prepareSnapshotPreBarrier(_checkpointId: number): void {
    this.flush(Infinity);
  }

  override async finish(): Promise<void> {
    this.flush(Infinity);
  }

  /** Partial accumulators held. */
  override stateEntries(): number {
    return this.held;
  }
}
