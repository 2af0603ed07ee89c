// Flink's ProcessingTimeTrigger: fires when the wall clock passes the end of the window.
import { BaseTrigger } from './base-trigger.js';
import type { OnMergeContext, TriggerContext, TriggerResult, Window } from './types.js';

export class ProcessingTimeTrigger extends BaseTrigger {
  private constructor() {
    super();
  }

  static create(): ProcessingTimeTrigger {
    return new ProcessingTimeTrigger();
  }

  override onElement(
    _element: unknown,
    _timestamp: number | undefined,
    window: Window,
    ctx: TriggerContext,
  ): TriggerResult {
    ctx.registerProcessingTimeTimer(window.maxTimestamp());
    return 'CONTINUE';
  }

  override onProcessingTime(_time: number, _window: Window, _ctx?: TriggerContext): TriggerResult {
    return 'FIRE';
  }

  override canMerge(): boolean {
    return true;
  }

  override onMerge(window: Window, ctx: OnMergeContext): void {
    const max = window.maxTimestamp();
    if (max > ctx.getCurrentProcessingTime()) ctx.registerProcessingTimeTimer(max);
  }

  override clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteProcessingTimeTimer(window.maxTimestamp());
  }

  override describe(): Record<string, unknown> {
    return { kind: 'processingTime' };
  }

  override toString(): string {
    return 'ProcessingTimeTrigger()';
  }
}
