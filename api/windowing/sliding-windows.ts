// Flink's sliding window assigners: windows of `size` starting every `slide`, so an element
// belongs to about size / slide overlapping windows.
import { EventTimeTrigger } from './event-time-trigger.js';
import { offsetMs, positiveMs, requireEventTimestamp, type Duration } from './durations.js';
import { ProcessingTimeTrigger } from './processing-time-trigger.js';
import { TimeWindow } from './time-window.js';
import type { Trigger, WindowAssigner, WindowAssignerContext } from './types.js';

function checkArgs(name: string, size: Duration, slide: Duration, offset: Duration): [number, number, number] {
  const si = positiveMs(size, `${name} size`);
  const sl = positiveMs(slide, `${name} slide`);
  const o = offsetMs(offset, `${name} offset`);
  if (Math.abs(o) >= sl)
    throw new RangeError(`${name} parameters must satisfy abs(offset) < slide, got slide ${sl} and offset ${o}`);
  return [si, sl, o];
}

/** Every window [start, start + size) with start = offset + k * slide that contains `timestamp`, latest first. */
function slidingWindows(timestamp: number, size: number, slide: number, offset: number): TimeWindow[] {
  const windows: TimeWindow[] = [];
  const lastStart = TimeWindow.getWindowStartWithOffset(timestamp, offset, slide);
  for (let start = lastStart; start > timestamp - size; start -= slide)
    windows.push(new TimeWindow(start, start + size));
  return windows;
}

export class SlidingEventTimeWindows implements WindowAssigner<unknown, TimeWindow> {
  protected constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {}

  static of(size: Duration, slide: Duration, offset: Duration = 0): SlidingEventTimeWindows {
    return new SlidingEventTimeWindows(...checkArgs('SlidingEventTimeWindows', size, slide, offset));
  }

  assignWindows(_element: unknown, timestamp: number | undefined, _ctx?: WindowAssignerContext): TimeWindow[] {
    return slidingWindows(
      requireEventTimestamp(timestamp, 'SlidingEventTimeWindows'),
      this.size,
      this.slide,
      this.offset,
    );
  }

  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return EventTimeTrigger.create();
  }

  isEventTime(): boolean {
    return true;
  }

  describe(): Record<string, unknown> {
    return { kind: 'slidingEventTime', size: this.size, slide: this.slide, offset: this.offset };
  }

  toString(): string {
    return `SlidingEventTimeWindows(${this.size}, ${this.slide})`;
  }
}

export class SlidingProcessingTimeWindows implements WindowAssigner<unknown, TimeWindow> {
  protected constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {}

  static of(size: Duration, slide: Duration, offset: Duration = 0): SlidingProcessingTimeWindows {
    return new SlidingProcessingTimeWindows(...checkArgs('SlidingProcessingTimeWindows', size, slide, offset));
  }

  assignWindows(_element: unknown, _timestamp: number | undefined, ctx: WindowAssignerContext): TimeWindow[] {
    return slidingWindows(ctx.getCurrentProcessingTime(), this.size, this.slide, this.offset);
  }

  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return ProcessingTimeTrigger.create();
  }

  isEventTime(): boolean {
    return false;
  }

  describe(): Record<string, unknown> {
    return { kind: 'slidingProcessingTime', size: this.size, slide: this.slide, offset: this.offset };
  }

  toString(): string {
    return `SlidingProcessingTimeWindows(${this.size}, ${this.slide})`;
  }
}
