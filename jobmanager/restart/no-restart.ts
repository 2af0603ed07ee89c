// restart-strategy.type: none. The first failure fails the job.
import type { RestartBackoffTimeStrategy } from './restart-strategy.js';

export class NoRestartBackoffTimeStrategy implements RestartBackoffTimeStrategy {
  readonly description = 'NoRestartBackoffTimeStrategy';

  notifyFailure(_cause: string): boolean {
    return true;
  }

  canRestart(): boolean {
    return false;
  }

  getBackoffTime(): number {
    return 0;
  }
}
