// Flink's CountTrigger: fires every `maxCount` elements of a key's window, counting again from zero.
import { BaseTrigger } from './base-trigger.js';
import type { OnMergeContext, TriggerContext, TriggerResult, Window } from './types.js';

const COUNT = 'count';

export class CountTrigger extends BaseTrigger {
  private constructor(readonly maxCount: number) {
    super();
  }

  static of(maxCount: number): CountTrigger {
    if (!Number.isSafeInteger(maxCount) || maxCount < 1)
      throw new RangeError(`CountTrigger.of() needs a positive integer, got ${String(maxCount)}`);
    return new CountTrigger(maxCount);
  }

  override onElement(
    _element: unknown,
    _timestamp: number | undefined,
    _window: Window,
    ctx: TriggerContext,
  ): TriggerResult {
    const state = ctx.getPartitionedState<number>(COUNT);
    const count = (state.value() ?? 0) + 1;
    if (count >= this.maxCount) {
      state.clear();
      return 'FIRE';
    }
    state.update(count);
    return 'CONTINUE';
  }

  override canMerge(): boolean {
    return true;
  }

  override onMerge(_window: Window, ctx: OnMergeContext): void {
    ctx.mergePartitionedState<number>(COUNT, (a, b) => a + b);
  }

  override clear(_window: Window, ctx: TriggerContext): void {
    ctx.getPartitionedState<number>(COUNT).clear();
  }

  override describe(): Record<string, unknown> {
    return { kind: 'count', maxCount: this.maxCount };
  }

  override toString(): string {
    return `CountTrigger(${this.maxCount})`;
  }
}
