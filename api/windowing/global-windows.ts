// Flink's GlobalWindows: every element of a key in the one GlobalWindow. It never fires by
// itself; countWindow() and custom triggers give it a trigger.
import { GlobalWindow } from './global-window.js';
import { NeverTrigger } from './never-trigger.js';
import type { Trigger, WindowAssigner, WindowAssignerContext } from './types.js';

export class GlobalWindows implements WindowAssigner<unknown, GlobalWindow> {
  private constructor() {}

  static create(): GlobalWindows {
    return new GlobalWindows();
  }

  assignWindows(_element?: unknown, _timestamp?: number, _ctx?: WindowAssignerContext): GlobalWindow[] {
    return [GlobalWindow.get()];
  }

  getDefaultTrigger(): Trigger<unknown, GlobalWindow> {
    return NeverTrigger.create();
  }

  isEventTime(): boolean {
    return false;
  }

  describe(): Record<string, unknown> {
    return { kind: 'global' };
  }

  toString(): string {
    return 'GlobalWindows()';
  }
}
