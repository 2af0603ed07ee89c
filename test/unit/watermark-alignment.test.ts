// Watermark alignment's pieces without processes: the JobMaster's coordinator (the lowest
// watermark of a group plus the drift, idle and ended subtasks left out), the source side's pause
// and its reports, the strategy's builder, and the alignment job on the in-process mini cluster.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamExecutionEnvironment } from '../../api/index.js';
import { WatermarkStrategy } from '../../api/watermark-strategy.js';
import { WatermarkAlignmentCoordinator } from '../../jobmanager/watermark-alignment.js';
import { SourceWatermarkAlignment } from '../../taskmanager/runtime/source-alignment.js';
import { readCommittedLines } from '../helpers/output.js';
import alignedJob from '../jobs/et-aligned.js';
import { maxLead, referenceCounts } from '../reference/alignment.js';

describe('WatermarkAlignmentCoordinator', () => {
  it('answers the lowest watermark of the group plus the drift; idle, ended and other groups do not count', () => {
    const current = new Set(['a', 'b', 'c', 'x']);
    const c = new WatermarkAlignmentCoordinator((id) => current.has(id));
    const report = (executionId: string, watermark: number, idle = false, group = 'g') =>
      c.report({ group, executionId, watermark, idle, maxDrift: 500 });
    expect(report('a', 10_000)).toBe(10_500);
    expect(report('b', 2_000)).toBe(2_500);
    expect(report('x', -5_000, false, 'other')).toBe(-4_500);
    expect(report('a', 11_000)).toBe(2_500);
    // An idle subtask holds nobody back.
    expect(report('b', 2_000, true)).toBe(11_500);
    expect(report('c', 3_000)).toBe(3_500);
    // A subtask that ended (or belongs to an earlier attempt) is dropped.
    current.delete('c');
    expect(report('a', 11_000)).toBe(11_500);
    // Reports of a subtask that is not current are not recorded.
    expect(report('c', 0)).toBe(11_500);
    current.delete('a');
    expect(report('a', 11_000)).toBe(Infinity);
  });
});

describe('SourceWatermarkAlignment', () => {
  it('reports at once and every interval, pauses past the limit and wakes at the next answer', async () => {
    const reports: Array<{ watermark: number; idle: boolean }> = [];
    const a = new SourceWatermarkAlignment({ group: 'g', maxDrift: 100, updateInterval: 20 }, (r) => {
      expect(r).toMatchObject({ group: 'g', maxDrift: 100 });
      reports.push({ watermark: r.watermark, idle: r.idle });
    });
    let wm = 5;
    a.start(
      () => wm,
      () => false,
    );
    expect(reports).toEqual([{ watermark: 5, idle: false }]);
    expect(a.mustPause(1e15)).toBe(false);
    a.setMaxAllowedWatermark(50);
    expect(a.mustPause(50)).toBe(false);
    expect(a.mustPause(51)).toBe(true);
    wm = 60;
    const woke = a.nextAnswer();
    await new Promise((r) => setTimeout(r, 70));
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(reports.at(-1)).toEqual({ watermark: 60, idle: false });
    a.setMaxAllowedWatermark(200);
    await woke;
    expect(a.mustPause(60)).toBe(false);
    const n = reports.length;
    const released = a.nextAnswer();
    a.stop();
    await released;
    await new Promise((r) => setTimeout(r, 50));
    expect(reports.length).toBe(n);
  });
});

describe('WatermarkStrategy.withWatermarkAlignment', () => {
  it('keeps the rest of the strategy, describes the alignment and checks its arguments', () => {
    const s = WatermarkStrategy.forBoundedOutOfOrderness<number>('2 s')
      .withIdleness(5000)
      .withWatermarkAlignment('bids', '10 s');
    expect(s.describe()).toEqual({
      kind: 'boundedOutOfOrderness',
      maxOutOfOrderness: 2000,
      idleness: 5000,
      alignment: { group: 'bids', maxDrift: 10_000, updateInterval: 1000 },
    });
    expect(s.withTimestampAssigner((n) => n).alignment).toEqual({
      group: 'bids',
      maxDrift: 10_000,
      updateInterval: 1000,
    });
    expect(() =>
      StreamExecutionEnvironment.getExecutionEnvironment()
        .fromSequence(1, 3)
        .assignTimestampsAndWatermarks(s as unknown as WatermarkStrategy<number>),
    ).toThrow(/applies to sources: pass the strategy to env.fromSource/);
    const monotonous = WatermarkStrategy.forMonotonousTimestamps<number>();
    expect(() => monotonous.withWatermarkAlignment('', 1)).toThrow(/name of a watermark group/);
    expect(() => monotonous.withWatermarkAlignment('g', -1)).toThrow(RangeError);
    expect(() => monotonous.withWatermarkAlignment('g', 1, 0)).toThrow(/must be positive/);
    expect(() => WatermarkStrategy.noWatermarks().withWatermarkAlignment('g', 1)).toThrow(/not noWatermarks/);
  });
});

describe('watermark alignment in the in-process mini cluster', () => {
  it('holds the fast subtask within the drift while the slow one reads; the counts stay exact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-align-local-'));
    try {
      const env = StreamExecutionEnvironment.getExecutionEnvironment();
      env.setParallelism(2);
      alignedJob(env, [dir, '6000', '4000', 'true', '500', '50']);
      await env.execute('aligned');
      expect(readCommittedLines(join(dir, 'counts')).sort()).toEqual(referenceCounts(6000));
      const lead = maxLead(readCommittedLines(join(dir, 'probes')));
      expect(lead).toBeGreaterThan(0);
      expect(lead).toBeLessThan(500 + 10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
