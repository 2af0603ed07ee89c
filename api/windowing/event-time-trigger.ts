// Flink's EventTimeTrigger: fires once the watermark passes the end of the window; an element
// arriving after that (within allowed lateness) fires the window again at once.
import { BaseTrigger } from './base-trigger.js';
import type { OnMergeContext, TriggerContext, TriggerResult, Window } from './types.js';

export class EventTimeTrigger extends BaseTrigger {
  protected constructor() {
    super();
  }

  static create(): EventTimeTrigger {
    return new EventTimeTrigger();
  }

  override onElement(
    _element: unknown,
    _timestamp: number | undefined,
    window: Window,
    ctx: TriggerContext,
  ): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return 'FIRE';
    ctx.registerEventTimeTimer(window.maxTimestamp());
    return 'CONTINUE';
  }

  override onEventTime(time: number, window: Window, _ctx?: TriggerContext): TriggerResult {
    return time === window.maxTimestamp() ? 'FIRE' : 'CONTINUE';
  }

  override canMerge(): boolean {
    return true;
  }

  override onMerge(window: Window, ctx: OnMergeContext): void {
    // A merged window the watermark has already passed fires through the late element's onElement.
    const max = window.maxTimestamp();
    if (max > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(max);
  }

  override clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }

  override describe(): Record<string, unknown> {
    return { kind: 'eventTime' };
  }

  override toString(): string {
    return 'EventTimeTrigger()';
  }
}
