// Flink's EventTimeTrigger: fires once the watermark passes the end of the window; an element
// arriving after that (within allowed lateness) fires the window again at once.
import type { OnMergeContext, Trigger, TriggerContext, TriggerResult, Window } from './types.js';

export class EventTimeTrigger implements Trigger<unknown, Window> {
  private constructor() {}

  static create(): EventTimeTrigger {
    return new EventTimeTrigger();
  }

  onElement(_element: unknown, _timestamp: number | undefined, window: Window, ctx: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return 'FIRE';
    ctx.registerEventTimeTimer(window.maxTimestamp());
    return 'CONTINUE';
  }

  onEventTime(time: number, window: Window, _ctx?: TriggerContext): TriggerResult {
    return time === window.maxTimestamp() ? 'FIRE' : 'CONTINUE';
  }

  onProcessingTime(_time: number, _window: Window, _ctx?: TriggerContext): TriggerResult {
    return 'CONTINUE';
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(window: Window, ctx: OnMergeContext): void {
    // A merged window the watermark has already passed fires through the late element's onElement.
    const max = window.maxTimestamp();
    if (max > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(max);
  }

  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }

  describe(): Record<string, unknown> {
    return { kind: 'eventTime' };
  }

  toString(): string {
    return 'EventTimeTrigger()';
  }
}
