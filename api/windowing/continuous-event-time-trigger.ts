// Flink's ContinuousEventTimeTrigger: early firings every `interval` of event time (aligned to
// multiples of the interval), plus the final firing at the end of the window.
import { positiveMs, type Duration } from './durations.js';
import { BaseTrigger } from './base-trigger.js';
import type { OnMergeContext, TriggerContext, TriggerResult, Window } from './types.js';

/** The next early firing time; the smallest one wins when windows merge. */
const FIRE_TIME = 'fire-time';

export class ContinuousEventTimeTrigger extends BaseTrigger {
  private constructor(readonly interval: number) {
    super();
  }

  static of(interval: Duration): ContinuousEventTimeTrigger {
    return new ContinuousEventTimeTrigger(positiveMs(interval, 'ContinuousEventTimeTrigger.of() interval'));
  }

  override onElement(
    _element: unknown,
    timestamp: number | undefined,
    window: Window,
    ctx: TriggerContext,
  ): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return 'FIRE';
    ctx.registerEventTimeTimer(window.maxTimestamp());
    const state = ctx.getPartitionedState<number>(FIRE_TIME);
    if (state.value() === undefined && timestamp !== undefined) {
      // Java's remainder, as in Flink: negative timestamps round toward zero.
      this.registerNextFireTimestamp(timestamp - (timestamp % this.interval), window, ctx);
    }
    return 'CONTINUE';
  }

  override onEventTime(time: number, window: Window, ctx: TriggerContext): TriggerResult {
    if (time === window.maxTimestamp()) return 'FIRE';
    const state = ctx.getPartitionedState<number>(FIRE_TIME);
    if (state.value() === time) {
      state.clear();
      this.registerNextFireTimestamp(time, window, ctx);
      return 'FIRE';
    }
    return 'CONTINUE';
  }

  override canMerge(): boolean {
    return true;
  }

  override onMerge(window: Window, ctx: OnMergeContext): void {
    ctx.mergePartitionedState<number>(FIRE_TIME, (a, b) => Math.min(a, b));
    const next = ctx.getPartitionedState<number>(FIRE_TIME).value();
    if (next !== undefined) ctx.registerEventTimeTimer(next);
    // Beyond Flink, which relies on the merged windows' own end timers (gone with their namespace):
    // the merged window still fires at its end.
    if (window.maxTimestamp() > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(window.maxTimestamp());
  }

  override clear(window: Window, ctx: TriggerContext): void {
    const state = ctx.getPartitionedState<number>(FIRE_TIME);
    const next = state.value();
    if (next !== undefined) {
      ctx.deleteEventTimeTimer(next);
      state.clear();
    }
    // Flink leaves this timer behind; deleting it spares the operator a call for a gone window.
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }

  override describe(): Record<string, unknown> {
    return { kind: 'continuousEventTime', interval: this.interval };
  }

  override toString(): string {
    return `ContinuousEventTimeTrigger(${this.interval})`;
  }

  private registerNextFireTimestamp(time: number, window: Window, ctx: TriggerContext): void {
    const next = Math.min(time + this.interval, window.maxTimestamp());
    const state = ctx.getPartitionedState<number>(FIRE_TIME);
    const current = state.value();
    state.update(current === undefined ? next : Math.min(current, next));
    ctx.registerEventTimeTimer(next);
  }
}
