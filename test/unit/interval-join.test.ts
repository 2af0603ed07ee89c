import { describe, expect, it } from 'vitest';
import type { Collector } from '../../api/functions.js';
import {
  IntervalJoinOperator,
  intervalJoinBounds,
  type IntervalJoinContext,
} from '../../taskmanager/operators/interval-join.js';
import {
  UserCodeError,
  type OperatorSetup,
  type Output,
  type TaskServices,
} from '../../taskmanager/operators/operator.js';
import { MAX_WATERMARK, type ProcessingTimeService } from '../../taskmanager/runtime/timer-service.js';
import { initializeOperator } from '../helpers/operator-state.js';
import { fakeTaskServices } from '../helpers/task-services.js';

// ---------------------------------------------------------------------------------------------
// Harness

class RecordingOutput implements Output {
  readonly main: { value: unknown; ts: number | undefined }[] = [];
  readonly side: { tag: string; value: unknown; ts: number | undefined }[] = [];
  readonly watermarks: number[] = [];
  collect(value: unknown, ts: number | undefined): void {
    this.main.push({ value, ts });
  }
  collectSide(tag: string, value: unknown, ts: number | undefined): void {
    this.side.push({ tag, value, ts });
  }
  emitWatermark(ts: number): void {
    this.watermarks.push(ts);
  }
}

const clock: ProcessingTimeService = { now: () => 0, schedule: () => () => {} };

function services(): TaskServices {
  return fakeTaskServices({ processingTime: clock, taskName: 'IntervalJoin' });
}

interface Bounds {
  lowerBound: number;
  upperBound: number;
  lowerBoundInclusive: boolean;
  upperBoundInclusive: boolean;
}

async function make(
  bounds: Bounds,
  userCode: unknown,
  keys: [(v: unknown) => unknown, (v: unknown) => unknown] = [(v) => (v as Row).key, (v) => (v as Row).key],
) {
  const out = new RecordingOutput();
  const s: OperatorSetup = {
    descriptor: {
      id: 'd'.repeat(32),
      name: 'IntervalJoin',
      kind: 'intervalJoin',
      config: { keyRef1: 'k1', keyRef2: 'k2', ...bounds },
      stateful: true,
      outputs: [],
    },
    userCode,
    keySelector: keys[0],
    keySelector2: keys[1],
    output: out,
    services: services(),
  };
  const op = new IntervalJoinOperator(s);
  await initializeOperator(op);
  return { op, out };
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

interface Row {
  id: string;
  key: unknown;
  ts: number;
}

/** Joins as a string that names both rows and all three timestamps the context reports. */
const joiner = {
  processElement(l: Row, r: Row, ctx: IntervalJoinContext, out: Collector<string>) {
    out.collect(`${l.id}|${r.id}|${ctx.getLeftTimestamp()}|${ctx.getRightTimestamp()}|${ctx.getTimestamp()}`);
  },
};

/** The nested-loop reference over the whole input, with the bounds read literally. */
function reference(lefts: Row[], rights: Row[], b: Bounds): string[] {
  const out: string[] = [];
  const keyOf = new Map<Row, string>([...lefts, ...rights].map((x) => [x, JSON.stringify(x.key)]));
  for (const l of lefts) {
    for (const r of rights) {
      if (keyOf.get(l) !== keyOf.get(r)) continue;
      const d = r.ts - l.ts;
      const lowerOk = b.lowerBoundInclusive ? d >= b.lowerBound : d > b.lowerBound;
      const upperOk = b.upperBoundInclusive ? d <= b.upperBound : d < b.upperBound;
      if (lowerOk && upperOk) out.push(`${l.id}|${r.id}|${l.ts}|${r.ts}|${Math.max(l.ts, r.ts)}`);
    }
  }
  return out.sort();
}

/**
 * Both sides interleaved in one arrival order, each row at most `maxDelay` ms out of order;
 * each input's watermark is its bounded-out-of-orderness watermark (max seen - maxDelay - 1),
 * emitted every few rows, so no row is ever late.
 */
async function runRandomized(seed: number, b: Bounds, keyOf: (k: number) => unknown) {
  const rnd = lcg(seed);
  const maxDelay = 30;
  const rows: { side: 0 | 1; row: Row; arrival: number }[] = [];
  for (let i = 0; i < 1000; i++) {
    const side = rnd() < 0.5 ? 0 : 1;
    const ts = Math.floor(rnd() * 1000);
    rows.push({
      side,
      row: { id: `${side ? 'R' : 'L'}${i}`, key: keyOf(Math.floor(rnd() * 3)), ts },
      arrival: ts + rnd() * maxDelay,
    });
  }
  rows.sort((a, b) => a.arrival - b.arrival);
  const { op, out } = await make(b, joiner);
  const maxSeen = [-Infinity, -Infinity];
  let maxBuffered = 0;
  for (let i = 0; i < rows.length; i++) {
    const x = rows[i]!;
    if (x.side === 0) op.processElement1(x.row, x.row.ts);
    else op.processElement2(x.row, x.row.ts);
    maxSeen[x.side] = Math.max(maxSeen[x.side]!, x.row.ts);
    if (i % 5 === 4) {
      // Sampled just before the watermarks drop rows: the most the buffer holds.
      maxBuffered = Math.max(maxBuffered, await op.bufferedRows());
      if (maxSeen[0]! > -Infinity) op.processWatermark1(maxSeen[0]! - maxDelay - 1);
      if (maxSeen[1]! > -Infinity) op.processWatermark2(maxSeen[1]! - maxDelay - 1);
    }
  }
  expect(op.numLateRecordsDropped).toBe(0);
  op.processWatermark1(MAX_WATERMARK);
  op.processWatermark2(MAX_WATERMARK);
  const lefts = rows.filter((x) => x.side === 0).map((x) => x.row);
  const rights = rows.filter((x) => x.side === 1).map((x) => x.row);
  return { op, out, expected: reference(lefts, rights, b), maxBuffered };
}

// ---------------------------------------------------------------------------------------------

describe('IntervalJoinOperator against a nested-loop reference', () => {
  const boundPairs: [number, number][] = [
    [-40, 25],
    [0, 60],
    [-80, -5],
    [7, 7],
    [-1, 1],
  ];
  const cases = boundPairs.flatMap(([lowerBound, upperBound]) =>
    [true, false].flatMap((lowerBoundInclusive) =>
      [true, false].map((upperBoundInclusive) => ({
        lowerBound,
        upperBound,
        lowerBoundInclusive,
        upperBoundInclusive,
      })),
    ),
  );

  it.each(cases)(
    'between($lowerBound, $upperBound) lower inclusive $lowerBoundInclusive, upper inclusive $upperBoundInclusive',
    async (b) => {
      const { op, out, expected, maxBuffered } = await runRandomized(
        20261121 + b.lowerBound * 31 + b.upperBound,
        b,
        (k) => `k${k}`,
      );
      const got = out.main.map((r) => r.value as string);
      expect([...got].sort()).toEqual(expected);
      // Every result carries the later of the two timestamps.
      expect(out.main.filter((r) => r.ts !== Number((r.value as string).split('|')[4]))).toEqual([]);
      if (b.lowerBound < b.upperBound || (b.lowerBoundInclusive && b.upperBoundInclusive))
        expect(expected.length).toBeGreaterThan(20);
      // The final watermark leaves nothing behind; on the way, far fewer rows than the input were held.
      expect(await op.bufferedRows()).toBe(0);
      expect(await op.bufferedKeys()).toBe(0);
      expect(op.numTimers()).toBe(0);
      expect(maxBuffered).toBeLessThan(250); // of 1000 rows
      expect(out.watermarks.at(-1)).toBe(MAX_WATERMARK);
    },
  );

  it('compares structured keys by value (tuples from the key selector)', async () => {
    const b = { lowerBound: -30, upperBound: 30, lowerBoundInclusive: true, upperBoundInclusive: false };
    const { out, expected } = await runRandomized(99, b, (k) => ({ region: k % 3, tier: [k % 2] }));
    expect(expected.length).toBeGreaterThan(50);
    expect(out.main.map((r) => r.value as string).sort()).toEqual(expected);
  });
});

describe('IntervalJoinOperator', () => {
  const inclusive = { lowerBound: 0, upperBound: 10, lowerBoundInclusive: true, upperBoundInclusive: true };

  it('keeps a row joinable by a partner exactly at the watermark, and drops rows behind it', async () => {
    const { op, out } = await make(inclusive, joiner);
    op.processElement1({ id: 'L1', key: 'a', ts: 90 }, 90);
    op.processWatermark1(100);
    op.processWatermark2(100);
    // At ts 100 the right row is not late, and 100 - 90 is within [0, 10].
    op.processElement2({ id: 'R1', key: 'a', ts: 100 }, 100);
    op.processElement2({ id: 'R2', key: 'a', ts: 95 }, 95); // behind the watermark: dropped
    op.processElement1({ id: 'L2', key: 'a', ts: 99 }, 99); // dropped too, though R1 would match
    expect(out.main).toEqual([{ value: 'L1|R1|90|100|100', ts: 100 }]);
    expect(op.numLateRecordsDropped).toBe(2);
    expect(await op.bufferedRows()).toBe(2);
    // Past 100 no row that is not late can join either: L1 needs rights <= 100, R1 lefts <= 100.
    op.processWatermark1(101);
    op.processWatermark2(101);
    expect(await op.bufferedRows()).toBe(0);
    expect(op.numTimers()).toBe(0);
  });

  it('sends late rows of each input to its late-data side output when one is set', async () => {
    const out = new RecordingOutput();
    const op = new IntervalJoinOperator({
      descriptor: {
        id: 'd'.repeat(32),
        name: 'IntervalJoin',
        kind: 'intervalJoin',
        config: { ...inclusive, rightLateDataTag: 'late-right' },
        stateful: true,
        outputs: [],
      },
      userCode: joiner,
      keySelector: (v) => (v as Row).key,
      keySelector2: (v) => (v as Row).key,
      output: out,
      services: services(),
    });
    await initializeOperator(op);
    op.processWatermark1(50);
    op.processWatermark2(50);
    op.processElement1({ id: 'L', key: 'a', ts: 49 }, 49); // no left tag: dropped
    op.processElement2({ id: 'R', key: 'a', ts: 10 }, 10);
    op.processElement2({ id: 'S', key: 'a', ts: 50 }, 50); // on time
    expect(out.side).toEqual([{ tag: 'late-right', value: { id: 'R', key: 'a', ts: 10 }, ts: 10 }]);
    expect(op.numLateRecordsDropped).toBe(2);
    expect(await op.bufferedRows()).toBe(1);
  });

  it('gives the process function the timestamps, side outputs and a plain-function form', async () => {
    const tag = { id: 'pairs' };
    const { op, out } = await make(
      { lowerBound: -5, upperBound: 5, lowerBoundInclusive: true, upperBoundInclusive: true },
      (l: Row, r: Row, ctx: IntervalJoinContext, c: Collector<string>) => {
        c.collect(`${l.id}${r.id}`);
        ctx.output(tag, [ctx.getLeftTimestamp(), ctx.getRightTimestamp()]);
      },
    );
    op.processElement2({ id: 'r', key: 1, ts: 10 }, 10);
    op.processElement1({ id: 'l', key: 1, ts: 13 }, 13);
    op.processElement1({ id: 'x', key: 2, ts: 13 }, 13); // other key
    expect(out.main).toEqual([{ value: 'lr', ts: 13 }]);
    expect(out.side).toEqual([{ tag: 'pairs', value: [13, 10], ts: 13 }]);
  });

  it('refuses rows without a timestamp, wrong bounds and missing key selectors', async () => {
    const { op } = await make(inclusive, joiner);
    expect(() => op.processElement1({ id: 'L', key: 'a', ts: 0 }, undefined)).toThrow(
      /has no timestamp; interval joins run in event time/,
    );
    await expect(make({ ...inclusive, lowerBound: 5, upperBound: 1 }, joiner)).rejects.toThrow(
      /lowerBound \(5\) must be <= upperBound \(1\)/,
    );
    await expect(make({ ...inclusive, upperBound: Number.NaN }, joiner)).rejects.toThrow(/finite numbers/);
    expect(
      intervalJoinBounds(
        { lowerBound: -3, upperBound: 4, lowerBoundInclusive: false, upperBoundInclusive: false },
        'j',
      ),
    ).toEqual({ lowerBound: -2, upperBound: 3 });
    expect(intervalJoinBounds({ lowerBound: -3, upperBound: 4 }, 'j')).toEqual({ lowerBound: -3, upperBound: 4 });
    const s = await make(inclusive, joiner);
    expect(
      () =>
        new IntervalJoinOperator({ ...(s.op as unknown as { setup: OperatorSetup }).setup, keySelector2: undefined }),
    ).toThrow(/key selectors for both inputs/);
  });

  it('wraps errors of the join function and of key selectors as user-code errors', async () => {
    const { op } = await make(inclusive, () => {
      throw new Error('join failed');
    });
    op.processElement1({ id: 'L', key: 'a', ts: 1 }, 1);
    expect(() => op.processElement2({ id: 'R', key: 'a', ts: 1 }, 1)).toThrow(UserCodeError);
    const bad = await make(inclusive, joiner, [
      () => {
        throw new Error('no key');
      },
      (v) => v,
    ]);
    expect(() => bad.op.processElement1({}, 1)).toThrow('no key');
  });
});

describe('IntervalJoinOperator on an endless stream', () => {
  it('keeps its buffer bounded while the watermark advances', async () => {
    const b = { lowerBound: -50, upperBound: 50, lowerBoundInclusive: true, upperBoundInclusive: false };
    let results = 0;
    const { op } = await make(b, () => void results++);
    const rnd = lcg(7);
    const maxDelay = 20;
    const samples: number[] = [];
    let maxSeen = -Infinity;
    // About one row per side per millisecond over 100 seconds of event time, over 50 keys.
    for (let i = 0; i < 200_000; i++) {
      const now = i >> 1;
      const ts = now - Math.floor(rnd() * maxDelay);
      const row = { id: '', key: Math.floor(rnd() * 50), ts };
      if (i & 1) op.processElement2(row, ts);
      else op.processElement1(row, ts);
      maxSeen = Math.max(maxSeen, ts);
      if (i % 10 === 9) {
        op.processWatermark1(maxSeen - maxDelay - 1);
        op.processWatermark2(maxSeen - maxDelay - 1);
      }
      if (i % 1000 === 999) samples.push(await op.bufferedRows());
    }
    expect(op.numLateRecordsDropped).toBe(0);
    expect(results).toBeGreaterThan(150_000); // about two partners per row: the join really ran
    // A left row waits about upper + out-of-orderness + watermark interval ms, a right row about
    // |lower| + the same: some 75 ms of each side (about 150 rows), not the 100 seconds of input.
    const max = Math.max(...samples);
    expect(max).toBeGreaterThan(100);
    expect(max).toBeLessThan(200);
    // Flat over time: the last tenth holds no more than the first tenth plus a margin.
    const tenth = samples.length / 10;
    expect(Math.max(...samples.slice(-tenth))).toBeLessThan(Math.max(...samples.slice(0, tenth)) * 1.5);
    expect(op.numTimers()).toBeLessThan(200);
    expect(await op.bufferedKeys()).toBeLessThanOrEqual(50);
  });
});
