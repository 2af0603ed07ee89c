// Flink's CountTrigger: fires every `maxCount` elements of a key's window, counting again from zero.
import type { OnMergeContext, Trigger, TriggerContext, TriggerResult, Window } from './types.js';

const COUNT = 'count';

export class CountTrigger implements Trigger<unknown, Window> {
  private constructor(readonly maxCount: number) {}

  static of(maxCount: number): CountTrigger {
    if (!Number.isSafeInteger(maxCount) || maxCount < 1)
      throw new RangeError(`CountTrigger.of() needs a positive integer, got ${String(maxCount)}`);
    return new CountTrigger(maxCount);
  }

  onElement(_element: unknown, _timestamp: number | undefined, _window: Window, ctx: TriggerContext): TriggerResult {
    const state = ctx.getPartitionedState<number>(COUNT);
    const count = (state.value() ?? 0) + 1;
    if (count >= this.maxCount) {
      state.clear();
      return 'FIRE';
    }
    state.update(count);
    return 'CONTINUE';
  }

  onEventTime(_time: number, _window: Window, _ctx?: TriggerContext): TriggerResult {
    return 'CONTINUE';
  }

  onProcessingTime(_time: number, _window: Window, _ctx?: TriggerContext): TriggerResult {
    return 'CONTINUE';
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(_window: Window, ctx: OnMergeContext): void {
    ctx.mergePartitionedState<number>(COUNT, (a, b) => a + b);
  }

  clear(_window: Window, ctx: TriggerContext): void {
    ctx.getPartitionedState<number>(COUNT).clear();
  }

  describe(): Record<string, unknown> {
    return { kind: 'count', maxCount: this.maxCount };
  }

  toString(): string {
    return `CountTrigger(${this.maxCount})`;
  }
}
