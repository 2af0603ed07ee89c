// Flink's RestartStrategies: a job's own restart strategy, which wins over the cluster's
// restart-strategy.* configuration. Delays and intervals are milliseconds.
import type { RestartStrategySettings } from '../common/checkpoint.js';

function ms(v: unknown, what: string): number {
  const n =
    typeof v === 'object' && v !== null && typeof (v as { toMilliseconds?: unknown }).toMilliseconds === 'function'
      ? (v as { toMilliseconds(): number }).toMilliseconds()
      : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
    throw new RangeError(`${what} must be a non-negative number of milliseconds, got ${String(n)}`);
  return n;
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new RangeError(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

type Millis = number | { toMilliseconds(): number };

export const RestartStrategies = {
  noRestart(): RestartStrategySettings {
    return { type: 'none' };
  },
  fixedDelayRestart(restartAttempts: number, delayBetweenAttempts: Millis): RestartStrategySettings {
    return {
      type: 'fixed-delay',
      attempts: positiveInt(restartAttempts, 'restart attempts'),
      delay: ms(delayBetweenAttempts, 'restart delay'),
    };
  },
  failureRateRestart(failureRate: number, failureInterval: Millis, delayInterval: Millis): RestartStrategySettings {
    return {
      type: 'failure-rate',
      maxFailuresPerInterval: positiveInt(failureRate, 'failure rate'),
      failureRateInterval: ms(failureInterval, 'failure rate interval'),
      delay: ms(delayInterval, 'restart delay'),
    };
  },
  exponentialDelayRestart(
    initialBackoff: Millis,
    maxBackoff: Millis,
    backoffMultiplier: number,
    resetBackoffThreshold: Millis,
    jitterFactor: number,
  ): RestartStrategySettings {
    if (typeof backoffMultiplier !== 'number' || !(backoffMultiplier >= 1))
      throw new RangeError(`backoff multiplier must be >= 1, got ${String(backoffMultiplier)}`);
    if (typeof jitterFactor !== 'number' || !(jitterFactor >= 0 && jitterFactor <= 1))
      throw new RangeError(`jitter factor must be between 0 and 1, got ${String(jitterFactor)}`);
    return {
      type: 'exponential-delay',
      initialBackoff: ms(initialBackoff, 'initial backoff'),
      maxBackoff: ms(maxBackoff, 'max backoff'),
      backoffMultiplier,
      resetBackoffThreshold: ms(resetBackoffThreshold, 'reset backoff threshold'),
      jitterFactor,
    };
  },
};
