// Flink's GlobalWindows.EndOfStreamTrigger: the global window fires once, when the input ends
// (the maximum watermark, which a bounded source sends last).
import type { OnMergeContext, Trigger, TriggerContext, TriggerResult, Window } from './types.js';

export class EndOfStreamTrigger implements Trigger<unknown, Window> {
  protected constructor() {}

  static create(): EndOfStreamTrigger {
    return new EndOfStreamTrigger();
  }

  onElement(_element: unknown, _timestamp: number | undefined, window: Window, ctx: TriggerContext): TriggerResult {
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
    return false;
  }

  onMerge(_window: Window, _ctx: OnMergeContext): void {}

  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }

  describe(): Record<string, unknown> {
    return { kind: 'endOfStream' };
  }

  toString(): string {
    return 'EndOfStreamTrigger()';
  }
}
