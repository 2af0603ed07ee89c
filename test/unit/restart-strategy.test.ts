import { describe, expect, it } from 'vitest';
import { Configuration } from '../../common/config.js';
import { createRestartStrategy, type RestartBackoffTimeStrategy } from '../../jobmanager/restart/restart-strategy.js';

/** A clock the test moves by hand. */
function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

/** notifyFailure at each time, then what the JobMaster asks: may it restart, and after how long. */
function script(strategy: RestartBackoffTimeStrategy, c: { t: number }, times: number[]) {
  return times.map((t) => {
    c.t = t;
    const counted = strategy.notifyFailure(`failure at ${t}`);
    return { t, counted, canRestart: strategy.canRestart(), backoff: strategy.getBackoffTime() };
  });
}

describe('restart strategies', () => {
  it('none: never restarts', () => {
    const s = createRestartStrategy({ type: 'none' }, new Configuration(), true);
    s.notifyFailure('boom');
    expect(s.canRestart()).toBe(false);
    expect(s.description).toBe('NoRestartBackoffTimeStrategy');
  });

  it('fixed-delay: `attempts` restarts over the job life, each after the delay', () => {
    const c = clock();
    const s = createRestartStrategy({ type: 'fixed-delay', attempts: 2, delay: 500 }, new Configuration(), false, {
      now: c.now,
    });
    expect(script(s, c, [0, 10_000, 99_999_999])).toEqual([
      { t: 0, counted: true, canRestart: true, backoff: 500 },
      { t: 10_000, counted: true, canRestart: true, backoff: 500 },
      { t: 99_999_999, counted: true, canRestart: false, backoff: 500 },
    ]);
    expect(s.description).toBe('FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=2, backoffTimeMS=500)');
  });

  it('failure-rate: restarts while at most N failures fall in any interval', () => {
    const c = clock();
    const s = createRestartStrategy(
      { type: 'failure-rate', maxFailuresPerInterval: 2, failureRateInterval: 60_000, delay: 1000 },
      new Configuration(),
      false,
      { now: c.now },
    );
    expect(
      script(s, c, [0, 10_000, 20_000, 70_001, 75_000, 140_000]).map((r) => [r.t, r.canRestart, r.backoff]),
    ).toEqual([
      [0, true, 1000],
      [10_000, true, 1000],
      [20_000, false, 1000], // 0, 10 000, 20 000: three failures within 60 s
      [70_001, true, 1000], // the latest three (10 000 .. 70 001) span more than 60 s
      [75_000, false, 1000], // 20 000 .. 75 000
      [140_000, true, 1000], // 70 001 .. 140 000
    ]);
  });

  it('exponential-delay: growing, capped backoff; concurrent failures merge; resets after a quiet period', () => {
    const c = clock(1_000_000);
    const s = createRestartStrategy(
      {
        type: 'exponential-delay',
        initialBackoff: 1000,
        maxBackoff: 5000,
        backoffMultiplier: 2,
        resetBackoffThreshold: 60_000,
        jitterFactor: 0,
      },
      new Configuration(),
      true,
      { now: c.now },
    );
    const t0 = 1_000_000;
    const run = script(s, c, [t0, t0 + 500, t0 + 1000 + 1, t0 + 3001 + 2, t0 + 7003 + 3, t0 + 12_006 + 4]);
    expect(run.map((r) => [r.counted, r.canRestart, r.backoff])).toEqual([
      [true, true, 1000],
      [false, true, 500], // another task failing before the restart: the same attempt, 500 ms left
      [true, true, 2000],
      [true, true, 4000],
      [true, true, 5000], // 8000, capped
      [true, true, 5000],
    ]);
    // More than reset-backoff-threshold after the last scheduled restart: back to the initial backoff.
    c.t = t0 + 12_010 + 5000 + 60_000;
    expect(s.notifyFailure('late')).toBe(true);
    expect(s.getBackoffTime()).toBe(1000);
  });

  it('exponential-delay: attempts-before-reset-backoff limits restarts until the backoff resets', () => {
    const c = clock();
    const s = createRestartStrategy(
      {
        type: 'exponential-delay',
        initialBackoff: 10,
        maxBackoff: 100,
        backoffMultiplier: 2,
        resetBackoffThreshold: 1000,
        jitterFactor: 0,
        attempts: 2,
      },
      new Configuration(),
      true,
      { now: c.now },
    );
    expect(script(s, c, [0, 100, 200]).map((r) => r.canRestart)).toEqual([true, true, false]);
    c.t = 200 + 40 + 1000;
    s.notifyFailure('after a quiet hour');
    expect(s.canRestart()).toBe(true);
  });

  it('exponential-delay: jitter stays within ±factor of the backoff', () => {
    const c = clock();
    const draws = [0, 0.999999, 0.5];
    const s = createRestartStrategy(
      {
        type: 'exponential-delay',
        initialBackoff: 1000,
        maxBackoff: 100_000,
        backoffMultiplier: 2,
        resetBackoffThreshold: 1_000_000,
        jitterFactor: 0.1,
      },
      new Configuration(),
      true,
      { now: c.now, random: () => draws.shift()! },
    );
    // 1000 - 100 is below the initial backoff, so it is raised to 1000; then 2000 + 200; then 4000 + 0.
    expect(script(s, c, [0, 10_000, 20_000]).map((r) => r.backoff)).toEqual([1000, 2200, 4000]);
  });
});

describe('createRestartStrategy: which strategy applies', () => {
  it("the job's setting wins over the cluster's", () => {
    const conf = new Configuration({ 'restart-strategy.type': 'fixed-delay' });
    expect(createRestartStrategy({ type: 'none' }, conf, true).description).toBe('NoRestartBackoffTimeStrategy');
  });

  it("the cluster's restart-strategy.type and keys, with Flink's names and aliases", () => {
    const fixed = createRestartStrategy(
      undefined,
      new Configuration({
        'restart-strategy.type': 'FixedDelay',
        'restart-strategy.fixed-delay.attempts': '3',
        'restart-strategy.fixed-delay.delay': '10 s',
      }),
      false,
    );
    expect(fixed.description).toBe(
      'FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=3, backoffTimeMS=10000)',
    );
    const rate = createRestartStrategy(
      undefined,
      new Configuration({
        'restart-strategy.type': 'failure-rate',
        'restart-strategy.failure-rate.max-failures-per-interval': '4',
        'restart-strategy.failure-rate.failure-rate-interval': '5 min',
      }),
      false,
    );
    expect(rate.description).toBe(
      'FailureRateRestartBackoffTimeStrategy(failuresIntervalMS=300000, backoffTimeMS=1000, maxFailuresPerInterval=4)',
    );
    const exp = createRestartStrategy(
      undefined,
      new Configuration({
        'restart-strategy.type': 'exponential-delay',
        'restart-strategy.exponential-delay.backoff-multiplier': '1.2',
        'restart-strategy.exponential-delay.attempts-before-reset-backoff': '7',
      }),
      false,
    );
    expect(exp.description).toContain(
      'initialBackoffMS=1000, maxBackoffMS=60000, backoffMultiplier=1.2, resetBackoffThresholdMS=3600000, jitterFactor=0.1, attemptsBeforeResetBackoff=7',
    );
    // The pre-1.19 key still works.
    expect(createRestartStrategy(undefined, new Configuration({ 'restart-strategy': 'off' }), true).description).toBe(
      'NoRestartBackoffTimeStrategy',
    );
  });

  it('with nothing configured: exponential-delay when checkpointing, else none (Flink 1.19+)', () => {
    const conf = new Configuration();
    expect(createRestartStrategy(undefined, conf, true).description).toContain(
      'ExponentialDelayRestartBackoffTimeStrategy(initialBackoffMS=1000, maxBackoffMS=60000, backoffMultiplier=1.5, resetBackoffThresholdMS=3600000, jitterFactor=0.1, attemptsBeforeResetBackoff=Infinity',
    );
    expect(createRestartStrategy(undefined, conf, false).description).toBe('NoRestartBackoffTimeStrategy');
  });

  it('reports bad settings clearly', () => {
    expect(() =>
      createRestartStrategy(undefined, new Configuration({ 'restart-strategy.type': 'sometimes' }), false),
    ).toThrow(
      "unknown restart-strategy.type 'sometimes' (expected none, fixed-delay, failure-rate or exponential-delay)",
    );
    expect(() =>
      createRestartStrategy({ type: 'fixed-delay', attempts: -1, delay: 0 }, new Configuration(), false),
    ).toThrow(/fixed-delay.attempts must be a non-negative integer, got -1/);
    expect(() =>
      createRestartStrategy(
        { type: 'failure-rate', maxFailuresPerInterval: 0, failureRateInterval: 1, delay: 0 },
        new Configuration(),
        false,
      ),
    ).toThrow(/max-failures-per-interval must be a positive integer/);
    expect(() =>
      createRestartStrategy(
        {
          type: 'exponential-delay',
          initialBackoff: 10,
          maxBackoff: 5,
          backoffMultiplier: 2,
          resetBackoffThreshold: 1,
          jitterFactor: 0,
        },
        new Configuration(),
        false,
      ),
    ).toThrow(/max-backoff \(5 ms\) must not be below initial-backoff \(10 ms\)/);
    expect(() =>
      createRestartStrategy(
        undefined,
        new Configuration({
          'restart-strategy.type': 'exponential-delay',
          'restart-strategy.exponential-delay.jitter-factor': 'lots',
        }),
        false,
      ),
    ).toThrow(/jitter-factor' must be a number, got 'lots'/);
  });
});
