// Flink's PurgingTrigger: the nested trigger's decisions, with every FIRE turned into FIRE_AND_PURGE
// so the window's contents are dropped once emitted.
import type { OnMergeContext, Trigger, TriggerContext, TriggerResult, Window } from './types.js';

function purging(r: TriggerResult): TriggerResult {
  return r === 'FIRE' ? 'FIRE_AND_PURGE' : r;
}

export class PurgingTrigger<T, W extends Window> implements Trigger<T, W> {
  private constructor(readonly nestedTrigger: Trigger<T, W>) {}

  static of<T, W extends Window>(nestedTrigger: Trigger<T, W>): PurgingTrigger<T, W> {
    if (!nestedTrigger || typeof nestedTrigger.onElement !== 'function')
      throw new TypeError('PurgingTrigger.of() needs a Trigger');
    return new PurgingTrigger(nestedTrigger);
  }

  onElement(element: T, timestamp: number | undefined, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nestedTrigger.onElement(element, timestamp, window, ctx));
  }

  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nestedTrigger.onEventTime(time, window, ctx));
  }

  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nestedTrigger.onProcessingTime(time, window, ctx));
  }

  canMerge(): boolean {
    return this.nestedTrigger.canMerge();
  }

  onMerge(window: W, ctx: OnMergeContext): void {
    this.nestedTrigger.onMerge(window, ctx);
  }

  clear(window: W, ctx: TriggerContext): void {
    this.nestedTrigger.clear(window, ctx);
  }

  describe(): Record<string, unknown> {
    return { kind: 'purging', nested: describeTrigger(this.nestedTrigger) };
  }

  toString(): string {
    return `PurgingTrigger(${String(this.nestedTrigger)})`;
  }
}

/** A trigger's JSON description; user triggers without describe() are 'custom'. */
export function describeTrigger(t: Trigger<never, never>): Record<string, unknown> {
  return typeof t.describe === 'function' ? t.describe() : { kind: 'custom' };
}
