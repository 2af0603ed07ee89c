// Flink's GlobalWindows.EndOfStreamTrigger: the global window fires once, when the input ends
// (the maximum watermark, which a bounded source sends last). An event-time trigger at the end of
// the window that neither fires early for late elements nor merges.
import { EventTimeTrigger } from './event-time-trigger.js';
import type { TriggerContext, TriggerResult, Window } from './types.js';

export class EndOfStreamTrigger extends EventTimeTrigger {
  static override create(): EndOfStreamTrigger {
    return new EndOfStreamTrigger();
  }

  override onElement(
    _element: unknown,
    _timestamp: number | undefined,
    window: Window,
    ctx: TriggerContext,
  ): TriggerResult {
    ctx.registerEventTimeTimer(window.maxTimestamp());
    return 'CONTINUE';
  }

  override canMerge(): boolean {
    return false;
  }

  override describe(): Record<string, unknown> {
    return { kind: 'endOfStream' };
  }

  override toString(): string {
    return 'EndOfStreamTrigger()';
  }
}
