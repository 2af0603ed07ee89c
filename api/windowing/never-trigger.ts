// GlobalWindows' default trigger (Flink's GlobalWindows.NeverTrigger): the global window never
// fires unless the job sets a trigger of its own.
import { BaseTrigger } from './base-trigger.js';

export class NeverTrigger extends BaseTrigger {
  private constructor() {
    super();
  }

  static create(): NeverTrigger {
    return new NeverTrigger();
  }

  override describe(): Record<string, unknown> {
    return { kind: 'never' };
  }

  override toString(): string {
    return 'NeverTrigger()';
  }
}
