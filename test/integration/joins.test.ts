// Stream-stream joins and two-input operators across real processes (a JobManager and two
// TaskManagers, two-input operators at parallelism 2, one subtask on each), compared as multisets
// with nested-loop references over the whole input. The input is randomized and out of order
// with fixed seeds, its disorder below the watermark bound, so no record is late and the results
// do not depend on timing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import {
  referenceCoGroup,
  referenceIntervalJoin,
  referenceWindowJoin,
  windowGroups,
  type IntervalBounds,
  type JoinSpec,
} from '../reference/joins.js';
import { lateRecordsPerSubtask } from '../reference/stream.js';
import {
  coGroupLine,
  finalRules,
  intervalLine,
  isSideOutput,
  jRecord,
  jRecords,
  matchLine,
  pairLine,
  ruleChanges,
  ruleMatches,
  sideLine,
  slotEnd,
  slotLine,
  type JInputParams,
  type JJobSpec,
  type JRecord,
  type JWindowSpec,
} from '../jobs/j-input.js';
import { expectSpreadOverTaskManagers } from '../helpers/spread.js';

const BOUND_MS = 100;
const input = (seed: number, keys = 29): JInputParams => ({
  seed,
  keys,
  disorderMs: 40,
  left: { count: 4000, stepMs: 2 },
  right: { count: 3000, stepMs: 3 },
});
const recordSpec = (assigner?: JWindowSpec): JoinSpec<JRecord, JRecord, number> => ({
  assigner: assigner ?? { kind: 'tumbling', size: 1 },
  leftKey: (r) => r.key,
  rightKey: (r) => r.key,
  leftTs: (r) => r.ts,
  rightTs: (r) => r.ts,
});

let cluster: TestCluster;
const out = mkdtempSync(join(tmpdir(), 'weir-joins-'));
let runs = 0;

beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 2, slots: 2 });
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(out, { recursive: true, force: true });
});

/** Runs a test job at parallelism 2 to completion; its parallel vertices must use both TaskManagers. */
async function runJob(job: string, args: (dir: string) => string[]): Promise<{ dir: string; job: any }> {
  const dir = join(out, `run-${runs++}`);
  const jobId = await cluster.submit(job, args(dir), 2);
  const done = await cluster.waitForJob(jobId, ['FINISHED'], 90_000);
  expectSpreadOverTaskManagers(done, 2);
  return { dir, job: done };
}

async function runJoins(spec: JJobSpec): Promise<{ results: string[]; side: string[]; job: any }> {
  // The premise of exact results: nothing late behind either source's two subtasks.
  for (const side of [0, 1] as const) {
    const n = side === 0 ? spec.input.left.count : spec.input.right.count;
    expect(lateRecordsPerSubtask((i) => jRecord(side, i, spec.input).ts, n, 2, spec.boundMs)).toBe(0);
  }
  const { dir, job } = await runJob('test/jobs/j-joins.ts', (d) => [d, JSON.stringify(spec)]);
  return { results: readCommittedLines(join(dir, 'results')), side: readCommittedLines(join(dir, 'side')), job };
}

/** The vertex whose chain holds an operator of `kind`. */
function vertexWith(job: any, kind: string): any {
  const v = job.vertices.find((x: any) => x.operators?.some((o: any) => o.kind === kind));
  expect(v, `a vertex with a ${kind} operator`).toBeDefined();
  return v;
}

describe('the join references', () => {
  const rec = (side: 0 | 1, seq: number, key: number, ts: number): JRecord => ({ side, seq, key, value: 0, ts });
  const lefts = [rec(0, 0, 1, 10), rec(0, 1, 1, 31), rec(0, 2, 2, 12)];
  const rights = [rec(1, 0, 1, 14), rec(1, 1, 1, 40), rec(1, 2, 2, 55)];

  it('joins pairs per key and tumbling or sliding window', () => {
    expect(referenceWindowJoin(lefts, rights, recordSpec({ kind: 'tumbling', size: 20 }), pairLine)).toEqual([
      '1|L0|R0',
    ]);
    // L0-R0 in [-10,20), [0,30), [10,40); L1-R0 in [10,40); L1-R1 in [20,50), [30,60).
    expect(
      referenceWindowJoin(lefts, rights, recordSpec({ kind: 'sliding', size: 30, slide: 10 }), pairLine).sort(),
    ).toEqual(['1|L0|R0', '1|L0|R0', '1|L0|R0', '1|L1|R0', '1|L1|R1', '1|L1|R1']);
  });

  it('merges sessions over both sides, touching ones included', () => {
    // Key 1 with gap 4: 10, 14 (touches [10,14)), then 31 and 40 apart; key 2: 12 and 55 apart.
    const groups = windowGroups(lefts, rights, recordSpec({ kind: 'session', gap: 4 }));
    expect(
      groups.map((g) => `${g.key}[${g.window.start},${g.window.end}):${g.lefts.length}/${g.rights.length}`).sort(),
    ).toEqual(['1[10,18):1/1', '1[31,35):1/0', '1[40,44):0/1', '2[12,16):1/0', '2[55,59):0/1']);
    expect(referenceCoGroup(lefts, rights, recordSpec({ kind: 'session', gap: 4 }), coGroupLine).sort()).toEqual([
      '1|L0|R0',
      '1|L1|R',
      '1|L|R1',
      '2|L2|R',
      '2|L|R2',
    ]);
  });

  it('bounds interval joins inclusively or exclusively', () => {
    const run = (b: IntervalBounds) =>
      referenceIntervalJoin(lefts, rights, recordSpec(undefined), b, (l, r) => `L${l.seq}R${r.seq}`).sort();
    // R0 - L0 = 4, R1 - L1 = 9, R1 - L0 = 30, R0 - L1 = -17.
    expect(run({ lower: -17, upper: 9, lowerExclusive: false, upperExclusive: false })).toEqual([
      'L0R0',
      'L1R0',
      'L1R1',
    ]);
    expect(run({ lower: -17, upper: 9, lowerExclusive: true, upperExclusive: false })).toEqual(['L0R0', 'L1R1']);
    expect(run({ lower: -17, upper: 9, lowerExclusive: false, upperExclusive: true })).toEqual(['L0R0', 'L1R0']);
    expect(run({ lower: 4, upper: 4, lowerExclusive: true, upperExclusive: true })).toEqual([]);
  });
});

describe('window joins and coGroup on two TaskManagers', () => {
  const windows: [string, JWindowSpec][] = [
    ['tumbling', { kind: 'tumbling', size: 500 }],
    ['sliding', { kind: 'sliding', size: 600, slide: 200 }],
    ['session', { kind: 'session', gap: 60 }],
  ];

  for (const [name, window] of windows) {
    it(`joins in ${name} windows`, async () => {
      const spec: JJobSpec = {
        op: 'join',
        window,
        input: input(11 + windows.findIndex((w) => w[0] === name)),
        boundMs: BOUND_MS,
      };
      const expected = referenceWindowJoin(
        jRecords(0, spec.input),
        jRecords(1, spec.input),
        recordSpec(window),
        pairLine,
      );
      expect(expected.length).toBeGreaterThan(2000);
      const { results, job } = await runJoins(spec);
      expect(multisetDiff(results, expected)).toEqual(NO_DIFF);
      expect(vertexWith(job, 'window').parallelism).toBe(2);
    });
  }

  for (const [name, window] of windows) {
    it(`coGroups in ${name} windows, including windows with one side only`, async () => {
      const spec: JJobSpec = {
        op: 'coGroup',
        window,
        input: input(21 + windows.findIndex((w) => w[0] === name)),
        boundMs: BOUND_MS,
      };
      const expected = referenceCoGroup(
        jRecords(0, spec.input),
        jRecords(1, spec.input),
        recordSpec(window),
        coGroupLine,
      );
      expect(expected.length).toBeGreaterThan(200);
      // Both one-sided kinds occur, so coGroup is not just a join.
      expect(expected.some((l) => l.includes('|L|'))).toBe(true);
      expect(expected.some((l) => l.endsWith('|R'))).toBe(true);
      const { results } = await runJoins(spec);
      expect(multisetDiff(results, expected)).toEqual(NO_DIFF);
    });
  }
});

describe('interval joins on two TaskManagers', () => {
  const cases: [string, IntervalBounds][] = [
    ['both bounds inclusive', { lower: -30, upper: 50, lowerExclusive: false, upperExclusive: false }],
    ['both bounds exclusive', { lower: -30, upper: 50, lowerExclusive: true, upperExclusive: true }],
    [
      'an exclusive lower bound, both bounds ahead',
      { lower: 10, upper: 90, lowerExclusive: true, upperExclusive: false },
    ],
    [
      'an exclusive upper bound, both bounds behind',
      { lower: -90, upper: -10, lowerExclusive: false, upperExclusive: true },
    ],
  ];

  cases.forEach(([name, bounds], i) => {
    it(`joins with ${name}`, async () => {
      const spec: JJobSpec = { op: 'interval', ...bounds, input: input(31 + i, 17), boundMs: BOUND_MS };
      const lefts = jRecords(0, spec.input);
      const rights = jRecords(1, spec.input);
      const line = (l: JRecord, r: JRecord, lts: number, rts: number, ts: number) => intervalLine(l, r, lts, rts, ts);
      const expected = referenceIntervalJoin(lefts, rights, recordSpec(undefined), bounds, line);
      const inclusive = referenceIntervalJoin(
        lefts,
        rights,
        recordSpec(undefined),
        { ...bounds, lowerExclusive: false, upperExclusive: false },
        line,
      );
      expect(expected.length).toBeGreaterThan(2000);
      // The input hits the bounds exactly, so exclusiveness shows in the results.
      if (bounds.lowerExclusive || bounds.upperExclusive) expect(expected.length).toBeLessThan(inclusive.length);
      const { results, job } = await runJoins(spec);
      expect(multisetDiff(results, expected)).toEqual(NO_DIFF);
      expect(vertexWith(job, 'intervalJoin').parallelism).toBe(2);
    });
  });
});

describe('keyed co-process and broadcast state on two TaskManagers', () => {
  it('fires per-key event-time timers over both inputs and emits side outputs', async () => {
    const spec: JJobSpec = { op: 'coProcess', input: input(41, 13), boundMs: BOUND_MS };
    const records = [...jRecords(0, spec.input), ...jRecords(1, spec.input)];
    const counts = new Map<string, { key: number; end: number; c: [number, number] }>();
    for (const r of records) {
      const id = `${r.key}:${slotEnd(r.ts)}`;
      let e = counts.get(id);
      if (!e) counts.set(id, (e = { key: r.key, end: slotEnd(r.ts), c: [0, 0] }));
      e.c[r.side]++;
    }
    // onTimer's timestamp() is the timer's time.
    const expected = [...counts.values()].map((e) => slotLine(e.key, e.end, e.end, e.c[0], e.c[1]));
    const expectedSide = records.filter(isSideOutput).map(sideLine);
    expect(expected.length).toBeGreaterThan(100);
    expect(expectedSide.length).toBeGreaterThan(100);
    const { results, side, job } = await runJoins(spec);
    expect(multisetDiff(results, expected)).toEqual(NO_DIFF);
    expect(multisetDiff(side, expectedSide)).toEqual(NO_DIFF);
    expect(vertexWith(job, 'coProcess').parallelism).toBe(2);
  });

  it('matches keyed events against broadcast rules, the same on every subtask', async () => {
    const params = input(51, 19);
    const changes = ruleChanges(5, 12);
    const rules = finalRules(changes);
    // Removes and overwrites happen, so the order of broadcast records matters.
    expect(changes.some((c) => c.op === 'remove')).toBe(true);
    expect(rules.size).toBeGreaterThan(3);
    expect(rules.size).toBeLessThan(12);
    const expected: string[] = [];
    for (const r of jRecords(0, params))
      for (const [id, rule] of rules) if (ruleMatches(rule, r)) expected.push(matchLine(r, id));
    expect(expected.length).toBeGreaterThan(500);
    const { dir, job } = await runJob('test/jobs/j-broadcast.ts', (d) => [
      d,
      JSON.stringify(params),
      String(BOUND_MS),
      '5',
      '12',
    ]);
    expect(multisetDiff(readCommittedLines(join(dir, 'results')), expected)).toEqual(NO_DIFF);
    expect(vertexWith(job, 'broadcastProcess').parallelism).toBe(2);
  });
});
