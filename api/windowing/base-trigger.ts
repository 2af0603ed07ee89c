// What most triggers leave as is, as the defaults of Flink's abstract Trigger: a callback a trigger
// does not override continues, it does not merge, and it has nothing to clear.
import type { OnMergeContext, Trigger, TriggerContext, TriggerResult, Window } from './types.js';

export abstract class BaseTrigger implements Trigger<unknown, Window> {
  onElement(_element: unknown, _timestamp: number | undefined, _window: Window, _ctx: TriggerContext): TriggerResult {
    return 'CONTINUE';
  }

  onEventTime(_time: number, _window: Window, _ctx: TriggerContext): TriggerResult {
    return 'CONTINUE';
  }

  onProcessingTime(_time: number, _window: Window, _ctx: TriggerContext): TriggerResult {
    return 'CONTINUE';
  }

  canMerge(): boolean {
    return false;
  }

  onMerge(_window: Window, _ctx: OnMergeContext): void {}

  clear(_window: Window, _ctx: TriggerContext): void {}

  abstract describe(): Record<string, unknown>;

  abstract toString(): string;
}
