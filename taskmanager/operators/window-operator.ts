// Flink's WindowOperator (and EvictingWindowOperator): assigns each element to windows, keeps
// their contents per key and window, asks the trigger when to emit, and clears a window for good
// at its cleanup time (end of window plus allowed lateness). Elements for windows that are
// already past that point are late: dropped, or sent to the late-data side output. Window state
// lives in the keyed state backend; timers are snapshotted as raw keyed state.
import {
  MAX_WATERMARK,
  InternalTimerService,
  type InternalTimer,
  type KeyContext,
  type Triggerable,
} from '../runtime/timer-service.js';
import {
  isMergingAssigner,
  type Evictor,
  type MergingWindowAssigner,
  type ProcessWindowContext,
  type TimestampedValue,
  type Trigger,
  type TriggerResult,
  type Window,
  type WindowAssigner,
  type WindowAssignerContext,
  type WindowOperatorSpec,
} from '../../api/windowing/types.js';
import type { Collector } from '../../api/functions.js';
import type { TimeWindow } from '../../api/windowing/time-window.js';
import { SlidingEventTimeWindows, SlidingProcessingTimeWindows } from '../../api/windowing/sliding-windows.js';
import { TumblingEventTimeWindows, TumblingProcessingTimeWindows } from '../../api/windowing/tumbling-windows.js';
import type { KeyedEntry, KeyedStateBackend, StateMeta } from '../state/types.js';
import type { MergingWindowSet, MergeFunction } from './merging-window-set.js';
import { StreamOperator, type OperatorSetup, type RawKeyedState, type StateInitializationContext } from './operator.js';
import { uninitializedKeyedState } from './uninitialized-state.js';
import { applyPreAggregation, PartialContents, windowContentsFor, type WindowContents } from './window-contents.js';
import { WINDOW_TIMER_NAMESPACE } from './window-namespace.js';
import { sliceGeometryOf, WindowSlices, type SliceGeometry } from './window-slicing.js';
import { CONTENTS_STATE, WindowStateStore, type WindowKey } from './window-state.js';
import { WindowTriggerContext } from './window-trigger-context.js';

/** Non-keyed windows (windowAll) keep their state under this one key (Flink's NullByteKeySelector). */
const ALL_WINDOWS_KEY = 0;

type WindowFn = (
  key: unknown,
  context: ProcessWindowContext<Window>,
  elements: Iterable<unknown>,
  out: Collector<unknown>,
) => void;

function isFire(r: TriggerResult): boolean {
  return r === 'FIRE' || r === 'FIRE_AND_PURGE';
}

function isPurge(r: TriggerResult): boolean {
  return r === 'PURGE' || r === 'FIRE_AND_PURGE';
}

/** The ProcessWindowFunction's context, moved from window to window. */
class WindowProcessContext implements ProcessWindowContext<Window> {
  window!: Window;

  constructor(private readonly op: WindowOperator) {}

  currentWatermark(): number {
    return this.op.currentWatermark();
  }

  currentProcessingTime(): number {
    return this.op.currentProcessingTime();
  }

  output<X>(tag: { id: string }, value: X): void {
    this.op.emitSide(tag.id, value, this.window.maxTimestamp());
  }
}

/** Stamps everything the window function emits with the window's max timestamp. */
class WindowCollector implements Collector<unknown> {
  timestamp = 0;

  constructor(private readonly out: { collect(v: unknown, t: number | undefined): void }) {}

  collect(value: unknown): void {
    this.out.collect(value, this.timestamp);
  }
}

/**
 * Built-in tumbling and sliding assigners make windows of one size, so a window's start identifies
 * it. Only the classes themselves: a subclass may assign windows of any size.
 */
function fixedSizeWindows(assigner: WindowAssigner<unknown, Window>): boolean {
  const c = (assigner as object).constructor;
  return (
    c === TumblingEventTimeWindows ||
    c === TumblingProcessingTimeWindows ||
    c === SlidingEventTimeWindows ||
    c === SlidingProcessingTimeWindows
  );
}

export class WindowOperator extends StreamOperator implements KeyContext, Triggerable<Window> {
  private readonly spec: WindowOperatorSpec;
  private readonly windowKey: (w: Window) => WindowKey;
  private readonly assigner: WindowAssigner<unknown, Window>;
  private readonly mergingAssigner: MergingWindowAssigner<unknown, Window> | undefined;
  private readonly trigger: Trigger<unknown, Window>;
  private readonly evictor: Evictor<unknown, Window> | undefined;
  private readonly eventTime: boolean;
  private readonly allowedLateness: number;
  private readonly lateDataTag: string | undefined;
  private readonly keyOf: ((v: unknown) => unknown) | undefined;
  private readonly windowFn: WindowFn | undefined;
  private readonly contents: WindowContents;
  /** Set when the windows can be sliced (window-slicing.ts): the per-element path then skips the trigger. */
  private readonly sliceGeometry: SliceGeometry | undefined;
  private slices: WindowSlices | undefined;
  /** Input is [key, partial accumulator] from a local pre-aggregation, not elements (sliced windows only). */
  private readonly preAggregated: boolean;
  private backend: KeyedStateBackend;
  private state!: WindowStateStore;
  private readonly timers: InternalTimerService<Window>;
  private readonly triggerContext: WindowTriggerContext;
  private readonly processContext: WindowProcessContext;
  private readonly collector: WindowCollector;
  private readonly assignerContext: WindowAssignerContext;
  private readonly mergeFunction: MergeFunction<Window>;
  private currentKey: unknown;
  /** Late elements dropped because no late-data side output was set (Flink's numLateRecordsDropped). */
  numLateRecordsDropped = 0;

  constructor(setup: OperatorSetup) {
    super(setup);
    const spec = setup.userCode as WindowOperatorSpec | undefined;
    if (!spec || typeof spec !== 'object' || !spec.assigner || !spec.trigger) {
      throw new Error(`operator '${this.name}': user code is not a window specification (assigner and trigger)`);
    }
    this.spec = spec;
    this.assigner = spec.assigner;
    this.mergingAssigner = isMergingAssigner(spec.assigner) ? spec.assigner : undefined;
    this.trigger = spec.trigger;
    this.evictor = spec.evictor;
    this.eventTime = spec.assigner.isEventTime();
    const d = setup.descriptor;
    const config = d.kind === 'window' ? d.config : undefined;
    this.allowedLateness = spec.allowedLateness ?? config?.allowedLateness ?? 0;
    if (!(this.allowedLateness >= 0))
      throw new Error(`operator '${this.name}': allowed lateness must be >= 0, got ${this.allowedLateness}`);
    this.lateDataTag = spec.lateDataTag ?? config?.lateDataTag;
    if (this.mergingAssigner && !this.trigger.canMerge()) {
      throw new Error(
        `operator '${this.name}': a merging window assigner cannot be used with a trigger that does not support merging`,
      );
    }
    // Non-keyed windows (windowAll) run at parallelism 1 with one implicit key.
    this.keyOf = setup.keySelector;
    const wf = spec.windowFunction;
    if (typeof wf === 'function') this.windowFn = wf as WindowFn;
    else if (wf && typeof wf === 'object' && typeof wf.process === 'function')
      this.windowFn = wf.process.bind(wf) as WindowFn;
    else if (wf !== undefined) throw new Error(`operator '${this.name}': window function has no process() method`);
    this.contents = windowContentsFor(spec);
    this.sliceGeometry = sliceGeometryOf(spec);
    this.preAggregated = config?.preAggregated === true;
    if (this.preAggregated && this.sliceGeometry === undefined)
      throw new Error(`operator '${this.name}': pre-aggregated input needs sliced windows`);
    this.windowKey = fixedSizeWindows(spec.assigner) ? (w) => (w as unknown as { start: number }).start : (w) => w.id();
    this.timers = new InternalTimerService<Window>(
      this,
      this,
      setup.services.processingTime,
      this.windowKey,
      'window-timers',
      WINDOW_TIMER_NAMESPACE,
    );
    this.triggerContext = new WindowTriggerContext(this.trigger, this.timers, this.windowKey);
    this.backend = uninitializedKeyedState(this.name);
    this.processContext = new WindowProcessContext(this);
    this.collector = new WindowCollector(this.output);
    const processingTime = setup.services.processingTime;
    this.assignerContext = { getCurrentProcessingTime: () => processingTime.now() };
    this.mergeFunction = (mergeResult, mergedWindows, stateWindowResult, mergedStateWindows) =>
      this.mergeWindows(mergeResult, mergedWindows, stateWindowResult, mergedStateWindows);
  }

  override async initializeState(context: StateInitializationContext): Promise<void> {
    await super.initializeState(context);
    this.backend = this.requireKeyedStateBackend();
    this.state = new WindowStateStore(this.backend, this.contents.kind);
    this.triggerContext.state = this.state;
    if (this.sliceGeometry) {
      const contents = this.preAggregated ? new PartialContents(this.contents) : this.contents;
      this.slices = new WindowSlices(this.sliceGeometry, this.backend, contents, CONTENTS_STATE);
    }
  }

  /** Whether the windows are sliced (window-slicing.ts) rather than kept one by one. */
  get sliced(): boolean {
    return this.sliceGeometry !== undefined;
  }

  /** Keyed state entries (contents, trigger state, merging sets) plus live timers. */
  override stateEntries(): number {
    return this.backend.numEntries() + this.numTimers();
  }

  override snapshotRawKeyedState(): RawKeyedState {
    return this.timers.snapshot();
  }

  override restoreRawKeyedState(meta: StateMeta, entry: KeyedEntry): void {
    if (this.timers.ownsState(meta.name)) this.timers.restore(entry);
    else super.restoreRawKeyedState(meta, entry);
  }

  // --- lifecycle ---
  /** The window function is the rich function here (the spec itself is not user code). */
  protected override lifecycleObject(): unknown {
    return this.spec.windowFunction;
  }

  override async close(): Promise<void> {
    this.timers.close();
    await super.close();
  }

  // --- KeyContext ---
  getCurrentKey(): unknown {
    return this.currentKey;
  }

  setCurrentKey(key: unknown): void {
    this.currentKey = key;
    this.backend.setCurrentKey(key);
  }

  currentWatermark(): number {
    return this.timers.currentWatermark();
  }

  currentProcessingTime(): number {
    return this.services.processingTime.now();
  }

  /** Side output from the window function (ProcessWindowFunction.Context.output). */
  emitSide(tag: string, value: unknown, timestamp: number): void {
    this.output.collectSide(tag, value, timestamp);
  }

  // --- elements ---
  processElement(value: unknown, timestamp: number | undefined): void {
    try {
      if (this.preAggregated) {
        const [key, partial] = value as [unknown, unknown];
        this.setCurrentKey(key);
        this.processSliced(this.slices!, partial, timestamp!);
        return;
      }
      this.setCurrentKey(this.keyOf ? this.keyOf(value) : ALL_WINDOWS_KEY);
      // Without a timestamp, the assigner's own error.
      if (this.slices !== undefined && typeof timestamp === 'number' && !Number.isNaN(timestamp)) {
        this.processSliced(this.slices, value, timestamp);
        return;
      }
      const windows = this.assigner.assignWindows(value, timestamp, this.assignerContext);
      let skipped = true;
      if (this.mergingAssigner) {
        const mergingWindows = this.state.getMergingWindows(this.mergingAssigner);
        for (const window of windows) {
          const actual = mergingWindows.addWindow(window, this.mergeFunction);
          if (this.isWindowLate(actual)) {
            mergingWindows.retireWindow(actual);
            continue;
          }
          skipped = false;
          const stateWindow = mergingWindows.getStateWindow(actual);
          if (!stateWindow) throw new Error(`window ${actual.id()} is not in the in-flight window set`);
          this.addAndTrigger(actual, this.windowKey(stateWindow), value, timestamp, true);
        }
        this.state.persistMergingWindows(mergingWindows);
      } else {
        for (const window of windows) {
          if (this.isWindowLate(window)) continue;
          skipped = false;
          this.addAndTrigger(window, this.windowKey(window), value, timestamp, false);
        }
      }
      if (skipped && this.isElementLate(timestamp)) {
        if (this.lateDataTag !== undefined) this.output.collectSide(this.lateDataTag, value, timestamp);
        else this.numLateRecordsDropped++;
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private addAndTrigger(
    window: Window,
    stateId: WindowKey,
    value: unknown,
    timestamp: number | undefined,
    merging: boolean,
  ): void {
    const before = this.state.getContents(stateId);
    this.state.setContents(stateId, this.contents.add(before, value, timestamp));
    const tc = this.triggerContext;
    tc.window = window;
    const result = tc.onElement(value, timestamp);
    if (isFire(result)) this.emitWindowContents(window, stateId);
    if (isPurge(result)) this.state.clearContents(stateId);
    // A window of a non-merging assigner that already had contents has its cleanup timer set.
    if (merging || before === undefined) this.registerCleanupTimer(window);
  }

  // --- sliced windows (window-slicing.ts) ---
  /**
   * The general path with the EventTimeTrigger spelled out, per slice instead of per window: an
   * element's windows are the windows of its slice. A slice that already has contents has every
   * window of it that is not late in flight (the watermark only moves forward), so only an element
   * opening a slice registers a timer, and only one whose windows the watermark has passed fires
   * them at once (allowed lateness).
   *
   * A key's window timers form a chain, as in Flink's slicing operators: a window that fires sets
   * the next window's timer when that window has slices, and an opened slice sets the timer of its
   * first window still ahead of the watermark unless that window holds another of the key's slices
   * (the chain reaches it then). The windows of a slice follow one another, so the chain fires each
   * of them; a key with slices in consecutive windows has one window timer waiting instead of one
   * per window and slice, and a window's cleanup timer is set when it fires.
   */
  private processSliced(slices: WindowSlices, value: unknown, timestamp: number): void {
    const wm = this.timers.currentWatermark();
    const sliceStart = slices.sliceStart(timestamp);
    const size = slices.size;
    const last = slices.lastWindowStart(sliceStart);
    if (this.cleanupTimeOf(last + size - 1) <= wm) {
      // Every window of the element is late (the last one ends last).
      if (this.isElementLate(timestamp)) {
        if (this.lateDataTag !== undefined) this.output.collectSide(this.lateDataTag, value, timestamp);
        else this.numLateRecordsDropped++;
      }
      return;
    }
    const opened = slices.add(sliceStart, value, timestamp);
    const first = slices.firstWindowStart(sliceStart);
    // Nothing to register, and no window of the slice has ended: the common case.
    if (!opened && first + size - 1 > wm) return;
    let ahead = NaN;
    for (let start = last; start >= first; start -= slices.slide) {
      const maxTimestamp = start + size - 1;
      const cleanup = this.cleanupTimeOf(maxTimestamp);
      // Windows ending earlier are late too.
      if (cleanup <= wm) break;
      if (maxTimestamp <= wm) {
        this.emitSliced(slices, slices.window(start));
        if (opened && cleanup < MAX_WATERMARK) this.timers.registerEventTimeTimer(slices.window(start), cleanup);
      } else ahead = start;
    }
    // A window holding another slice of the key is on its chain already.
    if (opened && !Number.isNaN(ahead) && !(slices.chained && slices.hasSlicesIn(ahead, ahead + size, sliceStart)))
      this.timers.registerEventTimeTimer(slices.window(ahead), ahead + size - 1);
  }

  /** EventTimeTrigger.onEventTime, then the cleanup at end + allowed lateness; then the chain goes on. */
  private onSlicedTimer(slices: WindowSlices, window: TimeWindow, time: number): void {
    const maxTimestamp = window.end - 1;
    const cleanup = this.cleanupTimeOf(maxTimestamp);
    if (time === maxTimestamp) {
      this.emitSliced(slices, window);
      if (cleanup !== maxTimestamp && cleanup < MAX_WATERMARK) this.timers.registerEventTimeTimer(window, cleanup);
    }
    // The trigger's clear() would delete the timer at the window's end, which always fired before.
    // What is left starts at or after the next window's start.
    const firstLeft = time === cleanup ? slices.retire(window) : NaN;
    if (time === maxTimestamp && slices.chained) {
      const next = window.start + slices.slide;
      const end = next + slices.size;
      if (Number.isNaN(firstLeft) ? slices.hasSlicesIn(next, end) : firstLeft < end)
        this.timers.registerEventTimeTimer(slices.window(next), end - 1);
    }
  }

  private emitSliced(slices: WindowSlices, window: TimeWindow): void {
    const acc = slices.windowContents(window);
    if (acc !== undefined) this.emit(window, this.contents.values(acc));
  }

  // --- timers ---
  override processWatermark(timestamp: number): void {
    // Timers first, so the windows they fire precede the watermark that fired them.
    this.timers.advanceWatermark(timestamp);
    this.output.emitWatermark(timestamp);
  }

  onEventTime(timer: InternalTimer<Window>): void {
    this.onTimer(timer, true);
  }

  onProcessingTime(timer: InternalTimer<Window>): void {
    this.onTimer(timer, false);
  }

  private onTimer(timer: InternalTimer<Window>, eventTimeTimer: boolean): void {
    try {
      const window = timer.namespace;
      if (this.slices !== undefined) {
        // Sliced windows only ever set event-time timers (EventTimeTrigger, event-time cleanup).
        if (eventTimeTimer) this.onSlicedTimer(this.slices, window as TimeWindow, timer.timestamp);
        return;
      }
      let mergingWindows: MergingWindowSet<Window> | undefined;
      let stateId: WindowKey;
      if (this.mergingAssigner) {
        mergingWindows = this.state.getMergingWindows(this.mergingAssigner);
        const stateWindow = mergingWindows.getStateWindow(window);
        // A timer a trigger left behind for a window merged away or cleaned up: nothing to do.
        if (!stateWindow) return;
        stateId = this.windowKey(stateWindow);
      } else {
        stateId = this.windowKey(window);
      }
      const tc = this.triggerContext;
      tc.window = window;
      const result = eventTimeTimer ? tc.onEventTime(timer.timestamp) : tc.onProcessingTime(timer.timestamp);
      if (isFire(result)) this.emitWindowContents(window, stateId);
      if (isPurge(result)) this.state.clearContents(stateId);
      if (this.eventTime === eventTimeTimer && timer.timestamp === this.cleanupTime(window)) {
        this.clearAllState(window, stateId, mergingWindows);
      }
      if (mergingWindows) this.state.persistMergingWindows(mergingWindows);
    } catch (e) {
      this.fail(e);
    }
  }

  private clearAllState(
    window: Window,
    stateId: WindowKey,
    mergingWindows: MergingWindowSet<Window> | undefined,
  ): void {
    this.state.clearContents(stateId);
    this.triggerContext.window = window;
    this.triggerContext.clear();
    mergingWindows?.retireWindow(window);
  }

  // --- merging ---
  private mergeWindows(
    mergeResult: Window,
    mergedWindows: Window[],
    stateWindowResult: Window,
    mergedStateWindows: Window[],
  ): void {
    if (this.eventTime) {
      if (this.cleanupTime(mergeResult) <= this.timers.currentWatermark()) {
        throw new Error(
          `merging produced window ${mergeResult.id()}, which is already late: an event-time window's end cannot move before the current watermark`,
        );
      }
    } else if (mergeResult.maxTimestamp() <= this.services.processingTime.now()) {
      throw new Error(
        `merging produced window ${mergeResult.id()}, which already ended: a processing-time window's end cannot move before the current processing time`,
      );
    }
    const tc = this.triggerContext;
    tc.window = mergeResult;
    tc.onMerge(mergedWindows);
    for (const m of mergedWindows) {
      tc.window = m;
      tc.clear();
      this.deleteCleanupTimer(m);
    }
    // The merged windows' contents follow their windows into the result's state window.
    const targetId = this.windowKey(stateWindowResult);
    let acc = this.state.getContents(targetId);
    for (const w of mergedStateWindows) {
      const id = this.windowKey(w);
      const c = this.state.getContents(id);
      if (c === undefined) continue;
      this.state.clearContents(id);
      acc = acc === undefined ? c : this.contents.merge(acc, c);
    }
    if (acc !== undefined) this.state.setContents(targetId, acc);
  }

  // --- lateness and cleanup ---
  private cleanupTime(window: Window): number {
    if (!this.eventTime) return window.maxTimestamp();
    return this.cleanupTimeOf(window.maxTimestamp());
  }

  /** Cleanup time of an event-time window ending at `maxTimestamp`. */
  private cleanupTimeOf(maxTimestamp: number): number {
    const t = maxTimestamp + this.allowedLateness;
    return t >= MAX_WATERMARK ? MAX_WATERMARK : t;
  }

  private isWindowLate(window: Window): boolean {
    return this.eventTime && this.cleanupTime(window) <= this.timers.currentWatermark();
  }

  private isElementLate(timestamp: number | undefined): boolean {
    return (
      this.eventTime && timestamp !== undefined && timestamp + this.allowedLateness <= this.timers.currentWatermark()
    );
  }

  private registerCleanupTimer(window: Window): void {
    const t = this.cleanupTime(window);
    // The GlobalWindow never ends, so it is never cleaned up.
    if (t >= MAX_WATERMARK) return;
    if (this.eventTime) this.timers.registerEventTimeTimer(window, t);
    else this.timers.registerProcessingTimeTimer(window, t);
  }

  private deleteCleanupTimer(window: Window): void {
    const t = this.cleanupTime(window);
    if (t >= MAX_WATERMARK) return;
    if (this.eventTime) this.timers.deleteEventTimeTimer(window, t);
    else this.timers.deleteProcessingTimeTimer(window, t);
  }

  // --- emission ---
  private emitWindowContents(window: Window, stateId: WindowKey): void {
    const contents = this.state.getContents(stateId);
    if (contents === undefined) return;
    if (!this.evictor) {
      this.emit(window, this.contents.values(contents));
      return;
    }
    const evictorContext = { getCurrentWatermark: () => this.timers.currentWatermark() };
    let elements = contents as TimestampedValue<unknown>[];
    elements = this.evictor.evictBefore(elements, elements.length, window, evictorContext);
    const values = applyPreAggregation(
      this.spec,
      elements.map((e) => e.value),
    );
    // A reduce over nothing has no result to emit.
    if (values.length > 0 || !this.spec.reduceFunction) this.emit(window, values);
    elements = this.evictor.evictAfter(elements, elements.length, window, evictorContext);
    if (elements.length === 0) this.state.clearContents(stateId);
    else this.state.setContents(stateId, elements);
  }

  private emit(window: Window, values: unknown[]): void {
    const timestamp = window.maxTimestamp();
    if (this.windowFn) {
      this.collector.timestamp = timestamp;
      this.processContext.window = window;
      this.windowFn(this.currentKey, this.processContext, values, this.collector);
    } else {
      for (const v of values) this.output.collect(v, timestamp);
    }
  }

  // --- state size: these read the whole state, for tests ---
  /** Keys with any window state (contents, trigger state or in-flight merging windows). */
  numKeys(): Promise<number> {
    return this.state.numKeys();
  }

  /** Windows with contents, over all keys. */
  numWindows(): Promise<number> {
    return this.state.numWindows();
  }

  /** Windows with trigger state, over all keys. */
  numTriggerStates(): Promise<number> {
    return this.state.numTriggerStates();
  }

  /** Live timers (triggers' and cleanup), over all keys. */
  numTimers(): number {
    return this.timers.numEventTimeTimers() + this.timers.numProcessingTimeTimers();
  }
}
