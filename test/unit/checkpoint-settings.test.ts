import { describe, expect, it } from 'vitest';
import { Configuration, loadConfiguration, stateBackendType } from '../../common/config.js';
import { resolveCheckpointingSettings } from '../../jobmanager/checkpoint/checkpointing-settings.js';

describe('checkpoint configuration', () => {
  it("uses Flink's defaults", () => {
    const conf = new Configuration();
    expect(conf.getOptionalDuration('execution.checkpointing.interval')).toBeUndefined();
    expect(conf.getDuration('execution.checkpointing.timeout')).toBe(600_000);
    expect(conf.getInt('state.checkpoints.num-retained')).toBe(1);
    expect(conf.getInt('web.checkpoints.history')).toBe(10);
    expect(conf.getOptionalString('state.checkpoints.dir')).toBeUndefined();
    expect(conf.getDouble('restart-strategy.exponential-delay.backoff-multiplier')).toBe(1.5);
    expect(stateBackendType(conf)).toBe('heap');
  });

  it("accepts Flink's backend names and rejects unknown choices", () => {
    expect(stateBackendType(new Configuration({ 'state.backend': 'rocksdb' }))).toBe('level');
    expect(stateBackendType(new Configuration({ 'state.backend': 'HashMap' }))).toBe('heap');
    expect(stateBackendType(new Configuration({ 'state.backend': 'level' }))).toBe('level');
    expect(() => loadConfiguration({ env: {}, overrides: { 'state.backend': 'memory' } })).toThrow(
      "configuration key 'state.backend' must be one of heap, level, hashmap, rocksdb, got 'memory'",
    );
    expect(() =>
      loadConfiguration({ env: {}, overrides: { 'restart-strategy.exponential-delay.jitter-factor': 'high' } }),
    ).toThrow(/jitter-factor' must be a number, got 'high'/);
    expect(
      loadConfiguration({ env: { WEIR_RESTART_STRATEGY_TYPE: 'fixed-delay' } }).getString('restart-strategy.type'),
    ).toBe('fixed-delay');
  });

  it('is off unless the job or execution.checkpointing.interval enables it', () => {
    expect(resolveCheckpointingSettings(undefined, new Configuration())).toBeUndefined();
    expect(resolveCheckpointingSettings({ interval: -1 }, new Configuration())).toBeUndefined();
  });

  it('takes the cluster keys for what the job leaves unset', () => {
    const conf = new Configuration({
      'execution.checkpointing.interval': '30 s',
      'execution.checkpointing.mode': 'at_least_once',
      'execution.checkpointing.timeout': '2 min',
      'execution.checkpointing.min-pause': '5 s',
      'execution.checkpointing.tolerable-failed-checkpoints': '3',
      'state.checkpoints.num-retained': '4',
    });
    expect(resolveCheckpointingSettings(undefined, conf)).toEqual({
      interval: 30_000,
      mode: 'AT_LEAST_ONCE',
      timeout: 120_000,
      minPauseBetweenCheckpoints: 5000,
      tolerableCheckpointFailureNumber: 3,
      maxConcurrentCheckpoints: 1,
      numRetained: 4,
      checkpointsAfterTasksFinish: true,
    });
    expect(resolveCheckpointingSettings({ interval: 1000, mode: 'EXACTLY_ONCE', timeout: 5000 }, conf)).toMatchObject({
      interval: 1000,
      mode: 'EXACTLY_ONCE',
      timeout: 5000,
      minPauseBetweenCheckpoints: 5000,
      numRetained: 4,
    });
  });

  it("continues checkpoints after tasks finished unless Flink's key turns it off", () => {
    const off = new Configuration({
      'execution.checkpointing.interval': '1 s',
      'execution.checkpointing.checkpoints-after-tasks-finish.enabled': 'false',
    });
    expect(resolveCheckpointingSettings(undefined, off)?.checkpointsAfterTasksFinish).toBe(false);
    expect(resolveCheckpointingSettings({ interval: 1000 }, new Configuration())?.checkpointsAfterTasksFinish).toBe(
      true,
    );
  });
});
