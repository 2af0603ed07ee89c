// GlobalWindows' default trigger (Flink's GlobalWindows.NeverTrigger): the global window never
// fires unless the job sets a trigger of its own.
import type { OnMergeContext, Trigger, TriggerContext, TriggerResult, Window } from './types.js';

export class NeverTrigger implements Trigger<unknown, Window> {
  private constructor() {}

  static create(): NeverTrigger {
    return new NeverTrigger();
  }

  onElement(_element: unknown, _timestamp: number | undefined, _window: Window, _ctx?: TriggerContext): TriggerResult {
    return 'CONTINUE';
  }

  onEventTime(_time: number, _window: Window, _ctx?: TriggerContext): TriggerResult {
    return 'CONTINUE';
  }

  onProcessingTime(_time: number, _window: Window, _ctx?: TriggerContext): TriggerResult {
    return 'CONTINUE';
  }

  canMerge(): boolean {
    return false;
  }

  onMerge(_window: Window, _ctx: OnMergeContext): void {}

  clear(_window: Window, _ctx: TriggerContext): void {}

  describe(): Record<string, unknown> {
    return { kind: 'never' };
  }

  toString(): string {
    return 'NeverTrigger()';
  }
}
