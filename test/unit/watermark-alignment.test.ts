// Watermark alignment's pieces without processes: the JobMaster's coordinator (the lowest
// watermark of a group plus the drift, idle and ended subtasks left out), the source side's pause
// and its reports, the strategy's builder, and the alignment job on the in-process mini cluster.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamExecutionEnvironment } from '../../api/index.js';
import { WatermarkStrategy } from '../../api/watermark-strategy.js';
import { WatermarkAlignmentCoordinator, type PushedLimit } from '../../jobmanager/watermark-alignment.js';
import {
  AlignmentBoard,
  alignmentGroupKey,
  BOARD_CELLS,
  createAlignmentBoard,
} from '../../taskmanager/runtime/alignment-board.js';
import { SourceWatermarkAlignment } from '../../taskmanager/runtime/source-alignment.js';
import { readCommittedLines } from '../helpers/output.js';
import alignedJob from '../jobs/et-aligned.js';
import { maxLead, referenceCounts } from '../reference/alignment.js';

describe('WatermarkAlignmentCoordinator', () => {
  it('answers the lowest watermark of the rest of the group plus the drift; idle, ended and other groups do not count', () => {
    // The current subtasks of each group; each one is added as it starts.
    const members = new Map([
      ['g', new Set(['a'])],
      ['other', new Set(['x'])],
    ]);
    const g = members.get('g')!;
    const c = new WatermarkAlignmentCoordinator((group) => members.get(group) ?? new Set());
    const report = (executionId: string, watermark: number, idle = false, group = 'g') =>
      c.report({ group, executionId, watermark, idle, maxDrift: 500 }).maxAllowedWatermark;
    // Alone in its group: nobody holds it back, its own stale report included.
    expect(report('a', 10_000)).toBe(Infinity);
    g.add('b');
    expect(report('b', 2_000)).toBe(10_500);
    expect(report('x', -5_000, false, 'other')).toBe(Infinity);
    expect(report('a', 11_000)).toBe(2_500);
    // The lowest is held back by the next lowest, not by itself.
    expect(report('b', 2_000)).toBe(11_500);
    // An idle subtask holds nobody back.
    expect(report('b', 2_000, true)).toBe(11_500);
    g.add('c');
    expect(report('c', 3_000)).toBe(11_500);
    expect(report('a', 11_000)).toBe(3_500);
    // A subtask that ended (or belongs to an earlier attempt) is dropped.
    g.delete('c');
    expect(report('a', 11_000)).toBe(Infinity);
    expect(report('b', 2_500)).toBe(11_500);
    // Reports of a subtask that is not current are not recorded.
    expect(report('c', 0)).toBe(3_000);
    expect(report('a', 11_000)).toBe(3_000);
    g.delete('a');
    expect(report('b', 2_500)).toBe(Infinity);
  });

  it('pushes a new limit to each paused subtask whose limit a report changed, ordered with the answers', () => {
    const pushes: PushedLimit[][] = [];
    const started = new Set<string>();
    const c = new WatermarkAlignmentCoordinator(
      () => started,
      (limits) => pushes.push(limits),
    );
    const report = (executionId: string, watermark: number, paused = false, idle = false) => {
      started.add(executionId);
      return c.report({ group: 'g', executionId, watermark, idle, maxDrift: 100, paused });
    };
    const first = report('a', 1_000);
    expect(first.maxAllowedWatermark).toBe(Infinity);
    // b joins: a reads on (not paused), so it learns its new limit at its next report.
    const second = report('b', 200);
    expect(second).toEqual({ maxAllowedWatermark: 1_100, sequence: first.sequence + 1 });
    expect(pushes).toEqual([]);
    // a finds itself past its limit and says so; c joins, paused too, above both.
    expect(report('a', 1_000, true).maxAllowedWatermark).toBe(300);
    expect(report('c', 5_000, true).maxAllowedWatermark).toBe(300);
    // c's reports change nobody's limit, so nothing is pushed.
    report('c', 6_000, true);
    expect(pushes).toEqual([]);
    // The lowest moves on: every paused subtask it held back learns it, in one push.
    const moved = report('b', 700);
    expect(moved.maxAllowedWatermark).toBe(1_100);
    expect(pushes[0]).toEqual([
      { executionId: 'a', maxAllowedWatermark: 800, sequence: moved.sequence },
      { executionId: 'c', maxAllowedWatermark: 800, sequence: moved.sequence },
    ]);
    // a reads on again; b goes idle: only c, still paused, is pushed (held by a now).
    expect(report('a', 1_000).maxAllowedWatermark).toBe(800);
    const idle = report('b', 700, false, true);
    expect(idle.maxAllowedWatermark).toBe(1_100);
    expect(pushes[1]).toEqual([{ executionId: 'c', maxAllowedWatermark: 1_100, sequence: idle.sequence }]);
  });

  it('holds the group at the minimum watermark while one of its current subtasks has not reported', () => {
    const MIN = Number.MIN_SAFE_INTEGER;
    const current = new Set(['a', 'b', 'c']);
    const pushes: PushedLimit[][] = [];
    const c = new WatermarkAlignmentCoordinator(
      () => current,
      (limits) => pushes.push(limits),
    );
    const report = (executionId: string, watermark: number, paused = false) =>
      c.report({ group: 'g', executionId, watermark, idle: false, maxDrift: 100, paused }).maxAllowedWatermark;
    // b and c still deploying: a may not pass the minimum watermark (it reads until its first).
    expect(report('a', MIN)).toBe(MIN + 100);
    expect(report('a', 1_000, true)).toBe(MIN + 100);
    // b reports before its first watermark; c is still silent.
    expect(report('b', MIN)).toBe(MIN + 100);
    expect(report('b', 50)).toBe(MIN + 100);
    expect(pushes).toEqual([]);
    // c reports: a, paused, is pushed the lowest of b and c.
    expect(report('c', 40)).toBe(150);
    expect(pushes.at(-1)).toEqual([{ executionId: 'a', maxAllowedWatermark: 140, sequence: expect.any(Number) }]);
    // c ends: only b holds a back.
    current.delete('c');
    expect(report('a', 1_000, true)).toBe(150);
  });
});

describe('SourceWatermarkAlignment', () => {
  it('reports at once and every interval while paused, pauses past the limit and wakes at the next answer', async () => {
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
    a.setMaxAllowedWatermark(200, 7);
    await woke;
    expect(a.mustPause(60)).toBe(false);
    // An older limit that arrives late (a push overtaken by an answer) is ignored.
    a.setMaxAllowedWatermark(50, 6);
    expect(a.mustPause(60)).toBe(false);
    a.setMaxAllowedWatermark(55, 8);
    expect(a.mustPause(60)).toBe(true);
    a.setMaxAllowedWatermark(200, 9);
    const n = reports.length;
    const released = a.nextAnswer();
    a.stop();
    await released;
    await new Promise((r) => setTimeout(r, 50));
    expect(reports.length).toBe(n);
  });

  it('reports a change at once when its last report is an interval old, and at once when it pauses; nothing unchanged unless paused', async () => {
    const reports: number[] = [];
    const paused: boolean[] = [];
    const a = new SourceWatermarkAlignment({ group: 'g', maxDrift: 100, updateInterval: 40 }, (r) => {
      reports.push(r.watermark);
      paused.push(r.paused === true);
    });
    let wm = 5;
    a.start(
      () => wm,
      () => false,
    );
    // Within the interval of the last report: the next tick carries the change.
    wm = 10;
    a.watermarkEmitted();
    expect(reports).toEqual([5]);
    await new Promise((r) => setTimeout(r, 150));
    expect(reports).toEqual([5, 10]);
    // Unchanged and not paused: the ticks send nothing.
    await new Promise((r) => setTimeout(r, 100));
    expect(reports).toEqual([5, 10]);
    // An interval after the last report: at once.
    wm = 20;
    a.watermarkEmitted();
    expect(reports).toEqual([5, 10, 20]);
    // Pausing: at once, saying so (the JobManager pushes limits to paused subtasks only); then
    // every tick, unchanged or not.
    a.setMaxAllowedWatermark(0, 1);
    expect(a.mustPause(wm)).toBe(true);
    expect(reports).toEqual([5, 10, 20, 20]);
    expect(paused.at(-1)).toBe(true);
    expect(a.mustPause(wm)).toBe(true);
    expect(reports).toEqual([5, 10, 20, 20]);
    await new Promise((r) => setTimeout(r, 100));
    expect(reports.length).toBeGreaterThanOrEqual(4);
    expect(reports.slice(3).every((w) => w === 20)).toBe(true);
    a.stop();
  });
});

describe('AlignmentBoard', () => {
  it("gives each thread's subtasks cells of their group, the group's lowest watermark and size, and frees a thread's cells", () => {
    const sab = createAlignmentBoard();
    const one = new AlignmentBoard(sab, 1);
    const two = new AlignmentBoard(sab, 2);
    const g = alignmentGroupKey('job', 0, 'g');
    const h = alignmentGroupKey('job', 0, 'h');
    expect(g).not.toBe(0);
    expect(alignmentGroupKey('job', 1, 'g')).not.toBe(g);
    expect(one.lowest(g)).toEqual({ watermark: Infinity, members: 0 });
    const a = one.claim(g, 500)!;
    const b = two.claim(g, Number.MIN_SAFE_INTEGER)!;
    const c = two.claim(h, 10)!;
    expect(new Set([a, b, c]).size).toBe(3);
    // A subtask that has emitted nothing yet holds its group at the lowest watermark.
    expect(one.lowest(g)).toEqual({ watermark: Number.MIN_SAFE_INTEGER, members: 2 });
    two.publish(b, 300);
    expect(one.lowest(g)).toEqual({ watermark: 300, members: 2 });
    // Idle: still a member, holding nobody back.
    two.publish(b, Infinity);
    expect(one.lowest(g)).toEqual({ watermark: 500, members: 2 });
    expect(one.lowest(h)).toEqual({ watermark: 10, members: 1 });
    one.release(a);
    expect(two.lowest(g)).toEqual({ watermark: Infinity, members: 1 });
    // Thread 2 ended: its cells are free, and claimed anew.
    AlignmentBoard.clearOwner(sab, 2);
    expect(one.lowest(g).members + one.lowest(h).members).toBe(0);
    const cells = Array.from({ length: BOARD_CELLS }, () => one.claim(g, 0));
    expect(cells.every((x) => x !== undefined)).toBe(true);
    expect(two.claim(g, 0)).toBeUndefined();
  });
});

describe('SourceWatermarkAlignment on a board', () => {
  const config = { group: 'g', maxDrift: 100, updateInterval: 60_000 };
  const start = (a: SourceWatermarkAlignment, wm: number) =>
    a.start(
      () => wm,
      () => false,
    );
  const key = alignmentGroupKey('j', 0, 'g');
  /** A subtask of a group of `members`, on its own thread's view of `sab`, started at watermark 0. */
  const subtask = (sab: SharedArrayBuffer, thread: number, members: number) => {
    const a = new SourceWatermarkAlignment(config, () => {}, {
      board: new AlignmentBoard(sab, thread),
      groupKey: key,
      members,
    });
    start(a, 0);
    return a;
  };

  it('aligns on the board alone when the whole group runs in this TaskManager, and looks again without an answer', async () => {
    const sab = createAlignmentBoard();
    const fast = subtask(sab, 1, 2);
    const slow = subtask(sab, 2, 2);
    // The JobManager's answer, stale and low, does not count when every subtask is here.
    fast.setMaxAllowedWatermark(10);
    expect(fast.mustPause(100)).toBe(false);
    expect(fast.mustPause(101)).toBe(true);
    expect(slow.mustPause(50)).toBe(false);
    expect(fast.mustPause(150)).toBe(false);
    expect(fast.mustPause(151)).toBe(true);
    // A paused subtask wakes to look at the board again though no answer comes.
    const t0 = performance.now();
    await fast.nextAnswer();
    expect(performance.now() - t0).toBeLessThan(1000);
    // Idle, or ended: the other holds nobody back.
    slow.idleChanged(true, 50);
    expect(fast.mustPause(10_000)).toBe(false);
    // An idle subtask that looks at the board still holds nobody back.
    expect(slow.mustPause(50)).toBe(false);
    expect(fast.mustPause(10_000)).toBe(false);
    slow.idleChanged(false, 50);
    expect(fast.mustPause(10_000)).toBe(true);
    // Read all its input: still on the board, holding nobody back.
    slow.endOfInput();
    slow.stop();
    expect(fast.mustPause(10_000)).toBe(false);
    fast.stop();
  });

  it("leaves the board when stopped before the end of its input, so the JobManager's answer decides again", () => {
    const sab = createAlignmentBoard();
    const a = subtask(sab, 1, 2);
    const b = subtask(sab, 2, 2);
    a.setMaxAllowedWatermark(50);
    expect(a.mustPause(100)).toBe(false);
    b.stop();
    expect(new AlignmentBoard(sab, 3).lowest(key).members).toBe(1);
    expect(a.mustPause(100)).toBe(true);
    a.setMaxAllowedWatermark(10_100);
    expect(a.mustPause(10_000)).toBe(false);
    a.stop();
    expect(new AlignmentBoard(sab, 3).lowest(key).members).toBe(0);
  });

  it("tells how far it is ahead of the group's lowest (watermarkAlignmentDrift): on the board, and by the JobManager's limit", () => {
    const whole = createAlignmentBoard();
    const a = subtask(whole, 1, 2);
    const b = subtask(whole, 2, 2);
    expect(a.currentDrift(0)).toBe(0);
    a.mustPause(300);
    b.mustPause(100);
    // The whole group is here: the board alone says, whatever the JobManager last answered.
    a.setMaxAllowedWatermark(10_000, 1);
    expect(a.currentDrift(300)).toBe(200);
    expect(b.currentDrift(100)).toBe(0);
    a.stop();
    b.stop();
    // A third subtask runs elsewhere, at 50 by the JobManager's limit (50 plus the drift of 100).
    const part = createAlignmentBoard();
    const c = subtask(part, 1, 3);
    const d = subtask(part, 2, 3);
    c.mustPause(300);
    d.mustPause(100);
    c.setMaxAllowedWatermark(150, 1);
    expect(c.currentDrift(300)).toBe(250);
    // No limit yet: as far as it knows, it is the lowest.
    expect(d.currentDrift(100)).toBe(0);
    // The one elsewhere has emitted no watermark yet: the drift is not known.
    c.setMaxAllowedWatermark(Number.MIN_SAFE_INTEGER + 100, 2);
    expect(c.currentDrift(300)).toBe(0);
    // Stopped (its last watermark is the maximum): no drift.
    c.stop();
    expect(c.currentDrift(Number.MAX_SAFE_INTEGER)).toBe(0);
    d.stop();
  });

  it('tells the JobManager at once that it paused only while part of the group runs elsewhere', () => {
    const sab = createAlignmentBoard();
    const reports = new Map<number, boolean[]>();
    const on = (thread: number, members: number) => {
      const seen: boolean[] = [];
      reports.set(thread, seen);
      const a = new SourceWatermarkAlignment(config, (r) => seen.push(r.paused === true), {
        board: new AlignmentBoard(sab, thread),
        groupKey: key,
        members,
      });
      start(a, 0);
      return a;
    };
    // The whole group here: the board decides, and the JobManager hears nothing of the pause.
    const fast = on(1, 2);
    const slow = on(2, 2);
    slow.mustPause(0);
    expect(fast.mustPause(500)).toBe(true);
    expect(reports.get(1)).toEqual([false]);
    fast.stop();
    slow.stop();
    // A third subtask elsewhere: the pause is reported at once, as such.
    const here = on(3, 3);
    here.setMaxAllowedWatermark(100, 1);
    expect(here.mustPause(500)).toBe(true);
    expect(reports.get(3)).toEqual([false, true]);
    here.stop();
  });

  it("keeps the JobManager's limit while part of the group runs elsewhere", () => {
    const here = subtask(createAlignmentBoard(), 1, 2);
    expect(here.mustPause(50)).toBe(false);
    here.setMaxAllowedWatermark(40);
    expect(here.mustPause(50)).toBe(true);
    here.setMaxAllowedWatermark(1_000);
    // Its own watermark is on the board too: the limit is the lower of the two.
    expect(here.mustPause(500)).toBe(false);
    here.stop();
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
