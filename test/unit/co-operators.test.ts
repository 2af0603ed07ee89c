import { describe, expect, it } from 'vitest';
import type { Collector, OnTimerContext, ProcessContext, TimerService } from '../../api/functions.js';
import { CoStreamFlatMap, CoStreamMap } from '../../taskmanager/operators/co-map.js';
import { CoProcessOperator } from '../../taskmanager/operators/co-process.js';
import {
  UserCodeError,
  type OperatorSetup,
  type Output,
  type TaskServices,
} from '../../taskmanager/operators/operator.js';
import { MAX_WATERMARK, type ProcessingTimeService } from '../../taskmanager/runtime/timer-service.js';
import { fakeTaskServices } from '../helpers/task-services.js';
import { ManualTime } from '../helpers/manual-time.js';

// ---------------------------------------------------------------------------------------------
// Harness: a recording Output, a manual processing-time clock, the operator set up as a task would.

type Logged =
  | { kind: 'out'; value: unknown; ts: number | undefined }
  | { kind: 'side'; tag: string; value: unknown; ts: number | undefined }
  | { kind: 'wm'; ts: number };

class RecordingOutput implements Output {
  readonly log: Logged[] = [];
  collect(value: unknown, ts: number | undefined): void {
    this.log.push({ kind: 'out', value, ts });
  }
  collectSide(tag: string, value: unknown, ts: number | undefined): void {
    this.log.push({ kind: 'side', tag, value, ts });
  }
  emitWatermark(ts: number): void {
    this.log.push({ kind: 'wm', ts });
  }
  records(): { value: unknown; ts: number | undefined }[] {
    return this.log
      .filter((e) => e.kind === 'out')
      .map((e) => ({ value: (e as { value: unknown }).value, ts: (e as { ts: number | undefined }).ts }));
  }
  values(): unknown[] {
    return this.records().map((r) => r.value);
  }
  side(tag: string): unknown[] {
    return this.log.filter((e) => e.kind === 'side' && e.tag === tag).map((e) => (e as { value: unknown }).value);
  }
  watermarks(): number[] {
    return this.log.filter((e) => e.kind === 'wm').map((e) => (e as { ts: number }).ts);
  }
}

function services(time: ProcessingTimeService): TaskServices {
  return fakeTaskServices({ processingTime: time, taskName: 'CoProcess' });
}

function setup(
  kind: 'coMap' | 'coFlatMap' | 'coProcess',
  userCode: unknown,
  keys?: { k1?: (v: unknown) => unknown; k2?: (v: unknown) => unknown },
) {
  const out = new RecordingOutput();
  const time = new ManualTime();
  const s: OperatorSetup = {
    descriptor: {
      id: 'c'.repeat(32),
      name: `Co(${kind})`,
      kind,
      config: {},
      stateful: kind === 'coProcess',
      outputs: [],
    },
    userCode,
    keySelector: keys?.k1,
    keySelector2: keys?.k2,
    output: out,
    services: services(time),
  };
  return { s, out, time };
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

// ---------------------------------------------------------------------------------------------

describe('CoStreamMap / CoStreamFlatMap', () => {
  it('routes each input to its own method and keeps the input timestamp', () => {
    const { s, out } = setup('coMap', {
      map1: (v: number) => `one:${v}`,
      map2: (v: string) => `two:${v.toUpperCase()}`,
    });
    const op = new CoStreamMap(s);
    op.processElement1(1, 10);
    op.processElement2('a', 20);
    op.processElement1(2, undefined);
    op.processElement2('b', 5);
    expect(out.records()).toEqual([
      { value: 'one:1', ts: 10 },
      { value: 'two:A', ts: 20 },
      { value: 'one:2', ts: undefined },
      { value: 'two:B', ts: 5 },
    ]);
  });

  it('forwards the minimum of both inputs watermarks, only when it advances', () => {
    const { s, out } = setup('coMap', { map1: (v: unknown) => v, map2: (v: unknown) => v });
    const op = new CoStreamMap(s);
    op.processWatermark1(100);
    expect(out.watermarks()).toEqual([]); // input 2 has not said anything yet
    op.processWatermark2(50);
    op.processWatermark2(70);
    op.processWatermark2(200); // now input 1 (100) is the slower one
    op.processWatermark1(MAX_WATERMARK);
    op.processWatermark2(MAX_WATERMARK);
    expect(out.watermarks()).toEqual([50, 70, 100, 200, MAX_WATERMARK]);
  });

  it('flatMap1/flatMap2 emit zero or more records stamped with the input timestamp', () => {
    const { s, out } = setup('coFlatMap', {
      flatMap1: (v: string, c: Collector<string>) => v.split(' ').forEach((w) => c.collect(w)),
      flatMap2: (v: number, c: Collector<number>) => {
        for (let i = 0; i < v; i++) c.collect(v);
      },
    });
    const op = new CoStreamFlatMap(s);
    op.processElement1('a b c', 7);
    op.processElement2(0, 8);
    op.processElement2(2, 9);
    op.processElement1('', 10);
    expect(out.records()).toEqual([
      { value: 'a', ts: 7 },
      { value: 'b', ts: 7 },
      { value: 'c', ts: 7 },
      { value: 2, ts: 9 },
      { value: 2, ts: 9 },
      { value: '', ts: 10 },
    ]);
  });

  it('works with a class instance (rich function) and opens/closes it with a runtime context', async () => {
    class Tagger {
      prefix = '?';
      closed = false;
      open(ctx: { getIndexOfThisSubtask(): number }) {
        this.prefix = `s${ctx.getIndexOfThisSubtask()}`;
      }
      close() {
        this.closed = true;
      }
      map1(v: number) {
        return `${this.prefix}/L${v}`;
      }
      map2(v: number) {
        return `${this.prefix}/R${v}`;
      }
    }
    const fn = new Tagger();
    const { s, out } = setup('coMap', fn);
    const op = new CoStreamMap(s);
    await op.open();
    op.processElement1(1, 1);
    op.processElement2(2, 2);
    await op.close();
    expect(out.values()).toEqual(['s0/L1', 's0/R2']);
    expect(fn.closed).toBe(true);
  });

  it('rejects user code without the method of an input, and wraps user errors', () => {
    expect(() => new CoStreamMap(setup('coMap', { map1: (v: unknown) => v }).s)).toThrow(/map2\(\)/);
    expect(() => new CoStreamFlatMap(setup('coFlatMap', (v: unknown) => v).s)).toThrow(/flatMap1\(\)/);
    const op = new CoStreamMap(
      setup('coMap', {
        map1: (v: unknown) => v,
        map2: () => {
          throw new RangeError('bad rate');
        },
      }).s,
    );
    op.processElement1(1, 1);
    let err: unknown;
    try {
      op.processElement2(1, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserCodeError);
    expect((err as UserCodeError).operatorName).toBe('Co(coMap)');
    expect((err as UserCodeError).message).toBe('bad rate');
  });
});

// ---------------------------------------------------------------------------------------------

interface Order {
  user: string;
  id: number;
  ts: number;
}
type Payment = [user: string, orderId: number, ts: number];

const UNPAID = { id: 'unpaid' };

/**
 * The classic KeyedCoProcessFunction: orders wait for their payment; an order still unpaid 10 ms
 * (event time) after it was placed goes to a side output when its timer fires.
 */
function orderMatcher(log: string[]) {
  const pending = new Map<string, Map<number, number>>(); // user -> orderId -> order ts
  const paid = new Set<string>();
  return {
    processElement1(o: Order, ctx: ProcessContext & { getCurrentKey(): unknown }, out: Collector<string>) {
      expect(ctx.getCurrentKey()).toBe(o.user);
      expect(ctx.timestamp()).toBe(o.ts);
      if (paid.has(`${o.user}/${o.id}`)) {
        out.collect(`matched ${o.user}/${o.id}`);
        return;
      }
      let m = pending.get(o.user);
      if (!m) pending.set(o.user, (m = new Map()));
      m.set(o.id, o.ts);
      ctx.timerService().registerEventTimeTimer(o.ts + 10);
    },
    processElement2(p: Payment, ctx: ProcessContext & { getCurrentKey(): unknown }, out: Collector<string>) {
      expect(ctx.getCurrentKey()).toBe(p[0]);
      const m = pending.get(p[0]);
      const orderTs = m?.get(p[1]);
      if (orderTs !== undefined) {
        m!.delete(p[1]);
        // The timer is per key and time: keep it while another order of this user needs it.
        if (![...m!.values()].includes(orderTs)) ctx.timerService().deleteEventTimeTimer(orderTs + 10);
        out.collect(`matched ${p[0]}/${p[1]}`);
      } else paid.add(`${p[0]}/${p[1]}`);
    },
    onTimer(t: number, ctx: OnTimerContext<string>, out: Collector<string>) {
      const key = ctx.getCurrentKey();
      expect(ctx.timeDomain()).toBe('EVENT_TIME');
      expect(ctx.timestamp()).toBe(t);
      log.push(`${key}@${t}`);
      const m = pending.get(key)!;
      for (const [id, ts] of m) {
        if (ts + 10 === t) {
          m.delete(id);
          ctx.output(UNPAID, `${key}/${id}`);
        }
      }
      out.collect(`timer ${key}@${t}`);
    },
  };
}

describe('CoProcessOperator (keyed)', () => {
  it('matches two keyed inputs with per-key event-time timers fired in order, and side outputs', () => {
    const rnd = lcg(42);
    const users = ['ann', 'bob', 'cyd', 'dan'];
    // Each order has a payment 0..14 ms later (so some time out), except every 7th which is never paid.
    const events: { at: number; input: 1 | 2; value: Order | Payment; ts: number }[] = [];
    for (let id = 0; id < 300; id++) {
      const user = users[Math.floor(rnd() * users.length)]!;
      const ts = Math.floor(rnd() * 1000);
      events.push({ at: ts, input: 1, value: { user, id, ts }, ts });
      if (id % 7 !== 0) {
        const pts = ts + Math.floor(rnd() * 15);
        events.push({ at: pts, input: 2, value: [user, id, pts], ts: pts });
      }
    }
    events.sort((a, b) => a.at - b.at);
    const timerLog: string[] = [];
    const { s, out } = setup('coProcess', orderMatcher(timerLog), {
      k1: (o) => (o as Order).user,
      k2: (p) => (p as Payment)[0],
    });
    const op = new CoProcessOperator(s);
    // In timestamp order, each event preceded by watermark ts - 1 on both inputs: nothing is late.
    for (const e of events) {
      op.processWatermark1(e.ts - 1);
      op.processWatermark2(e.ts - 1);
      if (e.input === 1) op.processElement1(e.value, e.ts);
      else op.processElement2(e.value, e.ts);
    }
    op.processWatermark1(MAX_WATERMARK);
    op.processWatermark2(MAX_WATERMARK);

    // Reference: an order is matched iff its payment came at most 10 ms after it: its timer at
    // ts + 10 fires once the watermark (event time - 1) reaches it, just before an event at ts + 11.
    const orders = events.filter((e) => e.input === 1).map((e) => e.value as Order);
    const payments = new Map(
      events.filter((e) => e.input === 2).map((e) => [(e.value as Payment)[1], (e.value as Payment)[2]]),
    );
    const expectMatched = orders
      .filter((o) => payments.has(o.id) && payments.get(o.id)! - o.ts <= 10)
      .map((o) => `matched ${o.user}/${o.id}`);
    const expectUnpaid = orders
      .filter((o) => !(payments.has(o.id) && payments.get(o.id)! - o.ts <= 10))
      .map((o) => `${o.user}/${o.id}`);
    const outValues = out.values() as string[];
    expect(outValues.filter((v) => v.startsWith('matched')).sort()).toEqual([...expectMatched].sort());
    expect((out.side('unpaid') as string[]).sort()).toEqual([...expectUnpaid].sort());
    expect(expectUnpaid.length).toBeGreaterThan(40); // the input exercises both outcomes
    expect(expectMatched.length).toBeGreaterThan(100);

    // One timer per (user, time) still pending, fired in time order with output stamped by the timer.
    const expectedTimers = [
      ...new Set(orders.filter((o) => expectUnpaid.includes(`${o.user}/${o.id}`)).map((o) => `${o.user}@${o.ts + 10}`)),
    ];
    expect([...timerLog].sort()).toEqual([...expectedTimers].sort());
    const times = timerLog.map((t) => Number(t.split('@')[1]));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    for (const r of out.records()) {
      const v = r.value as string;
      if (v.startsWith('timer')) expect(r.ts).toBe(Number(v.split('@')[1]));
    }
    expect(op.numTimers()).toBe(0);
  });

  it('fires timers only once the slower input has passed them; output precedes the watermark', () => {
    const { s, out } = setup(
      'coProcess',
      {
        processElement1: (v: string, ctx: ProcessContext) => ctx.timerService().registerEventTimeTimer(100),
        processElement2: () => {},
        onTimer: (t: number, ctx: OnTimerContext<string>, c: Collector<string>) =>
          c.collect(`${ctx.getCurrentKey()}:${t}:${ctx.timerService().currentWatermark()}`),
      },
      { k1: (v) => v, k2: (v) => v },
    );
    const op = new CoProcessOperator(s);
    op.processElement1('a', 1);
    op.processElement1('b', 2);
    op.processWatermark1(500);
    expect(out.values()).toEqual([]);
    op.processWatermark2(99);
    expect(out.values()).toEqual([]);
    op.processWatermark2(150);
    expect(out.log).toEqual([
      { kind: 'wm', ts: 99 },
      { kind: 'out', value: 'a:100:150', ts: 100 },
      { kind: 'out', value: 'b:100:150', ts: 100 },
      { kind: 'wm', ts: 150 },
    ]);
  });

  it('fires processing-time timers per key from the mailbox, with no output timestamp', () => {
    const seen: string[] = [];
    const { s, out, time } = setup(
      'coProcess',
      {
        processElement1: (v: { k: string; d: number }, ctx: ProcessContext) => {
          const ts = ctx.timerService();
          ts.registerProcessingTimeTimer(ts.currentProcessingTime() + v.d);
        },
        processElement2: (v: { k: string; d: number }, ctx: ProcessContext) => {
          const ts = ctx.timerService();
          ts.registerProcessingTimeTimer(ts.currentProcessingTime() + v.d);
          if (v.d === 0) ts.deleteProcessingTimeTimer(ts.currentProcessingTime());
        },
        onTimer: (t: number, ctx: OnTimerContext<string>, c: Collector<string>) => {
          seen.push(ctx.timeDomain());
          c.collect(`${ctx.getCurrentKey()}@${t}`);
        },
      },
      { k1: (v) => (v as { k: string }).k, k2: (v) => (v as { k: string }).k },
    );
    const op = new CoProcessOperator(s);
    time.advance(1000);
    op.processElement1({ k: 'x', d: 30 }, undefined);
    op.processElement2({ k: 'y', d: 10 }, undefined);
    op.processElement2({ k: 'x', d: 30 }, undefined); // same key and time as the first: one timer
    op.processElement2({ k: 'z', d: 0 }, undefined); // registered and deleted at once
    time.advance(1015);
    expect(out.values()).toEqual(['y@1010']);
    time.advance(2000);
    expect(out.records()).toEqual([
      { value: 'y@1010', ts: undefined },
      { value: 'x@1030', ts: undefined },
    ]);
    expect(seen).toEqual(['PROCESSING_TIME', 'PROCESSING_TIME']);
  });

  it('needs key selectors on both inputs', () => {
    expect(
      () =>
        new CoProcessOperator(setup('coProcess', { processElement1() {}, processElement2() {} }, { k1: (v) => v }).s),
    ).toThrow(/key selectors for both inputs/);
  });
});

describe('CoProcessOperator (non-keyed)', () => {
  it('processes both inputs, reads the combined watermark, and refuses timers and keys clearly', () => {
    const errors: string[] = [];
    const tryIt = (f: () => void) => {
      try {
        f();
      } catch (e) {
        errors.push((e as Error).message);
      }
    };
    let service: TimerService | undefined;
    const { s, out } = setup('coProcess', {
      processElement1: (v: number, ctx: ProcessContext & { getCurrentKey(): unknown }, c: Collector<string>) => {
        service = ctx.timerService();
        c.collect(`L${v}@${ctx.timestamp()}/wm=${ctx.timerService().currentWatermark()}`);
        tryIt(() => ctx.timerService().registerEventTimeTimer(5));
        tryIt(() => ctx.getCurrentKey());
      },
      processElement2: (v: number, ctx: ProcessContext, c: Collector<string>) => {
        c.collect(`R${v}@${ctx.timestamp()}`);
        ctx.output({ id: 'odd' } as never, v);
      },
    });
    const op = new CoProcessOperator(s);
    op.processWatermark1(30);
    op.processWatermark2(20);
    op.processElement1(1, 40);
    op.processElement2(2, undefined);
    expect(out.values()).toEqual(['L1@40/wm=20', 'R2@null']);
    expect(out.log.find((e) => e.kind === 'side')).toEqual({ kind: 'side', tag: 'odd', value: 2, ts: undefined });
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/timers are only available on keyed streams/);
    expect(errors[1]).toMatch(/not keyed: getCurrentKey\(\)/);
    expect(service!.currentProcessingTime()).toBe(0);
  });

  it('reports errors thrown in processElement as the operator user-code errors', () => {
    const { s } = setup('coProcess', {
      processElement1: () => {
        throw new Error('boom');
      },
      processElement2: () => {},
    });
    const op = new CoProcessOperator(s);
    expect(() => op.processElement1(1, 1)).toThrow(UserCodeError);
  });
});
