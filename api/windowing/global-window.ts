// Flink's GlobalWindow: the one window of GlobalWindows, which never ends on its own; a trigger
// (CountTrigger, say) decides when it fires.
import type { Window } from './types.js';

export class GlobalWindow implements Window {
  private static readonly INSTANCE = new GlobalWindow();

  private constructor() {}

  static get(): GlobalWindow {
    return GlobalWindow.INSTANCE;
  }

  maxTimestamp(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  id(): string {
    return 'global';
  }

  toString(): string {
    return 'GlobalWindow';
  }
}
