// Two-input operators keep keyed state, timers, broadcast state and join buffers in the state
// backends: a run checkpointed and restored part way (on either backend, and across backends)
// emits what one uninterrupted run emits, which matches a plain reference.
import { describe, expect, it } from 'vitest';
import type { Collector, OnTimerContext, ProcessContext } from '../../api/functions.js';
import type { OperatorKindAndConfig, TwoInputConfig } from '../../common/jobgraph.js';
import { ListStateDescriptor, ValueStateDescriptor, type ListState, type ValueState } from '../../api/state.js';
import {
  BroadcastProcessOperator,
  type BroadcastContext,
  type BroadcastReadOnlyContext,
} from '../../taskmanager/operators/broadcast-process.js';
import { CoProcessOperator } from '../../taskmanager/operators/co-process.js';
import { IntervalJoinOperator, type IntervalJoinContext } from '../../taskmanager/operators/interval-join.js';
import type { OperatorSetup, Output, StreamOperator } from '../../taskmanager/operators/operator.js';
import { MAX_WATERMARK } from '../../taskmanager/runtime/timer-service.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { referenceIntervalJoin } from '../reference/joins.js';
import { mulberry32 } from '../reference/random.js';
import { referenceTimers } from '../reference/timers.js';
import type { ManualTime } from '../helpers/manual-time.js';
import type { BackendType } from '../helpers/operator-state.js';
import { evenCuts, outputValues, runWithRestores, segments, type Emitted, type Step } from '../helpers/restore-run.js';
import { fakeTaskServices } from '../helpers/task-services.js';

const PLANS: { name: string; backends: BackendType[]; parts: number }[] = [
  { name: 'heap', backends: ['heap'], parts: 2 },
  { name: 'level', backends: ['level'], parts: 2 },
  { name: 'heap -> level -> heap', backends: ['heap', 'level', 'heap'], parts: 3 },
  { name: 'level -> heap, three restores', backends: ['level', 'heap'], parts: 4 },
];

type TwoInputOperator = OperatorKindAndConfig<'coProcess' | 'broadcastProcess' | 'intervalJoin'>;

/** The operator with the key refs of its keyed inputs added to its config. */
function withKeyRefs(op: TwoInputOperator, refs: TwoInputConfig): TwoInputOperator {
  switch (op.kind) {
    case 'coProcess':
      return { kind: op.kind, config: { ...refs, ...op.config } };
    case 'broadcastProcess':
      return { kind: op.kind, config: { ...refs, ...op.config } };
    case 'intervalJoin':
      return { kind: op.kind, config: { ...refs, ...op.config } };
  }
}

function setup(
  operator: TwoInputOperator,
  userCode: unknown,
  keys: [((v: unknown) => unknown) | undefined, ((v: unknown) => unknown) | undefined],
  output: Output,
  time: ManualTime,
): OperatorSetup {
  const refs = { ...(keys[0] ? { keyRef1: 'k1' } : {}), ...(keys[1] ? { keyRef2: 'k2' } : {}) };
  return {
    descriptor: {
      id: 'c'.repeat(32),
      name: `Op(${operator.kind})`,
      ...withKeyRefs(operator, refs),
      stateful: true,
      outputs: [],
    },
    userCode,
    keySelector: keys[0],
    keySelector2: keys[1],
    output,
    services: fakeTaskServices({ processingTime: time, taskName: 'TwoInput' }),
  };
}

/** Restored runs under every plan emit what one run emits; returns that run. */
async function expectSameAsOneRun<OP extends StreamOperator>(
  make: (output: Output, time: ManualTime) => OP,
  steps: Step<OP>[],
  keyed = true,
): Promise<Emitted[]> {
  const whole = await runWithRestores({ make, steps, keyed });
  for (const plan of PLANS) {
    const log = await runWithRestores({
      make,
      steps,
      keyed,
      cuts: evenCuts(steps.length, plan.parts),
      backends: plan.backends,
      stepsAfterBarrier: 25,
    });
    expect(segments(log), plan.name).toEqual(segments(whole));
  }
  return whole;
}

// ---------------------------------------------------------------------------------------------
// KeyedCoProcessFunction: orders (input 1) are paid by payments (input 2) of the same user, or
// time out DEADLINE ms after they were placed.

interface Order {
  user: string;
  id: number;
}
type Item = { side: 1; order: Order; ts: number } | { side: 2; user: string; ts: number };

const DEADLINE = 60;

class OrderMatcher {
  pending!: ListState<{ id: number; deadline: number }>;
  paid!: ValueState<number>;

  open(ctx: {
    getListState: (
      d: ListStateDescriptor<{ id: number; deadline: number }>,
    ) => ListState<{ id: number; deadline: number }>;
    getState: (d: ValueStateDescriptor<number>) => ValueState<number>;
  }): void {
    this.pending = ctx.getListState(new ListStateDescriptor('pending'));
    this.paid = ctx.getState(new ValueStateDescriptor('paid', 0));
  }

  processElement1(o: Order, ctx: ProcessContext): void {
    const deadline = ctx.timestamp()! + DEADLINE;
    this.pending.add({ id: o.id, deadline });
    ctx.timerService().registerEventTimeTimer(deadline);
  }

  processElement2(
    _p: { user: string },
    ctx: ProcessContext & { getCurrentKey(): unknown },
    out: Collector<string>,
  ): void {
    const [first, ...rest] = this.pending.get();
    if (!first) {
      out.collect(`${String(ctx.getCurrentKey())} overpaid`);
      return;
    }
    this.pending.update(rest);
    this.paid.update(this.paid.value()! + 1);
    out.collect(`${String(ctx.getCurrentKey())} paid ${first.id} (${this.paid.value()} paid)`);
  }

  onTimer(t: number, ctx: OnTimerContext<unknown>, out: Collector<string>): void {
    const pending = this.pending.get();
    for (const p of pending)
      if (p.deadline <= t) out.collect(`${String(ctx.getCurrentKey())} timed out ${p.id} at ${t}`);
    this.pending.update(pending.filter((p) => p.deadline > t));
  }
}

function orderStream(seed: number, n: number): Item[] {
  const r = mulberry32(seed);
  const items: Item[] = [];
  for (let i = 0; i < n; i++) {
    const user = `u${Math.floor(r() * 15)}`;
    const ts = i * 4 + Math.floor(r() * 20);
    items.push(r() < 0.55 ? { side: 1, order: { user, id: i }, ts } : { side: 2, user, ts });
  }
  return items;
}

describe('keyed co-process state and timers survive a restore', () => {
  const items = orderStream(505, 1500);
  // Both inputs' watermark every 5 items: max seen - 25.
  const steps: Step<CoProcessOperator>[] = [];
  let maxTs = -Infinity;
  items.forEach((it, i) => {
    steps.push({
      run: (op) => (it.side === 1 ? op.processElement1(it.order, it.ts) : op.processElement2({ user: it.user }, it.ts)),
    });
    maxTs = Math.max(maxTs, it.ts);
    if (i % 5 === 4) {
      const wm = maxTs - 25;
      steps.push({ run: (op) => op.processWatermark1(wm), watermarkOf: 'in1' });
      steps.push({ run: (op) => op.processWatermark2(wm), boundary: true, watermarkOf: 'in2' });
    }
  });
  steps.push({ run: (op) => op.processWatermark1(MAX_WATERMARK), watermarkOf: 'in1' });
  steps.push({ run: (op) => op.processWatermark2(MAX_WATERMARK), boundary: true, watermarkOf: 'in2' });

  it('matches the reference on every backend and across backends', async () => {
    const make = (output: Output, time: ManualTime) =>
      new CoProcessOperator(
        setup(
          { kind: 'coProcess', config: {} },
          new OrderMatcher(),
          [(o) => (o as Order).user, (p) => (p as { user: string }).user],
          output,
          time,
        ),
      );
    const whole = await expectSameAsOneRun(make, steps);
    // The reference: one stream of both inputs, as the operator sees it, with the same watermarks.
    const pending = new Map<string, { id: number; deadline: number }[]>();
    const paid = new Map<string, number>();
    const lines: string[] = [];
    let max = -Infinity;
    const events: ({ kind: 'record'; value: Item; timestamp: number } | { kind: 'watermark'; timestamp: number })[] =
      [];
    items.forEach((it, i) => {
      events.push({ kind: 'record', value: it, timestamp: it.ts });
      max = Math.max(max, it.ts);
      if (i % 5 === 4) events.push({ kind: 'watermark', timestamp: max - 25 });
    });
    events.push({ kind: 'watermark', timestamp: MAX_WATERMARK });
    const timerLines = referenceTimers(events, {
      keyOf: (it: Item) => (it.side === 1 ? it.order.user : it.user),
      onElement: (it, ts) => {
        const user = it.side === 1 ? it.order.user : it.user;
        const list = pending.get(user) ?? [];
        if (it.side === 1) {
          pending.set(user, [...list, { id: it.order.id, deadline: ts + DEADLINE }]);
          return { register: [ts + DEADLINE], delete: [] };
        }
        if (list.length === 0) lines.push(`${user} overpaid`);
        else {
          pending.set(user, list.slice(1));
          paid.set(user, (paid.get(user) ?? 0) + 1);
          lines.push(`${user} paid ${list[0]!.id} (${paid.get(user)} paid)`);
        }
        return { register: [], delete: [] };
      },
      onTimer: (user, t) => {
        const list = pending.get(user) ?? [];
        pending.set(
          user,
          list.filter((p) => p.deadline > t),
        );
        const out = list.filter((p) => p.deadline <= t).map((p) => `${user} timed out ${p.id} at ${t}`);
        lines.push(...out);
        return out;
      },
    });
    expect(timerLines.length).toBeGreaterThan(50);
    expect(multisetDiff(outputValues(whole) as string[], lines)).toEqual(NO_DIFF);
  });
});

// ---------------------------------------------------------------------------------------------
// (Keyed)BroadcastProcessFunction: rules in broadcast state, a per-user count in keyed state.

interface Rule {
  name: string;
  kind: string;
  every: number;
}
type RuleUpdate = { op: 'put'; rule: Rule } | { op: 'remove'; name: string };
interface Event {
  user: string;
  kind: string;
}

const RULES = { name: 'rules' };

/** Counts each user's events (keyed state when keyed) and reports every rule whose `every` divides the count. */
function rulesEngine(keyed: boolean) {
  return {
    count: undefined as ValueState<number> | undefined,
    open(ctx: { getState: (d: ValueStateDescriptor<number>) => ValueState<number> }) {
      if (keyed) this.count = ctx.getState(new ValueStateDescriptor<number>('count', 0));
    },
    processElement(e: Event, ctx: BroadcastReadOnlyContext, out: Collector<string>) {
      // Not keyed, there is no per-user state: every matching rule reports.
      let n = 0;
      if (this.count) {
        n = this.count.value()! + 1;
        this.count.update(n);
      }
      const rules = [...(ctx.getBroadcastState(RULES).entries() as IterableIterator<[string, Rule]>)].sort((a, b) =>
        a[0].localeCompare(b[0]),
      );
      for (const [name, rule] of rules) {
        if (rule.kind === e.kind && (keyed ? n % rule.every === 0 : true))
          out.collect(`${name}:${e.user}:${e.kind}:${n}`);
      }
    },
    processBroadcastElement(u: RuleUpdate, ctx: BroadcastContext) {
      const state = ctx.getBroadcastState(RULES);
      if (u.op === 'put') state.put(u.rule.name, u.rule);
      else state.remove(u.name);
    },
  };
}

function ruleStream(seed: number, n: number): ({ side: 'rule'; u: RuleUpdate } | { side: 'event'; e: Event })[] {
  const r = mulberry32(seed);
  const kinds = ['buy', 'sell', 'login'];
  return Array.from({ length: n }, () => {
    if (r() < 0.08) {
      const name = `r${Math.floor(r() * 5)}`;
      return r() < 0.25
        ? { side: 'rule' as const, u: { op: 'remove' as const, name } }
        : {
            side: 'rule' as const,
            u: {
              op: 'put' as const,
              rule: { name, kind: kinds[Math.floor(r() * 3)]!, every: 1 + Math.floor(r() * 4) },
            },
          };
    }
    return { side: 'event' as const, e: { user: `u${Math.floor(r() * 20)}`, kind: kinds[Math.floor(r() * 3)]! } };
  });
}

describe('broadcast state and keyed state of broadcast-process operators survive a restore', () => {
  const items = ruleStream(606, 2000);
  const steps = items.map((it): Step<BroadcastProcessOperator> => ({
    run: (op) => (it.side === 'rule' ? op.processElement2(it.u, undefined) : op.processElement1(it.e, undefined)),
  }));

  for (const keyed of [true, false]) {
    it(`${keyed ? 'keyed' : 'non-keyed'}: matches a reference loop`, async () => {
      const make = (output: Output, time: ManualTime) =>
        new BroadcastProcessOperator(
          setup(
            { kind: 'broadcastProcess', config: { broadcastStates: ['rules'] } },
            rulesEngine(keyed),
            [keyed ? (e) => (e as Event).user : undefined, undefined],
            output,
            time,
          ),
        );
      const whole = await expectSameAsOneRun(make, steps, keyed);
      const rules = new Map<string, Rule>();
      const counts = new Map<string, number>();
      const expected: string[] = [];
      for (const it of items) {
        if (it.side === 'rule') {
          if (it.u.op === 'put') rules.set(it.u.rule.name, it.u.rule);
          else rules.delete(it.u.name);
          continue;
        }
        const n = keyed ? (counts.get(it.e.user) ?? 0) + 1 : 0;
        counts.set(it.e.user, n);
        for (const [name, rule] of [...rules].sort((a, b) => a[0].localeCompare(b[0]))) {
          if (rule.kind === it.e.kind && (keyed ? n % rule.every === 0 : true))
            expected.push(`${name}:${it.e.user}:${it.e.kind}:${n}`);
        }
      }
      expect(expected.length).toBeGreaterThan(300);
      expect(outputValues(whole)).toEqual(expected);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Interval join: buffers per key, side and timestamp, and their cleanup timers.

interface Row {
  id: string;
  key: unknown;
  ts: number;
}

describe('interval join buffers and cleanup timers survive a restore', () => {
  const cases = [
    { lower: -40, upper: 25, lowerExclusive: false, upperExclusive: true },
    { lower: 5, upper: 60, lowerExclusive: true, upperExclusive: false },
  ];
  for (const [ci, b] of cases.entries()) {
    it(`between(${b.lower}, ${b.upper}) matches the nested-loop reference`, async () => {
      const r = mulberry32(707 + ci);
      const maxDelay = 30;
      const rows = Array.from({ length: 1200 }, (_, i) => {
        const side = r() < 0.5 ? (0 as const) : (1 as const);
        const ts = Math.floor(r() * 2000);
        const k = Math.floor(r() * 6);
        // Structured keys too: buffers are found by key value after a restore.
        const row: Row = { id: `${side ? 'R' : 'L'}${i}`, key: k % 2 ? `k${k}` : { k }, ts };
        return { side, row, arrival: ts + r() * maxDelay };
      }).sort((x, y) => x.arrival - y.arrival);
      const steps: Step<IntervalJoinOperator>[] = [];
      const maxSeen = [-Infinity, -Infinity];
      rows.forEach((x, i) => {
        steps.push({
          run: (op) => (x.side === 0 ? op.processElement1(x.row, x.row.ts) : op.processElement2(x.row, x.row.ts)),
        });
        maxSeen[x.side] = Math.max(maxSeen[x.side]!, x.row.ts);
        if (i % 5 === 4) {
          const [w1, w2] = [maxSeen[0]! - maxDelay - 1, maxSeen[1]! - maxDelay - 1];
          if (w1 > -Infinity) steps.push({ run: (op) => op.processWatermark1(w1), watermarkOf: 'in1', boundary: true });
          if (w2 > -Infinity) steps.push({ run: (op) => op.processWatermark2(w2), watermarkOf: 'in2', boundary: true });
        }
      });
      steps.push({ run: (op) => op.processWatermark1(MAX_WATERMARK), watermarkOf: 'in1', boundary: true });
      steps.push({ run: (op) => op.processWatermark2(MAX_WATERMARK), watermarkOf: 'in2', boundary: true });
      const joiner = (l: Row, rr: Row, ctx: IntervalJoinContext, out: Collector<string>) =>
        out.collect(`${l.id}|${rr.id}|${ctx.getLeftTimestamp()}|${ctx.getRightTimestamp()}|${ctx.getTimestamp()}`);
      const config = {
        lowerBound: b.lower,
        upperBound: b.upper,
        lowerBoundInclusive: !b.lowerExclusive,
        upperBoundInclusive: !b.upperExclusive,
      };
      const make = (output: Output, time: ManualTime) =>
        new IntervalJoinOperator(
          setup({ kind: 'intervalJoin', config }, joiner, [(v) => (v as Row).key, (v) => (v as Row).key], output, time),
        );
      const whole = await expectSameAsOneRun(make, steps);
      const lefts = rows.filter((x) => x.side === 0).map((x) => x.row);
      const rights = rows.filter((x) => x.side === 1).map((x) => x.row);
      const expected = referenceIntervalJoin(
        lefts,
        rights,
        { leftKey: (l) => l.key, rightKey: (rr) => rr.key, leftTs: (l) => l.ts, rightTs: (rr) => rr.ts },
        b,
        (l, rr, lts, rts, ts) => `${l.id}|${rr.id}|${lts}|${rts}|${ts}`,
      );
      expect(expected.length).toBeGreaterThan(100);
      expect(multisetDiff(outputValues(whole) as string[], expected)).toEqual(NO_DIFF);
    });
  }
});
