// restart-strategy.type: exponential-delay (Flink's default when the job checkpoints). The delay
// starts at initialBackoff and grows by backoffMultiplier per restart up to maxBackoff, with a
// random jitter; after resetBackoffThreshold without failure it (and the attempt count) starts over.
import type { RestartBackoffTimeStrategy } from './restart-strategy.js';

export interface ExponentialDelayOptions {
  initialBackoff: number;
  maxBackoff: number;
  backoffMultiplier: number;
  resetBackoffThreshold: number;
  jitterFactor: number;
  /** Restarts allowed before the backoff resets; Infinity for no limit. */
  attemptsBeforeResetBackoff: number;
}

export class ExponentialDelayRestartBackoffTimeStrategy implements RestartBackoffTimeStrategy {
  private restartAttempt = 0;
  /** When the restart for the latest failure happens; undefined before the first failure. */
  private nextRestartTimestamp: number | undefined;

  constructor(
    private readonly o: ExponentialDelayOptions,
    private readonly now: () => number,
    private readonly random: () => number,
  ) {
    const key = 'restart-strategy.exponential-delay.';
    if (!(o.initialBackoff >= 1))
      throw new Error(`${key}initial-backoff must be at least 1 ms, got ${o.initialBackoff}`);
    if (!(o.maxBackoff >= o.initialBackoff))
      throw new Error(
        `${key}max-backoff (${o.maxBackoff} ms) must not be below initial-backoff (${o.initialBackoff} ms)`,
      );
    // Flink requires > 1; 1 (a constant delay) is accepted because the job API allows it.
    if (!(o.backoffMultiplier >= 1))
      throw new Error(`${key}backoff-multiplier must be at least 1, got ${o.backoffMultiplier}`);
    if (!(o.resetBackoffThreshold >= 1))
      throw new Error(`${key}reset-backoff-threshold must be at least 1 ms, got ${o.resetBackoffThreshold}`);
    if (!(o.jitterFactor >= 0 && o.jitterFactor <= 1))
      throw new Error(`${key}jitter-factor must be between 0 and 1, got ${o.jitterFactor}`);
    if (!(o.attemptsBeforeResetBackoff >= 1))
      throw new Error(`${key}attempts-before-reset-backoff must be at least 1, got ${o.attemptsBeforeResetBackoff}`);
  }

  get description(): string {
    const o = this.o;
    return `ExponentialDelayRestartBackoffTimeStrategy(initialBackoffMS=${o.initialBackoff}, maxBackoffMS=${o.maxBackoff}, backoffMultiplier=${o.backoffMultiplier}, resetBackoffThresholdMS=${o.resetBackoffThreshold}, jitterFactor=${o.jitterFactor}, attemptsBeforeResetBackoff=${o.attemptsBeforeResetBackoff}, currentRestartAttempt=${this.restartAttempt})`;
  }

  notifyFailure(_cause: string): boolean {
    const now = this.now();
    // Failures before the scheduled restart (other tasks of the same failover) are one attempt.
    if (this.nextRestartTimestamp !== undefined && now <= this.nextRestartTimestamp) return false;
    if (this.nextRestartTimestamp !== undefined && now - this.nextRestartTimestamp >= this.o.resetBackoffThreshold)
      this.restartAttempt = 0;
    this.nextRestartTimestamp = now + this.backoff();
    this.restartAttempt++;
    return true;
  }

  canRestart(): boolean {
    return this.restartAttempt <= this.o.attemptsBeforeResetBackoff;
  }

  getBackoffTime(): number {
    if (this.nextRestartTimestamp === undefined) throw new Error('getBackoffTime() before notifyFailure()');
    return Math.max(0, this.nextRestartTimestamp - this.now());
  }

  private backoff(): number {
    const { initialBackoff, maxBackoff, backoffMultiplier, jitterFactor } = this.o;
    const base = Math.floor(initialBackoff * Math.pow(backoffMultiplier, this.restartAttempt));
    // Uniform in [-offset, offset], as Flink's; the growth happens before the cap.
    const offset = Math.floor(base * jitterFactor);
    const jitter = offset === 0 ? 0 : Math.floor(this.random() * (2 * offset + 1)) - offset;
    const capped = Math.min(base + jitter, maxBackoff);
    // After enough attempts the growth overflows to Infinity (and Infinity - Infinity is NaN).
    return Math.max(initialBackoff, Number.isNaN(capped) ? maxBackoff : capped);
  }
}
