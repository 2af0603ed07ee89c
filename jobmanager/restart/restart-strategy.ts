// Restart strategies (Flink's RestartBackoffTimeStrategy): after each failure of a job the
// JobMaster calls notifyFailure(), then canRestart() and, when it may, waits getBackoffTime()
// before it redeploys. createRestartStrategy() picks the job's strategy or the cluster's.
import type { RestartStrategySettings } from '../../common/checkpoint.js';
import type { Configuration } from '../../common/config.js';
import { ExponentialDelayRestartBackoffTimeStrategy } from './exponential-delay.js';
import { FailureRateRestartBackoffTimeStrategy } from './failure-rate.js';
import { FixedDelayRestartBackoffTimeStrategy } from './fixed-delay.js';
import { NoRestartBackoffTimeStrategy } from './no-restart.js';

export interface RestartBackoffTimeStrategy {
  /**
   * Records a failure. Returns false when it was merged into the restart already scheduled
   * (exponential-delay: a failure before that restart happened is not a new attempt).
   */
  notifyFailure(cause: string): boolean;
  /** Whether the job may restart after the failures recorded so far. */
  canRestart(): boolean;
  /** Milliseconds to wait before restarting. */
  getBackoffTime(): number;
  /** For logs, e.g. "FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=3, backoffTimeMS=10000)". */
  readonly description: string;
}

/** Clock and randomness, injectable for tests. */
export interface RestartStrategyContext {
  now?: () => number;
  /** Uniform in [0, 1); drives exponential-delay's jitter. */
  random?: () => number;
}

type StrategyType = RestartStrategySettings['type'];

const TYPE_ALIASES: Record<string, StrategyType> = {
  none: 'none',
  off: 'none',
  disable: 'none',
  'fixed-delay': 'fixed-delay',
  fixeddelay: 'fixed-delay',
  'failure-rate': 'failure-rate',
  failurerate: 'failure-rate',
  'exponential-delay': 'exponential-delay',
  exponentialdelay: 'exponential-delay',
};

/**
 * The job's own strategy wins; then the cluster's restart-strategy.type with its keys; with
 * neither, exponential-delay when the job checkpoints (Flink 1.19+), else none.
 */
export function createRestartStrategy(
  job: RestartStrategySettings | undefined,
  conf: Configuration,
  checkpointingEnabled: boolean,
  ctx: RestartStrategyContext = {},
): RestartBackoffTimeStrategy {
  return fromSettings(job ?? clusterSettings(conf, checkpointingEnabled), ctx);
}

/** The cluster's restart strategy settings (restart-strategy.type and its keys). */
export function clusterSettings(conf: Configuration, checkpointingEnabled: boolean): RestartStrategySettings {
  // 'restart-strategy' is the key's name before Flink 1.19; still read when the new one is unset.
  const raw = conf.getOptionalString('restart-strategy.type') ?? conf.getOptionalString('restart-strategy');
  let type: StrategyType;
  if (raw === undefined || raw.trim() === '') {
    type = checkpointingEnabled ? 'exponential-delay' : 'none';
  } else {
    const t = TYPE_ALIASES[raw.trim().toLowerCase()];
    if (!t)
      throw new Error(
        `unknown restart-strategy.type '${raw}' (expected none, fixed-delay, failure-rate or exponential-delay)`,
      );
    type = t;
  }
  switch (type) {
    case 'none':
      return { type };
    case 'fixed-delay':
      return {
        type,
        attempts: conf.getInt('restart-strategy.fixed-delay.attempts'),
        delay: conf.getDuration('restart-strategy.fixed-delay.delay'),
      };
    case 'failure-rate':
      return {
        type,
        maxFailuresPerInterval: conf.getInt('restart-strategy.failure-rate.max-failures-per-interval'),
        failureRateInterval: conf.getDuration('restart-strategy.failure-rate.failure-rate-interval'),
        delay: conf.getDuration('restart-strategy.failure-rate.delay'),
      };
    case 'exponential-delay': {
      const attemptsKey = 'restart-strategy.exponential-delay.attempts-before-reset-backoff';
      return {
        type,
        initialBackoff: conf.getDuration('restart-strategy.exponential-delay.initial-backoff'),
        maxBackoff: conf.getDuration('restart-strategy.exponential-delay.max-backoff'),
        backoffMultiplier: conf.getDouble('restart-strategy.exponential-delay.backoff-multiplier'),
        resetBackoffThreshold: conf.getDuration('restart-strategy.exponential-delay.reset-backoff-threshold'),
        jitterFactor: conf.getDouble('restart-strategy.exponential-delay.jitter-factor'),
        ...(conf.getOptionalString(attemptsKey) !== undefined ? { attempts: conf.getInt(attemptsKey) } : {}),
      };
    }
  }
}

export function fromSettings(s: RestartStrategySettings, ctx: RestartStrategyContext = {}): RestartBackoffTimeStrategy {
  const now = ctx.now ?? Date.now;
  switch (s.type) {
    case 'none':
      return new NoRestartBackoffTimeStrategy();
    case 'fixed-delay':
      return new FixedDelayRestartBackoffTimeStrategy(s.attempts, s.delay);
    case 'failure-rate':
      return new FailureRateRestartBackoffTimeStrategy(s.maxFailuresPerInterval, s.failureRateInterval, s.delay, now);
    case 'exponential-delay':
      return new ExponentialDelayRestartBackoffTimeStrategy(
        {
          initialBackoff: s.initialBackoff,
          maxBackoff: s.maxBackoff,
          backoffMultiplier: s.backoffMultiplier,
          resetBackoffThreshold: s.resetBackoffThreshold,
          jitterFactor: s.jitterFactor,
          attemptsBeforeResetBackoff: s.attempts ?? Number.POSITIVE_INFINITY,
        },
        now,
        ctx.random ?? Math.random,
      );
    default:
      throw new Error(`unknown restart strategy type '${(s as { type: unknown }).type}'`);
  }
}
