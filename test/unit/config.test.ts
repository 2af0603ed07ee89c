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
});
