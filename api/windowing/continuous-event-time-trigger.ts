// Flink's ContinuousEventTimeTrigger: early firings every `interval` of event time (aligned to
// multiples of the interval), plus the final firing at the end of the window.
import { positiveMs, type Duration } from './durations.js';
import type { OnMergeContext, Trigger, TriggerContext, TriggerResult, Window } from './types.js';

/** The next early firing time; the smallest one wins when windows merge. */
const FIRE_TIME = 'fire-time';

export class ContinuousEventTimeTrigger implements Trigger<unknown, Window> {
  private constructor(readonly interval: number) {}

  static of(interval: Duration): ContinuousEventTimeTrigger {
    return new ContinuousEventTimeTrigger(positiveMs(interval, 'ContinuousEventTimeTrigger.of() interval'));
  }

  onElement(_element: unknown, timestamp: number | undefined, window: Window, ctx: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return 'FIRE';
    ctx.registerEventTimeTimer(window.maxTimestamp());
    const state = ctx.getPartitionedState<number>(FIRE_TIME);
    if (state.value() === undefined && timestamp !== undefined) {
      // Java's remainder, as in Flink: negative timestamps round toward zero.
      this.registerNextFireTimestamp(timestamp - (timestamp % this.interval), window, ctx);
    }
    return 'CONTINUE';
  }

  onEventTime(time: number, window: Window, ctx: TriggerContext): TriggerResult {
    if (time === window.maxTimestamp()) return 'FIRE';
    const state = ctx.getPartitionedState<number>(FIRE_TIME);
    if (state.value() === time) {
      state.clear();
      this.registerNextFireTimestamp(time, window, ctx);
      return 'FIRE';
    }
    return 'CONTINUE';
  }

  onProcessingTime(_time: number, _window: Window, _ctx?: TriggerContext): TriggerResult {
    return 'CONTINUE';
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(window: Window, ctx: OnMergeContext): void {
    ctx.mergePartitionedState<number>(FIRE_TIME, (a, b) => Math.min(a, b));
    const next = ctx.getPartitionedState<number>(FIRE_TIME).value();
    if (next !== undefined) ctx.registerEventTimeTimer(next);
    // Beyond Flink, which relies on the merged windows' own end timers (gone with their namespace):
    // the merged window still fires at its end.
    if (window.maxTimestamp() > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(window.maxTimestamp());
  }

  clear(window: Window, ctx: TriggerContext): void {
    const state = ctx.getPartitionedState<number>(FIRE_TIME);
    const next = state.value();
    if (next !== undefined) {
      ctx.deleteEventTimeTimer(next);
      state.clear();
    }
    // Flink leaves this timer behind; deleting it spares the operator a call for a gone window.
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }

  describe(): Record<string, unknown> {
    return { kind: 'continuousEventTime', interval: this.interval };
  }

  toString(): string {
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
