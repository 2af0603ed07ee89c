// Flink's GlobalWindows: every element of a key in the one GlobalWindow. It never fires by
// itself; countWindow() and custom triggers give it a trigger, createWithEndOfStreamTrigger() one
// that fires when the input ends.
import { EndOfStreamTrigger } from './end-of-stream-trigger.js';
import { GlobalWindow } from './global-window.js';
import { NeverTrigger } from './never-trigger.js';
import type { Trigger, WindowAssigner, WindowAssignerContext } from './types.js';

export class GlobalWindows implements WindowAssigner<unknown, GlobalWindow> {
  protected constructor(private readonly defaultTrigger: Trigger<unknown, GlobalWindow> = NeverTrigger.create()) {}

  static create(): GlobalWindows {
    return new GlobalWindows();
  }

  /** Global windows that fire once, at the end of the input (Flink 1.19's createWithEndOfStreamTrigger). */
  static createWithEndOfStreamTrigger(): GlobalWindows {
    return new GlobalWindows(EndOfStreamTrigger.create());
  }

  assignWindows(_element?: unknown, _timestamp?: number, _ctx?: WindowAssignerContext): GlobalWindow[] {
    return [GlobalWindow.get()];
  }

  getDefaultTrigger(): Trigger<unknown, GlobalWindow> {
    return this.defaultTrigger;
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
