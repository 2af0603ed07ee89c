// Flink's ProcessingTimeTrigger: fires when the wall clock passes the end of the window.
import type { OnMergeContext, Trigger, TriggerContext, TriggerResult, Window } from './types.js';

export class ProcessingTimeTrigger implements Trigger<unknown, Window> {
  private constructor() {}

  static create(): ProcessingTimeTrigger {
    return new ProcessingTimeTrigger();
  }

  onElement(_element: unknown, _timestamp: number | undefined, window: Window, ctx: TriggerContext): TriggerResult {
    ctx.registerProcessingTimeTimer(window.maxTimestamp());
    return 'CONTINUE';
  }

  onEventTime(_time: number, _window: Window, _ctx?: TriggerContext): TriggerResult {
    return 'CONTINUE';
  }

  onProcessingTime(_time: number, _window: Window, _ctx?: TriggerContext): TriggerResult {
    return 'FIRE';
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(window: Window, ctx: OnMergeContext): void {
    const max = window.maxTimestamp();
    if (max > ctx.getCurrentProcessingTime()) ctx.registerProcessingTimeTimer(max);
  }

  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteProcessingTimeTimer(window.maxTimestamp());
  }

  describe(): Record<string, unknown> {
    return { kind: 'processingTime' };
  }

  toString(): string {
    return 'ProcessingTimeTrigger()';
  }
}
