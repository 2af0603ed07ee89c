import { describe, expect, it } from 'vitest';
import type { Collector } from '../../api/functions.js';
import {
  BroadcastProcessOperator,
  type BroadcastContext,
  type BroadcastOnTimerContext,
  type BroadcastReadOnlyContext,
} from '../../taskmanager/operators/broadcast-process.js';
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
  readonly log: { kind: string; tag?: string; value?: unknown; ts: number | undefined }[] = [];
  collect(value: unknown, ts: number | undefined): void {
    this.log.push({ kind: 'out', value, ts });
  }
  collectSide(tag: string, value: unknown, ts: number | undefined): void {
    this.log.push({ kind: 'side', tag, value, ts });
  }
  emitWatermark(ts: number): void {
    this.log.push({ kind: 'wm', ts });
  }
  values(): unknown[] {
    return this.log.filter((e) => e.kind === 'out').map((e) => e.value);
  }
}

const clock: ProcessingTimeService = { now: () => 0, schedule: () => () => {} };

function services(subtaskIndex: number): TaskServices {
  return fakeTaskServices({ processingTime: clock, subtaskIndex, parallelism: 2, taskName: 'Broadcast' });
}

async function make(
  userCode: unknown,
  opts: { key?: (v: unknown) => unknown; states?: unknown; subtask?: number } = {},
) {
  const out = new RecordingOutput();
  const s: OperatorSetup = {
    descriptor: {
      id: 'b'.repeat(32),
      name: 'Co-Process-Broadcast',
      kind: 'broadcastProcess',
      // Deliberately unchecked: some tests pass what is not a list, to see the operator refuse it.
      config: { broadcastStates: (opts.states ?? ['rules']) as string[] },
      stateful: true,
      outputs: [],
    },
    userCode,
    keySelector: opts.key,
    output: out,
    services: services(opts.subtask ?? 0),
  };
  const op = new BroadcastProcessOperator(s);
  await initializeOperator(op, { keyed: opts.key !== undefined });
  return { op, out };
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

// ---------------------------------------------------------------------------------------------
// The rules-engine pattern: rules arrive on the broadcast side, events are checked against them.

interface Rule {
  name: string;
  kind: string;
  threshold: number;
}
type RuleUpdate = { op: 'put'; rule: Rule } | { op: 'remove'; name: string };
interface Event {
  user: string;
  kind: string;
  amount: number;
}

const RULES = { name: 'rules' };

const rulesEngine = {
  processElement(e: Event, ctx: BroadcastReadOnlyContext, out: Collector<string>) {
    for (const [name, rule] of ctx.getBroadcastState(RULES).entries() as IterableIterator<[string, Rule]>) {
      if (rule.kind === e.kind && e.amount >= rule.threshold) out.collect(`${name}:${e.user}:${e.amount}`);
    }
  },
  processBroadcastElement(u: RuleUpdate, ctx: BroadcastContext) {
    const state = ctx.getBroadcastState(RULES);
    if (u.op === 'put') state.put(u.rule.name, u.rule);
    else state.remove(u.name);
  },
};

function randomStream(seed: number, n: number) {
  const rnd = lcg(seed);
  const kinds = ['buy', 'sell', 'login'];
  const items: ({ side: 'rule'; u: RuleUpdate } | { side: 'event'; e: Event })[] = [];
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.1) {
      const name = `r${Math.floor(rnd() * 6)}`;
      items.push(
        rnd() < 0.25
          ? { side: 'rule', u: { op: 'remove', name } }
          : {
              side: 'rule',
              u: { op: 'put', rule: { name, kind: kinds[Math.floor(rnd() * 3)]!, threshold: Math.floor(rnd() * 100) } },
            },
      );
    } else {
      items.push({
        side: 'event',
        e: { user: `u${Math.floor(rnd() * 20)}`, kind: kinds[Math.floor(rnd() * 3)]!, amount: Math.floor(rnd() * 120) },
      });
    }
  }
  return items;
}

describe('BroadcastProcessOperator', () => {
  it('applies broadcast rules to events, matching a reference loop, identically on every parallel instance', async () => {
    const items = randomStream(1234, 3000);
    // Reference: one loop over the whole sequence.
    const rules = new Map<string, Rule>();
    const expected: string[] = [];
    for (const it of items) {
      if (it.side === 'rule') {
        if (it.u.op === 'put') rules.set(it.u.rule.name, it.u.rule);
        else rules.delete(it.u.name);
      } else {
        for (const [name, r] of rules)
          if (r.kind === it.e.kind && it.e.amount >= r.threshold) expected.push(`${name}:${it.e.user}:${it.e.amount}`);
      }
    }
    expect(expected.length).toBeGreaterThan(500);

    // Two parallel instances: events partitioned by user, every rule update to both (a broadcast edge).
    const instances = [await make(rulesEngine, { subtask: 0 }), await make(rulesEngine, { subtask: 1 })];
    for (const it of items) {
      if (it.side === 'rule') for (const { op } of instances) op.processElement2(it.u, undefined);
      else instances[Number(it.e.user.slice(1)) % 2]!.op.processElement1(it.e, undefined);
    }
    const got = instances.flatMap((i) => i.out.values() as string[]);
    expect(got.sort()).toEqual([...expected].sort());
    const snap0 = instances[0]!.op.broadcastStates.snapshot();
    expect(instances[1]!.op.broadcastStates.snapshot()).toEqual(snap0);
    expect(new Map(snap0['rules'])).toEqual(rules);
  });

  it('makes the broadcast state read-only on the non-broadcast side', async () => {
    const attempts: string[] = [];
    const { op, out } = await make({
      processElement(v: string, ctx: BroadcastReadOnlyContext, c: Collector<unknown>) {
        const state = ctx.getBroadcastState(RULES) as unknown as Record<string, (...a: unknown[]) => unknown>;
        for (const write of ['put', 'putAll', 'remove', 'clear']) {
          try {
            state[write]!('x', 1);
            attempts.push(`${write}: allowed`);
          } catch (e) {
            attempts.push(`${write}: ${(e as Error).message}`);
          }
        }
        c.collect([
          v,
          ctx.getBroadcastState(RULES).get('x'),
          ctx.getBroadcastState(RULES).contains('y'),
          [...ctx.getBroadcastState(RULES).keys()],
        ]);
      },
      processBroadcastElement(v: [string, number], ctx: BroadcastContext) {
        ctx.getBroadcastState(RULES).put(v[0], v[1]);
      },
    });
    op.processElement2(['x', 42], undefined);
    op.processElement1('e', undefined);
    expect(attempts).toEqual(
      ['put', 'putAll', 'remove', 'clear'].map((w) => `${w}: broadcast state is read-only on the non-broadcast side`),
    );
    expect(out.values()).toEqual([['e', 42, false, ['x']]]);
    expect(op.broadcastStates.snapshot()).toEqual({ rules: [['x', 42]] });

    // Uncaught, the write fails the operator with that message.
    const failing = await make({
      processElement(_v: unknown, ctx: BroadcastReadOnlyContext) {
        (ctx.getBroadcastState(RULES) as unknown as { put(k: unknown, v: unknown): void }).put('k', 1);
      },
      processBroadcastElement() {},
    });
    expect(() => failing.op.processElement1('e', 1)).toThrow(UserCodeError);
    expect(() => failing.op.processElement1('e', 1)).toThrow('broadcast state is read-only on the non-broadcast side');
  });

  it('keeps several named states apart and refuses undeclared ones', async () => {
    const { op } = await make(
      {
        processElement(v: string, ctx: BroadcastReadOnlyContext) {
          ctx.getBroadcastState({ name: v });
        },
        processBroadcastElement(v: [string, string, number], ctx: BroadcastContext) {
          const s = ctx.getBroadcastState({ name: v[0] });
          s.put(v[1], v[2]);
          if (v[2] < 0) s.clear();
        },
      },
      { states: ['a', 'b'] },
    );
    op.processElement2(['a', 'k', 1], undefined);
    op.processElement2(['b', 'k', 2], undefined);
    op.processElement2(['b', 'j', 3], undefined);
    op.processElement2(['a', 'z', -1], undefined); // clears 'a' only
    expect(op.broadcastStates.snapshot()).toEqual({
      a: [],
      b: [
        ['k', 2],
        ['j', 3],
      ],
    });
    expect(() => op.processElement1('c', 1)).toThrow(/no broadcast state 'c' \(declared: 'a', 'b'\)/);
  });

  it('has no key or timers when not keyed, but reports time and the combined watermark', async () => {
    const seen: string[] = [];
    const { op } = await make({
      processElement(_v: unknown, ctx: BroadcastReadOnlyContext) {
        seen.push(`ts=${ctx.timestamp()} wm=${ctx.currentWatermark()} pt=${ctx.currentProcessingTime()}`);
        for (const f of [() => ctx.getCurrentKey(), () => ctx.timerService().registerEventTimeTimer(1)]) {
          try {
            f();
          } catch (e) {
            seen.push((e as Error).message);
          }
        }
      },
      processBroadcastElement(_v: unknown, ctx: BroadcastContext) {
        seen.push(`broadcast wm=${ctx.currentWatermark()}`);
      },
    });
    op.processWatermark1(40);
    op.processWatermark2(30);
    op.processElement1('e', 45);
    op.processElement2('r', undefined);
    expect(seen).toEqual([
      'ts=45 wm=30 pt=0',
      "operator 'Co-Process-Broadcast' is not keyed: getCurrentKey() needs keyBy() before connect(broadcastStream)",
      "operator 'Co-Process-Broadcast': timers are only available on keyed streams (keyBy() before connect(broadcastStream))",
      'broadcast wm=30',
    ]);
  });

  it('rejects user code without processBroadcastElement and a malformed config', async () => {
    await expect(make({ processElement() {} })).rejects.toThrow(/processBroadcastElement\(\)/);
    await expect(make(rulesEngine, { states: 'rules' })).rejects.toThrow(/broadcastStates must be a list/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('BroadcastProcessOperator (keyed)', () => {
  /**
   * KeyedBroadcastProcessFunction: a broadcast threshold; per user, the first event at or over it
   * arms an event-time timer 10 ms later that reports the user with the threshold then in force.
   */
  const alerts = {
    processElement(e: { user: string; amount: number }, ctx: BroadcastReadOnlyContext) {
      expect(ctx.getCurrentKey()).toBe(e.user);
      const threshold = ctx.getBroadcastState(RULES).get('threshold') as number | undefined;
      if (threshold !== undefined && e.amount >= threshold)
        ctx.timerService().registerEventTimeTimer(ctx.timestamp()! + 10);
      else ctx.output({ id: 'below' }, e.user);
    },
    processBroadcastElement(t: number, ctx: BroadcastContext) {
      ctx.getBroadcastState(RULES).put('threshold', t);
      expect(() => ctx.timerService().registerEventTimeTimer(1)).toThrow(
        /processBroadcastElement\(\), which runs for no key/,
      );
    },
    onTimer(t: number, ctx: BroadcastOnTimerContext, out: Collector<string>) {
      expect(ctx.timeDomain()).toBe('EVENT_TIME');
      expect(() => (ctx.getBroadcastState(RULES) as unknown as { clear(): void }).clear()).toThrow(/read-only/);
      out.collect(`${ctx.getCurrentKey()}@${t}>=${ctx.getBroadcastState(RULES).get('threshold')}`);
    },
  };

  it('fires per-key timers that read the broadcast state, and sends the rest to a side output', async () => {
    const { op, out } = await make(alerts, { key: (e) => (e as { user: string }).user });
    op.processElement1({ user: 'a', amount: 5 }, 1); // no threshold yet
    op.processElement2(50, undefined);
    op.processElement1({ user: 'a', amount: 60 }, 2);
    op.processElement1({ user: 'b', amount: 70 }, 3);
    op.processElement1({ user: 'b', amount: 10 }, 4);
    op.processElement1({ user: 'a', amount: 80 }, 2); // same key and time: one timer
    op.processWatermark1(100);
    op.processWatermark2(11); // the broadcast side holds event time back
    op.processElement2(65, undefined);
    op.processWatermark2(MAX_WATERMARK);
    // Timers fire once both inputs pass them, and read the threshold in force by then.
    expect(out.log).toEqual([
      { kind: 'side', tag: 'below', value: 'a', ts: 1 },
      { kind: 'side', tag: 'below', value: 'b', ts: 4 },
      { kind: 'wm', ts: 11 },
      { kind: 'out', value: 'a@12>=65', ts: 12 },
      { kind: 'out', value: 'b@13>=65', ts: 13 },
      { kind: 'wm', ts: 100 },
    ]);
    expect(op.numTimers()).toBe(0);
  });
});
