// Window slicing, as Flink's window table functions (SliceAssigner, SliceSharedWindowAggProcessor):
// the time axis is cut into slices that every window of the assigner is made of, whole. An element
// goes into its one slice (one state lookup, whatever the number of windows it belongs to), and a
// window's result is the combination of its slices' accumulators when it fires. Tumbling windows
// are their own slices; sliding windows have slices of gcd(size, slide).
//
// Used where only the cost changes: event-time windows with the EventTimeTrigger and no evictor.
// Tumbling windows with any window function: a window is one slice, kept as the general path keeps
// it (state, element order and all). Sliding windows with a reduce or aggregate function (with
// merge()): a window's result folds its slices' accumulators in time order rather than its elements
// in arrival order, the same for the associative and commutative functions incremental aggregation
// assumes (as Flink's slicing does). Everything else (process functions over the elements of
// sliding windows, custom triggers, evictors, sessions, processing time) keeps the general path.
import { EventTimeTrigger } from '../../api/windowing/event-time-trigger.js';
import { SlidingEventTimeWindows } from '../../api/windowing/sliding-windows.js';
import { TimeWindow } from '../../api/windowing/time-window.js';
import { TumblingEventTimeWindows } from '../../api/windowing/tumbling-windows.js';
import type { WindowOperatorSpec } from '../../api/windowing/types.js';
import { missingAggregateMerge } from '../../api/windowing/window-operator-spec.js';
import { VOID_NAMESPACE, type KeyedStateBackend, type StateTable } from '../state/types.js';
import type { WindowContents } from './window-contents.js';

/** Window geometry of a sliceable assigner: windows [offset + k * slide, + size). */
export interface SliceGeometry {
  size: number;
  slide: number;
  offset: number;
}

/**
 * A key's slices of sliding windows, as one value: [start, accumulator, start, accumulator, ...]
 * by ascending start. One lookup per element, and one (not one per slice) when a window fires or
 * its slices expire. A tumbling window is its one slice, kept as the general path keeps a window's
 * contents (namespace: the window's start), so its state is unchanged.
 */
export const SLICES_STATE = '_window-slices';

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Length of a slice: every window start and end of the geometry is a slice boundary. */
export function sliceSizeOf(geometry: SliceGeometry): number {
  return gcd(geometry.size, geometry.slide);
}

/** A copy user code may change (state values are plain data). */
function ownCopy(v: unknown): unknown {
  return typeof v === 'object' && v !== null ? structuredClone(v) : v;
}

/** Exactly this class, not a subclass that may behave otherwise. */
function isExactly(x: unknown, cls: { prototype: object }): boolean {
  return x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === cls.prototype;
}

/** The slicing geometry when the operator may slice (see the top of this file), else undefined. */
export function sliceGeometryOf(spec: WindowOperatorSpec): SliceGeometry | undefined {
  if (spec.evictor || !isExactly(spec.trigger, EventTimeTrigger)) return undefined;
  const a = spec.assigner as unknown;
  if (isExactly(a, TumblingEventTimeWindows)) {
    const t = a as TumblingEventTimeWindows;
    return { size: t.size, slide: t.size, offset: t.offset };
  }
  if (isExactly(a, SlidingEventTimeWindows)) {
    const s = a as SlidingEventTimeWindows;
    // Sliding windows with gaps between them (slide > size) hold elements of no window: rare, general path.
    if (s.slide > s.size) return undefined;
    if (spec.reduceFunction === undefined && spec.aggregateFunction === undefined) return undefined;
    if (spec.aggregateFunction !== undefined && spec.aggregateFunction.merge === missingAggregateMerge)
      return undefined;
    return { size: s.size, slide: s.slide, offset: s.offset };
  }
  return undefined;
}

/** The current key's slices in the keyed state backend (the operator sets the key). */
export class WindowSlices {
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
  /** Length of a slice: every window start and end is a slice boundary. */
  readonly sliceSize: number;
  /** Whether a window is one slice (tumbling): its accumulator is used as it is. */
  private readonly single: boolean;
  private readonly table: StateTable;
  /**
   * On the heap backend the value got is the one stored (a private copy while a snapshot is
   * pending), so an accumulator changed in place needs no put(); the level backend needs one.
   */
  private readonly putUnchanged: boolean;
  /** The slice of the previous element and its windows: most elements fall into it (no division). */
  private cachedStart = NaN;
  private cachedEnd = NaN;
  private cachedLastWindow = NaN;

  constructor(
    geometry: SliceGeometry,
    backend: KeyedStateBackend,
    private readonly contents: WindowContents,
    /** The general path's contents table, which tumbling windows share. */
    windowContentsState: string,
  ) {
    this.size = geometry.size;
    this.slide = geometry.slide;
    this.offset = geometry.offset;
    this.sliceSize = sliceSizeOf(geometry);
    this.single = this.sliceSize === this.size;
    this.table = backend.getTable(
      this.single ? { name: windowContentsState, kind: contents.kind } : { name: SLICES_STATE, kind: 'raw' },
    );
    this.putUnchanged = backend.type !== 'heap';
  }

  /** Start of the slice holding `timestamp`. */
  sliceStart(timestamp: number): number {
    if (timestamp >= this.cachedStart && timestamp < this.cachedEnd) return this.cachedStart;
    const g = this.sliceSize;
    const start = TimeWindow.getWindowStartWithOffset(timestamp, this.offset, g);
    this.cachedStart = start;
    this.cachedEnd = start + g;
    this.cachedLastWindow = TimeWindow.getWindowStartWithOffset(start, this.offset, this.slide);
    return start;
  }

  /** Start of the last window (the one ending last) that holds the slice starting at `sliceStart`. */
  lastWindowStart(sliceStart: number): number {
    if (sliceStart === this.cachedStart) return this.cachedLastWindow;
    return TimeWindow.getWindowStartWithOffset(sliceStart, this.offset, this.slide);
  }

  /** Start of the first window (the one ending first) that holds the slice starting at `sliceStart`. */
  firstWindowStart(sliceStart: number): number {
    return sliceStart + this.sliceSize - this.size;
  }

  /** Adds an element to its slice; true when the slice was empty before (it has no windows' timers yet). */
  add(sliceStart: number, value: unknown, timestamp: number): boolean {
    const table = this.table;
    if (this.single) {
      const before = table.get(sliceStart);
      const after = this.contents.add(before, value, timestamp);
      if (after !== before || this.putUnchanged) table.put(sliceStart, after);
      return before === undefined;
    }
    const slices = table.get(VOID_NAMESPACE) as unknown[] | undefined;
    if (slices === undefined) {
      table.put(VOID_NAMESPACE, [sliceStart, this.contents.add(undefined, value, timestamp)]);
      return true;
    }
    // Most elements go to the newest slice, the last one.
    let i = slices.length - 2;
    while (i >= 0 && (slices[i] as number) > sliceStart) i -= 2;
    const opened = i < 0 || slices[i] !== sliceStart;
    if (opened) slices.splice(i + 2, 0, sliceStart, this.contents.add(undefined, value, timestamp));
    else slices[i + 1] = this.contents.add(slices[i + 1], value, timestamp);
    if (this.putUnchanged) table.put(VOID_NAMESPACE, slices);
    return opened;
  }

  /** The window's accumulator: its slices combined in time order; undefined when all are empty. */
  windowContents(window: TimeWindow): unknown {
    const table = this.table;
    if (this.single) return table.get(window.start);
    const slices = table.get(VOID_NAMESPACE) as unknown[] | undefined;
    if (slices === undefined) return undefined;
    let acc: unknown;
    let owned = false;
    for (let i = 0; i < slices.length; i += 2) {
      const start = slices[i] as number;
      if (start < window.start) continue;
      if (start >= window.end) break;
      const v = slices[i + 1];
      if (acc === undefined) {
        acc = v;
        continue;
      }
      // A merge or reduce may reuse either argument as its result: never hand it a stored accumulator.
      if (!owned) {
        acc = ownCopy(acc);
        owned = true;
      }
      acc = this.contents.merge(acc, ownCopy(v));
    }
    return acc;
  }

  /**
   * Drops the slices whose last window is `window` (cleaned up now): those before the next
   * window's start. Earlier windows were cleaned up before, later ones do not hold them. Returns
   * the start of the first slice left (Infinity when none; always for tumbling windows).
   */
  retire(window: TimeWindow): number {
    const table = this.table;
    if (this.single) {
      table.remove(window.start);
      return Infinity;
    }
    const slices = table.get(VOID_NAMESPACE) as unknown[] | undefined;
    if (slices === undefined) return Infinity;
    const end = window.start + this.slide;
    let n = 0;
    while (n < slices.length && (slices[n] as number) < end) n += 2;
    if (n === slices.length) {
      table.remove(VOID_NAMESPACE);
      return Infinity;
    }
    if (n > 0) {
      slices.splice(0, n);
      if (this.putUnchanged) table.put(VOID_NAMESPACE, slices);
    }
    return slices[0] as number;
  }

  /**
   * Whether a window's timer is set by the window before it (sliding windows): a tumbling window is
   * its one slice, whose opening sets its timer.
   */
  get chained(): boolean {
    return !this.single;
  }

  /** Whether the current key has a slice starting in [from, to) other than `except` (sliding windows only). */
  hasSlicesIn(from: number, to: number, except = NaN): boolean {
    const slices = this.table.get(VOID_NAMESPACE) as unknown[] | undefined;
    if (slices === undefined) return false;
    // Slices before `from` are few: the ones retired next, or none.
    for (let i = 0; i < slices.length; i += 2) {
      const start = slices[i] as number;
      if (start >= to) return false;
      if (start >= from && start !== except) return true;
    }
    return false;
  }

  /** The window of this geometry that starts at `start`. */
  window(start: number): TimeWindow {
    return new TimeWindow(start, start + this.size);
  }
}
