// Flink's session window assigners: each element opens [t, t + gap); windows that overlap (or
// touch) are merged, so a session ends after `gap` without elements for its key.
import { EventTimeTrigger } from './event-time-trigger.js';
import { positiveMs, requireEventTimestamp, type Duration } from './durations.js';
import { ProcessingTimeTrigger } from './processing-time-trigger.js';
import { TimeWindow } from './time-window.js';
import type { MergingWindowAssigner, Trigger, WindowAssignerContext } from './types.js';

/** Flink's SessionWindowTimeGapExtractor: the gap, in milliseconds, an element opens. */
export type SessionWindowTimeGapExtractor<T> = ((element: T) => number) | { extract(element: T): number };

function toExtractor<T>(extractor: SessionWindowTimeGapExtractor<T>, api: string): (element: T) => number {
  if (typeof extractor === 'function') return extractor;
  if (extractor && typeof extractor.extract === 'function') return (e) => extractor.extract(e);
  throw new TypeError(`${api}() expects a function or an object with an extract() method`);
}

function dynamicGap<T>(extract: (element: T) => number, element: T): number {
  const gap = extract(element);
  if (typeof gap !== 'number' || !(gap > 0) || !Number.isFinite(gap))
    throw new RangeError(`dynamic session time gap must satisfy 0 < gap, got ${String(gap)}`);
  return gap;
}

abstract class SessionWindowsBase<T> implements MergingWindowAssigner<T, TimeWindow> {
  abstract assignWindows(element: T, timestamp: number | undefined, ctx: WindowAssignerContext): TimeWindow[];
  abstract getDefaultTrigger(): Trigger<T, TimeWindow>;
  abstract isEventTime(): boolean;
  abstract describe(): Record<string, unknown>;

  mergeWindows(windows: TimeWindow[], merge: (toMerge: TimeWindow[], mergeResult: TimeWindow) => void): void {
    TimeWindow.mergeWindows(windows, merge);
  }
}

export class EventTimeSessionWindows extends SessionWindowsBase<unknown> {
  protected constructor(readonly gap: number) {
    super();
  }

  static withGap(gap: Duration): EventTimeSessionWindows {
    return new EventTimeSessionWindows(positiveMs(gap, 'EventTimeSessionWindows gap'));
  }

  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): DynamicEventTimeSessionWindows<T> {
    return DynamicEventTimeSessionWindows.withDynamicGap(extractor);
  }

  assignWindows(_element: unknown, timestamp: number | undefined, _ctx?: WindowAssignerContext): TimeWindow[] {
    const ts = requireEventTimestamp(timestamp, 'EventTimeSessionWindows');
    return [new TimeWindow(ts, ts + this.gap)];
  }

  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return EventTimeTrigger.create();
  }

  isEventTime(): boolean {
    return true;
  }

  describe(): Record<string, unknown> {
    return { kind: 'eventTimeSession', gap: this.gap };
  }

  override toString(): string {
    return `EventTimeSessionWindows(${this.gap})`;
  }
}

export class DynamicEventTimeSessionWindows<T> extends SessionWindowsBase<T> {
  protected constructor(protected readonly extract: (element: T) => number) {
    super();
  }

  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): DynamicEventTimeSessionWindows<T> {
    return new DynamicEventTimeSessionWindows(toExtractor(extractor, 'withDynamicGap'));
  }

  assignWindows(element: T, timestamp: number | undefined, _ctx?: WindowAssignerContext): TimeWindow[] {
    const ts = requireEventTimestamp(timestamp, 'DynamicEventTimeSessionWindows');
    return [new TimeWindow(ts, ts + dynamicGap(this.extract, element))];
  }

  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return EventTimeTrigger.create();
  }

  isEventTime(): boolean {
    return true;
  }

  describe(): Record<string, unknown> {
    return { kind: 'eventTimeSession', dynamicGap: true };
  }

  override toString(): string {
    return 'DynamicEventTimeSessionWindows()';
  }
}

export class ProcessingTimeSessionWindows extends SessionWindowsBase<unknown> {
  protected constructor(readonly gap: number) {
    super();
  }

  static withGap(gap: Duration): ProcessingTimeSessionWindows {
    return new ProcessingTimeSessionWindows(positiveMs(gap, 'ProcessingTimeSessionWindows gap'));
  }

  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): DynamicProcessingTimeSessionWindows<T> {
    return DynamicProcessingTimeSessionWindows.withDynamicGap(extractor);
  }

  assignWindows(_element: unknown, _timestamp: number | undefined, ctx: WindowAssignerContext): TimeWindow[] {
    const now = ctx.getCurrentProcessingTime();
    return [new TimeWindow(now, now + this.gap)];
  }

  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return ProcessingTimeTrigger.create();
  }

  isEventTime(): boolean {
    return false;
  }

  describe(): Record<string, unknown> {
    return { kind: 'processingTimeSession', gap: this.gap };
  }

  override toString(): string {
    return `ProcessingTimeSessionWindows(${this.gap})`;
  }
}

export class DynamicProcessingTimeSessionWindows<T> extends SessionWindowsBase<T> {
  protected constructor(protected readonly extract: (element: T) => number) {
    super();
  }

  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): DynamicProcessingTimeSessionWindows<T> {
    return new DynamicProcessingTimeSessionWindows(toExtractor(extractor, 'withDynamicGap'));
  }

  assignWindows(element: T, _timestamp: number | undefined, ctx: WindowAssignerContext): TimeWindow[] {
    const now = ctx.getCurrentProcessingTime();
    return [new TimeWindow(now, now + dynamicGap(this.extract, element))];
  }

  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return ProcessingTimeTrigger.create();
  }

  isEventTime(): boolean {
    return false;
  }

  describe(): Record<string, unknown> {
    return { kind: 'processingTimeSession', dynamicGap: true };
  }

  override toString(): string {
    return 'DynamicProcessingTimeSessionWindows()';
  }
}
