// restart-strategy.type: failure-rate. Restarts while no more than `maxFailuresPerInterval`
// failures fall within any window of `failureRateInterval`; each restart after a fixed delay.
import type { RestartBackoffTimeStrategy } from './restart-strategy.js';

export class FailureRateRestartBackoffTimeStrategy implements RestartBackoffTimeStrategy {
  /** Times of the latest maxFailuresPerInterval + 1 failures, oldest first. */
  private readonly failures: number[] = [];

  constructor(
    private readonly maxFailuresPerInterval: number,
    private readonly intervalMs: number,
    private readonly delayMs: number,
    private readonly now: () => number,
  ) {
    if (!Number.isInteger(maxFailuresPerInterval) || maxFailuresPerInterval < 1)
      throw new Error(
        `restart-strategy.failure-rate.max-failures-per-interval must be a positive integer, got ${maxFailuresPerInterval}`,
      );
    if (!(intervalMs > 0))
      throw new Error(`restart-strategy.failure-rate.failure-rate-interval must be positive, got ${intervalMs} ms`);
    if (!(delayMs >= 0)) throw new Error(`restart-strategy.failure-rate.delay must not be negative, got ${delayMs} ms`);
  }

  get description(): string {
    return `FailureRateRestartBackoffTimeStrategy(failuresIntervalMS=${this.intervalMs}, backoffTimeMS=${this.delayMs}, maxFailuresPerInterval=${this.maxFailuresPerInterval})`;
  }

  notifyFailure(_cause: string): boolean {
    if (this.isFull()) this.failures.shift();
    this.failures.push(this.now());
    return true;
  }

  canRestart(): boolean {
    // One failure more than allowed is recorded: the job may restart only if it lies outside the window.
    if (!this.isFull()) return true;
    return this.now() - this.failures[0]! > this.intervalMs;
  }

  getBackoffTime(): number {
    return this.delayMs;
  }

  private isFull(): boolean {
    return this.failures.length > this.maxFailuresPerInterval;
  }
}
