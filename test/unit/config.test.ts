import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Configuration, envVarName, loadConfiguration, parseDynamicProperties } from '../../common/config.js';
import { parseDuration, parseMemorySize } from '../../common/units.js';

describe('durations and sizes in Flink form', () => {
  it('parses the usual forms', () => {
    expect(parseDuration('500 ms')).toBe(500);
    expect(parseDuration('10 s')).toBe(10_000);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('1 min')).toBe(60_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('250')).toBe(250);
    expect(parseMemorySize('32 kb')).toBe(32 * 1024);
    expect(parseMemorySize('64m')).toBe(64 * 1024 * 1024);
  });
  it('rejects nonsense with the offending text', () => {
    expect(() => parseDuration('ten seconds')).toThrow(/invalid duration 'ten seconds'/);
    expect(() => parseDuration('5 parsecs')).toThrow(/unit 'parsecs'/);
    expect(() => parseMemorySize('lots')).toThrow(/invalid memory size/);
  });
});

describe('configuration layering', () => {
  it('weir.yaml, then WEIR_* variables, then -D; nested YAML keys flatten', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-conf-'));
    try {
      const file = join(dir, 'weir.yaml');
      writeFileSync(
        file,
        'rest.port: 9000\nheartbeat:\n  timeout: 20 s\n  interval: 2 s\ntaskmanager.numberOfTaskSlots: 3\n',
      );
      const conf = loadConfiguration({
        configFile: file,
        env: { [envVarName('heartbeat.timeout')]: '7 s', WEIR_TASKMANAGER_NUMBEROFTASKSLOTS: '5' },
        overrides: parseDynamicProperties(['taskmanager.numberOfTaskSlots=6']),
      });
      expect(conf.getInt('rest.port')).toBe(9000);
      expect(conf.getDuration('heartbeat.interval')).toBe(2000);
      expect(conf.getDuration('heartbeat.timeout')).toBe(7000);
      expect(conf.getInt('taskmanager.numberOfTaskSlots')).toBe(6);
      expect(conf.getDuration('execution.buffer-timeout')).toBe(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('reports bad values and bad -D pairs clearly', () => {
    expect(() => loadConfiguration({ env: {}, overrides: { 'heartbeat.timeout': 'soon' } })).toThrow(
      /heartbeat.timeout.*invalid duration 'soon'/,
    );
    expect(() => parseDynamicProperties(['novalue'])).toThrow(/expected key=value/);
    expect(() => new Configuration({ 'rest.port': 'x' }).getInt('rest.port')).toThrow(/must be an integer/);
  });
  it("refuses a value under the option's least one, at load and at every read", () => {
    expect(() =>
      loadConfiguration({
        env: {},
        overrides: {
          'taskmanager.memory.young-generation-size': '1 mb',
          'taskmanager.network.memory.buffers-per-remote-channel': '0',
        },
      }),
    ).toThrow(
      /young-generation-size' must be at least 3 mb, got '1 mb'.*buffers-per-remote-channel' must be at least 1, got '0'/,
    );
    const conf = new Configuration({ 'taskmanager.network.memory.buffers-per-channel': '-2' });
    expect(() => conf.getInt('taskmanager.network.memory.buffers-per-channel')).toThrow(/must be at least 1, got '-2'/);
    expect(
      new Configuration({ 'taskmanager.memory.young-generation-size': '3 mb' }).getMemorySize(
        'taskmanager.memory.young-generation-size',
      ),
    ).toBe(3 * 2 ** 20);
  });
  it.each([
    ['taskmanager.numberOfTaskSlots', '0', 1],
    ['state.checkpoints.num-retained', '0', 1],
    ['execution.checkpointing.tolerable-failed-checkpoints', '-2', -1],
    ['execution.checkpointing.max-concurrent-checkpoints', '0', 1],
    ['web.exception-history-size', '0', 1],
    ['log.file.max-files', '0', 1],
    ['restart-strategy.fixed-delay.attempts', '-1', 0],
    ['restart-strategy.exponential-delay.attempts-before-reset-backoff', '0', 1],
    ['restart-strategy.failure-rate.max-failures-per-interval', '0', 1],
  ])('refuses %s=%s when the configuration loads (least %i)', (key, bad, least) => {
    expect(() => loadConfiguration({ env: {}, overrides: { [key]: bad } })).toThrow(
      `configuration key '${key}' must be at least ${least}, got '${bad}'`,
    );
    expect(loadConfiguration({ env: {}, overrides: { [key]: String(least) } }).getInt(key as never)).toBe(least);
  });
});
