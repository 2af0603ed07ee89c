// restart-strategy.type: fixed-delay. Up to `attempts` restarts over the job's life, each after
// the same delay.
import type { RestartBackoffTimeStrategy } from './restart-strategy.js';

export class FixedDelayRestartBackoffTimeStrategy implements RestartBackoffTimeStrategy {
  private restartAttempt = 0;

  constructor(
    private readonly maxAttempts: number,
    private readonly delayMs: number,
  ) {
    if (!Number.isInteger(maxAttempts) || maxAttempts < 0)
      throw new Error(`restart-strategy.fixed-delay.attempts must be a non-negative integer, got ${maxAttempts}`);
    if (!(delayMs >= 0)) throw new Error(`restart-strategy.fixed-delay.delay must not be negative, got ${delayMs} ms`);
  }

  get description(): string {
    return `FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=${this.maxAttempts}, backoffTimeMS=${this.delayMs})`;
  }

  notifyFailure(_cause: string): boolean {
    this.restartAttempt++;
    return true;
  }

  canRestart(): boolean {
    return this.restartAttempt <= this.maxAttempts;
  }

  getBackoffTime(): number {
    return this.delayMs;
  }
}
