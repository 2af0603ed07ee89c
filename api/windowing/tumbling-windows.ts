// Flink's tumbling window assigners: fixed-size, non-overlapping windows aligned to the epoch
// plus `offset` (use an offset to align daily windows to a time zone, say).
import { EventTimeTrigger } from './event-time-trigger.js';
import { offsetMs, positiveMs, requireEventTimestamp, type Duration } from './durations.js';
import { ProcessingTimeTrigger } from './processing-time-trigger.js';
import { TimeWindow } from './time-window.js';
import type { Trigger, WindowAssigner, WindowAssignerContext } from './types.js';

function checkArgs(name: string, size: Duration, offset: Duration): [number, number] {
  const s = positiveMs(size, `${name} size`);
  const o = offsetMs(offset, `${name} offset`);
  if (Math.abs(o) >= s)
    throw new RangeError(`${name} parameters must satisfy abs(offset) < size, got size ${s} and offset ${o}`);
  return [s, o];
}

export class TumblingEventTimeWindows implements WindowAssigner<unknown, TimeWindow> {
  protected constructor(
    readonly size: number,
    readonly offset: number,
  ) {}

  static of(size: Duration, offset: Duration = 0): TumblingEventTimeWindows {
    return new TumblingEventTimeWindows(...checkArgs('TumblingEventTimeWindows', size, offset));
  }

  assignWindows(_element: unknown, timestamp: number | undefined, _ctx?: WindowAssignerContext): TimeWindow[] {
    const ts = requireEventTimestamp(timestamp, 'TumblingEventTimeWindows');
    const start = TimeWindow.getWindowStartWithOffset(ts, this.offset, this.size);
    return [new TimeWindow(start, start + this.size)];
  }

  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return EventTimeTrigger.create();
  }

  isEventTime(): boolean {
    return true;
  }

  describe(): Record<string, unknown> {
    return { kind: 'tumblingEventTime', size: this.size, offset: this.offset };
  }

  toString(): string {
    return `TumblingEventTimeWindows(${this.size})`;
  }
}

export class TumblingProcessingTimeWindows implements WindowAssigner<unknown, TimeWindow> {
  protected constructor(
    readonly size: number,
    readonly offset: number,
  ) {}

  static of(size: Duration, offset: Duration = 0): TumblingProcessingTimeWindows {
    return new TumblingProcessingTimeWindows(...checkArgs('TumblingProcessingTimeWindows', size, offset));
  }

  assignWindows(_element: unknown, _timestamp: number | undefined, ctx: WindowAssignerContext): TimeWindow[] {
    const start = TimeWindow.getWindowStartWithOffset(ctx.getCurrentProcessingTime(), this.offset, this.size);
    return [new TimeWindow(start, start + this.size)];
  }

  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return ProcessingTimeTrigger.create();
  }

  isEventTime(): boolean {
    return false;
  }

  describe(): Record<string, unknown> {
    return { kind: 'tumblingProcessingTime', size: this.size, offset: this.offset };
  }

  toString(): string {
    return `TumblingProcessingTimeWindows(${this.size})`;
  }
}
