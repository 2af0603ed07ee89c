// Event-time windows and timers across real processes (a JobManager and two TaskManagers, keyed
// operators at parallelism 2, one subtask on each), compared line by line with plain reference
// loops on randomized, out-of-order input with fixed seeds.
//  - Without late data (disorder below the watermark bound, two parallel source subtasks with
//    periodic watermarks) the results do not depend on timing: the reference is all records,
//    then the end of input.
//  - With late data the source has one subtask whose watermark generator emits after every
//    event, so the reference replays exactly the watermarks the window operator saw.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { batchStream, perEventWatermarkStream, type StreamEvent } from '../reference/stream.js';
import { referenceTimers } from '../reference/timers.js';
import { referenceWindows, type RefWindow, type WindowReferenceResult } from '../reference/windows.js';
import {
  behindLine,
  etRecords,
  lateLine,
  mergeStats,
  processLine,
  statsLine,
  statsOf,
  timerLine,
  timerPlan,
  windowStatsLine,
  type EtRecord,
  type WindowJobSpec,
} from '../jobs/et-input.js';
import { expectSpreadOverTaskManagers } from '../helpers/spread.js';

let cluster: TestCluster;
const out = mkdtempSync(join(tmpdir(), 'weir-et-'));
let runs = 0;

beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 2, slots: 2 });
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(out, { recursive: true, force: true });
});

/** The stream the keyed operators see, per the spec's watermark mode. */
function inputStream(spec: WindowJobSpec): StreamEvent<EtRecord>[] {
  const records = etRecords(spec.input);
  if (spec.watermarks === 'perEvent') {
    if (spec.sourceParallelism !== 1) throw new Error('per-event references need a single source subtask');
    return perEventWatermarkStream(records, (r) => r.ts, spec.boundMs);
  }
  // Periodic watermarks: exact only when nothing can be late (see stream.ts).
  if (!(spec.input.disorderMs < spec.boundMs) || spec.input.latePercent)
    throw new Error('periodic-watermark references need disorder below the bound');
  return batchStream(records, (r) => r.ts);
}

function fold(elements: readonly EtRecord[]) {
  return elements.map(statsOf).reduce(mergeStats);
}

function referenceFor(spec: WindowJobSpec): WindowReferenceResult<EtRecord> {
  const wm = (w: number) => (spec.reportWatermark ? w : undefined);
  const fire = (key: number, win: RefWindow, elements: readonly EtRecord[], watermark: number): string[] => {
    switch (spec.fn) {
      case 'reduce':
      case 'aggregate':
        return [statsLine(fold(elements))];
      case 'reduceProcess':
      case 'aggregateProcess':
        return [windowStatsLine(win.start, win.end, fold(elements), wm(watermark))];
      case 'process':
        return [
          processLine(
            key,
            win.start,
            win.end,
            elements.map((r) => r.seq),
            wm(watermark),
          ),
        ];
    }
  };
  return referenceWindows(inputStream(spec), {
    assigner: spec.window,
    allowedLateness: spec.allowedLateness ?? 0,
    keyOf: (r) => r.key,
    fire,
  });
}

/** Runs a test job at parallelism 2 to completion and checks its keyed subtasks used both TaskManagers. */
async function runJob(job: string, spec: WindowJobSpec): Promise<string> {
  const dir = join(out, `run-${runs++}`);
  const jobId = await cluster.submit(job, [dir, JSON.stringify(spec)], 2);
  const done = await cluster.waitForJob(jobId, ['FINISHED'], 90_000);
  expectSpreadOverTaskManagers(done, 2);
  return dir;
}

async function checkWindows(spec: WindowJobSpec): Promise<WindowReferenceResult<EtRecord>> {
  const ref = referenceFor(spec);
  const dir = await runJob('test/jobs/et-windows.ts', spec);
  expect(ref.fired.length).toBeGreaterThan(50);
  expect(multisetDiff(readCommittedLines(join(dir, 'results')), ref.fired)).toEqual(NO_DIFF);
  if (spec.sideOutputLateData)
    expect(multisetDiff(readCommittedLines(join(dir, 'late')), ref.late.map(lateLine))).toEqual(NO_DIFF);
  return ref;
}

const onTime = (seed: number, keys: number): WindowJobSpec['input'] => ({
  seed,
  count: 30_000,
  keys,
  stepMs: 1,
  disorderMs: 40,
});
const withLateData = (seed: number, keys: number): WindowJobSpec['input'] => ({
  seed,
  count: 20_000,
  keys,
  stepMs: 1,
  disorderMs: 15,
  latePercent: 4,
  lateMs: 400,
});

describe('the reference loop', () => {
  const win = (key: string, w: RefWindow, els: readonly { ts: number }[], wm: number) => [
    `${key}[${w.start},${w.end}):${els.map((e) => e.ts).join(',')}@${wm}`,
  ];

  it('fires at the watermark, fires again for data within the lateness, then sends later data to the side output', () => {
    const records = [1, 12, 3, 16, 4].map((ts) => ({ ts }));
    const ref = referenceWindows(
      perEventWatermarkStream(records, (r) => r.ts, 0),
      { assigner: { kind: 'tumbling', size: 10 }, allowedLateness: 5, keyOf: () => 'a', fire: win },
    );
    expect(ref.fired).toEqual(['a[0,10):1@11', 'a[0,10):1,3@11', `a[10,20):12,16@${Number.MAX_SAFE_INTEGER}`]);
    expect(ref.late).toEqual([{ ts: 4 }]);
  });

  it('merges sessions that touch, whatever the arrival order', () => {
    const records = [1, 10, 5, 30].map((ts) => ({ ts }));
    const ref = referenceWindows(
      batchStream(records, (r) => r.ts),
      { assigner: { kind: 'session', gap: 5 }, allowedLateness: 0, keyOf: () => 'a', fire: win },
    );
    const max = Number.MAX_SAFE_INTEGER;
    expect(ref.fired.sort()).toEqual([`a[1,15):1,10,5@${max}`, `a[30,35):30@${max}`]);
  });

  it('fires timers once per key and timestamp, in order, skipping deleted ones', () => {
    const records = [
      { k: 'a', ts: 5 },
      { k: 'a', ts: 6 },
      { k: 'b', ts: 7 },
      { k: 'a', ts: 30 },
    ];
    const fired = referenceTimers(
      perEventWatermarkStream(records, (r) => r.ts, 0),
      {
        keyOf: (r) => r.k,
        onElement: (r) =>
          r.ts === 7 ? { register: [20, 8], delete: [20] } : { register: [r.ts >= 30 ? 40 : 10, 9], delete: [] },
        onTimer: (k, t, w) => [`${k}@${t}/${w}`],
      },
    );
    expect(fired).toEqual(['b@8/29', 'a@9/29', 'a@10/29', `a@40/${Number.MAX_SAFE_INTEGER}`]);
  });
});

describe('event-time windows on two TaskManagers', () => {
  it('tumbling windows with reduce', async () => {
    const ref = await checkWindows({
      input: onTime(1, 13),
      watermarks: 'periodic',
      boundMs: 100,
      window: { kind: 'tumbling', size: 500 },
      fn: 'reduce',
    });
    expect(ref.late).toHaveLength(0);
  });

  it('tumbling windows with an offset, with aggregate and a process function', async () => {
    await checkWindows({
      input: onTime(2, 11),
      watermarks: 'periodic',
      boundMs: 100,
      window: { kind: 'tumbling', size: 700, offset: 130 },
      fn: 'aggregateProcess',
    });
  });

  it('sliding windows with aggregate', async () => {
    await checkWindows({
      input: onTime(3, 17),
      watermarks: 'periodic',
      boundMs: 100,
      window: { kind: 'sliding', size: 1000, slide: 250 },
      fn: 'aggregate',
    });
  });

  it('sliding windows with reduce and a process function', async () => {
    await checkWindows({
      input: onTime(4, 9),
      watermarks: 'periodic',
      boundMs: 100,
      window: { kind: 'sliding', size: 600, slide: 200 },
      fn: 'reduceProcess',
    });
  });

  it('session windows that merge out-of-order input, with process', async () => {
    await checkWindows({
      input: onTime(5, 29),
      watermarks: 'periodic',
      boundMs: 100,
      window: { kind: 'session', gap: 40 },
      fn: 'process',
    });
  });

  it('session windows with aggregate (merged accumulators) and reduce', async () => {
    await checkWindows({
      input: onTime(6, 23),
      watermarks: 'periodic',
      boundMs: 100,
      window: { kind: 'session', gap: 35 },
      fn: 'aggregate',
    });
    await checkWindows({
      input: onTime(7, 23),
      watermarks: 'periodic',
      boundMs: 100,
      window: { kind: 'session', gap: 35 },
      fn: 'reduce',
    });
  });
});

describe('late data on two TaskManagers', () => {
  it('tumbling windows: allowed lateness updates results, later data goes to the side output', async () => {
    const ref = await checkWindows({
      input: withLateData(11, 7),
      watermarks: 'perEvent',
      boundMs: 20,
      sourceParallelism: 1,
      window: { kind: 'tumbling', size: 200 },
      fn: 'process',
      allowedLateness: 100,
      sideOutputLateData: true,
      reportWatermark: true,
    });
    expect(ref.lateFirings).toBeGreaterThan(20);
    expect(ref.late.length).toBeGreaterThan(20);
  });

  it('sliding windows with reduce and a process function: late firings and late data', async () => {
    const ref = await checkWindows({
      input: withLateData(12, 5),
      watermarks: 'perEvent',
      boundMs: 20,
      sourceParallelism: 1,
      window: { kind: 'sliding', size: 200, slide: 50 },
      fn: 'reduceProcess',
      allowedLateness: 150,
      sideOutputLateData: true,
      reportWatermark: true,
    });
    expect(ref.lateFirings).toBeGreaterThan(20);
    expect(ref.late.length).toBeGreaterThan(20);
    expect(ref.droppedFromLateWindows).toBeGreaterThan(0);
  });

  it('session windows with aggregate and a process function: late merges, late firings, late data', async () => {
    const ref = await checkWindows({
      input: withLateData(13, 20),
      watermarks: 'perEvent',
      boundMs: 20,
      sourceParallelism: 1,
      window: { kind: 'session', gap: 30 },
      fn: 'aggregateProcess',
      allowedLateness: 60,
      sideOutputLateData: true,
      reportWatermark: true,
    });
    expect(ref.lateFirings).toBeGreaterThan(20);
    expect(ref.late.length).toBeGreaterThan(20);
  });

  it('without allowed lateness, late data goes to the side output and nothing fires twice', async () => {
    const ref = await checkWindows({
      input: withLateData(14, 7),
      watermarks: 'perEvent',
      boundMs: 20,
      sourceParallelism: 1,
      window: { kind: 'tumbling', size: 250 },
      fn: 'aggregate',
      sideOutputLateData: true,
    });
    expect(ref.lateFirings).toBe(0);
    expect(ref.late.length).toBeGreaterThan(100);
  });
});

describe('KeyedProcessFunction timers on two TaskManagers', () => {
  it('fire once per key and timestamp, in timestamp order, at the watermark the reference predicts; ctx.output reaches the side output', async () => {
    const spec: WindowJobSpec = {
      input: { seed: 21, count: 20_000, keys: 9, stepMs: 1, disorderMs: 30, latePercent: 3, lateMs: 300 },
      watermarks: 'perEvent',
      boundMs: 20,
      sourceParallelism: 1,
      window: { kind: 'tumbling', size: 1 },
      fn: 'process',
    };
    const expected = referenceTimers(
      perEventWatermarkStream(etRecords(spec.input), (r) => r.ts, spec.boundMs),
      {
        keyOf: (r: EtRecord) => r.key,
        onElement: (r) => timerPlan(r),
        onTimer: (key, time, watermark) => [timerLine(key, time, time, watermark)],
      },
    );
    const expectedBehind: string[] = [];
    let wm = Number.MIN_SAFE_INTEGER;
    for (const ev of perEventWatermarkStream(etRecords(spec.input), (r) => r.ts, spec.boundMs)) {
      if (ev.kind === 'watermark') wm = ev.timestamp;
      else if (ev.timestamp <= wm) expectedBehind.push(behindLine(ev.value, ev.timestamp, wm));
    }
    const dir = await runJob('test/jobs/et-timers.ts', spec);
    const lines = readCommittedLines(join(dir, 'timers'));
    expect(expected.length).toBeGreaterThan(1000);
    expect(multisetDiff(lines, expected)).toEqual(NO_DIFF);
    // ctx.output: records behind the watermark, routed to the side output across processes.
    expect(expectedBehind.length).toBeGreaterThan(100);
    expect(multisetDiff(readCommittedLines(join(dir, 'behind')), expectedBehind)).toEqual(NO_DIFF);
    // Each key's timers come out of one subtask: per watermark in timestamp order, watermarks
    // ascending (a timer set below the watermark by a late record fires with the next one).
    const last = new Map<string, { wm: number; time: number }>();
    const outOfOrder: string[] = [];
    for (const l of lines) {
      const [key, time, , wmField] = l.split('|');
      const cur = { wm: Number(wmField!.slice(3)), time: Number(time) };
      const prev = last.get(key!);
      if (prev && (prev.wm > cur.wm || (prev.wm === cur.wm && prev.time >= cur.time))) outOfOrder.push(l);
      last.set(key!, cur);
    }
    expect(outOfOrder).toEqual([]);
  });
});
