// In-process execution: jobs built in the test process run on the in-process mini cluster (the
// real task runtime, local channels, checkpoints) through execute(), executeAsync() and
// executeAndCollect(), compared with plain reference computations.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, test } from 'vitest';
import {
  DataGeneratorSource,
  EventTimeSessionWindows,
  JobExecutionException,
  KeyedProcessFunction,
  ListStateDescriptor,
  RateLimiterStrategy,
  RestartStrategies,
  RichMapFunction,
  RichParallelSourceFunction,
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  ValueStateDescriptor,
  Watermark,
  WatermarkStrategy,
  type CheckpointedFunction,
  type CheckpointListener,
  type Collector,
  type FunctionInitializationContext,
  type FunctionSnapshotContext,
  type KeyedProcessContext,
  type ListState,
  type SourceContext,
  type TimeWindow,
  type ValueState,
} from '../../api/index.js';
import { createEnvironment, runMain } from '../../api/internal.js';
import { copyUserObject } from '../../api/minicluster/user-code-copies.js';
import { referenceCoGroup, referenceIntervalJoin } from '../reference/joins.js';
import { mulberry32 } from '../reference/random.js';
import { MAX_WATERMARK, type StreamEvent } from '../reference/stream.js';
import { referenceWindows, type RefAssigner } from '../reference/windows.js';

interface Order {
  id: number;
  key: number;
  ts: number;
  amount: number;
}
interface Payment {
  id: number;
  key: number;
  ts: number;
}

const KEYS = 7;
const WINDOW = 1000;
const DISORDER = 800;
const orders: Order[] = (() => {
  const r = mulberry32(14);
  // Timestamps run 5 ms apart plus up to DISORDER ms of jitter: out of order, never late.
  return Array.from({ length: 3000 }, (_, i) => ({
    id: i,
    key: Math.floor(r() * KEYS),
    ts: i * 5 + Math.floor(r() * DISORDER),
    amount: 1 + Math.floor(r() * 100),
  }));
})();
/** Payments come from a parallel source (fromSequence), so they are a function of their index. */
function payment(i: number): Payment {
  const r = mulberry32(1000 + i);
  return { id: i, key: Math.floor(r() * KEYS), ts: i * 50 + Math.floor(r() * DISORDER) };
}
const PAYMENTS = 300;
const SLIDE_SIZE = 2000;
const SLIDE = 500;
const GAP = 200;
const COUNT = 5;

function reference(): string[] {
  const out: string[] = [];
  const payments = Array.from({ length: PAYMENTS }, (_, i) => payment(i));
  const sums = new Map<string, number>();
  for (const o of orders) {
    const id = `${o.key}@${Math.floor(o.ts / WINDOW) * WINDOW + WINDOW}`;
    sums.set(id, (sums.get(id) ?? 0) + o.amount);
  }
  for (const [id, sum] of sums) out.push(`window ${id}=${sum}`);
  for (const o of orders) {
    for (const p of payments)
      if (p.key === o.key && Math.floor(p.ts / WINDOW) === Math.floor(o.ts / WINDOW)) out.push(`join ${o.id}-${p.id}`);
  }
  // No element is late (disorder below the watermark bound): each window fires once, with all its elements, at the end.
  const atEnd = <T extends { ts: number }>(xs: readonly T[]): StreamEvent<T>[] => [
    ...xs.map((value) => ({ kind: 'record' as const, value, timestamp: value.ts })),
    { kind: 'watermark' as const, timestamp: MAX_WATERMARK },
  ];
  const windows = <T extends { ts: number; key: number }>(
    xs: readonly T[],
    assigner: RefAssigner,
    line: (key: number, end: number, elements: readonly T[]) => string,
  ) =>
    referenceWindows(atEnd(xs), {
      assigner,
      allowedLateness: 0,
      keyOf: (x: T) => x.key,
      fire: (key, w, elements) => [line(key, w.end, elements)],
    }).fired;
  out.push(
    ...windows(
      orders,
      { kind: 'sliding', size: SLIDE_SIZE, slide: SLIDE },
      (k, end, es) => `sliding ${k}@${end}=${es.reduce((a, o) => a + o.amount, 0)}`,
    ),
  );
  out.push(...windows(payments, { kind: 'session', gap: GAP }, (k, end, es) => `session ${k}@${end}=${es.length}`));
  out.push(
    ...referenceIntervalJoin(
      orders,
      payments,
      { leftKey: (o) => o.key, rightKey: (p) => p.key, leftTs: (o) => o.ts, rightTs: (p) => p.ts },
      { lower: -200, upper: 300, lowerExclusive: false, upperExclusive: true },
      (o, p) => `interval ${o.id}-${p.id}`,
    ),
  );
  // coGroup over sliding windows of both sides; the element ids in input order per side.
  const ids = (xs: { id: number }[]) => xs.map((x) => x.id).join(',');
  out.push(
    ...referenceCoGroup(
      orders,
      payments,
      {
        assigner: { kind: 'sliding', size: SLIDE_SIZE, slide: SLIDE },
        leftKey: (o) => o.key,
        rightKey: (p) => p.key,
        leftTs: (o) => o.ts,
        rightTs: (p) => p.ts,
      },
      (os, ps) =>
        `cogroup ${os.length}/${ps.length}:${ids(os.sort((a, b) => a.id - b.id))}|${ids(ps.sort((a, b) => a.id - b.id))}`,
    ),
  );
  // Count windows of 5 per key, in arrival order (one source subtask: input order); a rest of fewer never fires.
  const perKey = new Map<number, Order[]>();
  for (const o of orders) {
    const group = perKey.get(o.key) ?? perKey.set(o.key, []).get(o.key)!;
    group.push(o);
    if (group.length === COUNT) {
      out.push(`count-window ${o.key}=${ids(group)}`);
      perKey.set(o.key, []);
    }
  }
  const counts = new Map<number, number>();
  for (const o of orders) {
    const n = (counts.get(o.key) ?? 0) + 1;
    counts.set(o.key, n);
    out.push(`count ${o.key}:${n}`);
  }
  return out.sort();
}

/** Keeps its state handle in a field set in open(): each subtask must have its own copy. */
class RunningCount extends KeyedProcessFunction<number, Order, string> {
  private count!: ValueState<number>;

  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count', 0));
  }

  processElement(o: Order, ctx: KeyedProcessContext<number>, out: Collector<string>): void {
    if (ctx.getCurrentKey() !== o.key)
      throw new Error(`record of key ${o.key} under key ${String(ctx.getCurrentKey())}`);
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect(`count ${o.key}:${n}`);
  }
}

describe.each([1, 3])('in-process job at parallelism %i', (parallelism) => {
  test('tumbling, sliding, session and count windows, a window join, a coGroup, an interval join and keyed state equal the reference', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(parallelism);
    const strategy = <T extends { ts: number }>() =>
      WatermarkStrategy.forBoundedOutOfOrderness<T>(DISORDER).withTimestampAssigner((e) => e.ts);
    const orderStream = env.fromElements(...orders).assignTimestampsAndWatermarks(strategy<Order>());
    const paymentStream = env
      .fromSequence(0, PAYMENTS - 1)
      .map(payment)
      .assignTimestampsAndWatermarks(strategy<Payment>());
    const windows = orderStream
      .keyBy((o) => o.key)
      .window(TumblingEventTimeWindows.of(WINDOW))
      .aggregate(
        {
          createAccumulator: () => 0,
          add: (o: Order, acc: number) => acc + o.amount,
          getResult: (acc: number) => acc,
          merge: (a: number, b: number) => a + b,
        },
        (key: number, ctx, sums: Iterable<number>, out: Collector<string>) => {
          for (const s of sums) out.collect(`window ${key}@${ctx.window.end}=${s}`);
        },
      );
    const joins = orderStream
      .join(paymentStream)
      .where((o) => o.key)
      .equalTo((p) => p.key)
      .window(TumblingEventTimeWindows.of(WINDOW))
      .apply((o, p) => `join ${o.id}-${p.id}`);
    const sliding = orderStream
      .keyBy((o) => o.key)
      .window(SlidingEventTimeWindows.of(SLIDE_SIZE, SLIDE))
      .reduce(
        (a, b) => ({ ...a, amount: a.amount + b.amount }),
        (key: number, ctx, sums: Iterable<Order>, out: Collector<string>) => {
          for (const s of sums) out.collect(`sliding ${key}@${ctx.window.end}=${s.amount}`);
        },
      );
    const sessions = paymentStream
      .keyBy((p) => p.key)
      .window(EventTimeSessionWindows.withGap(GAP))
      .process((key: number, ctx, elements: Iterable<Payment>, out: Collector<string>) =>
        out.collect(`session ${key}@${(ctx.window as TimeWindow).end}=${[...elements].length}`),
      );
    const intervals = orderStream
      .keyBy((o) => o.key)
      .intervalJoin(paymentStream.keyBy((p) => p.key))
      .between(-200, 300)
      .upperBoundExclusive()
      .process({
        processElement: (o: Order, p: Payment, _ctx: unknown, out: Collector<string>) =>
          out.collect(`interval ${o.id}-${p.id}`),
      });
    const coGroups = orderStream
      .coGroup(paymentStream)
      .where((o) => o.key)
      .equalTo((p) => p.key)
      .window(SlidingEventTimeWindows.of(SLIDE_SIZE, SLIDE))
      .apply((os: Iterable<Order>, ps: Iterable<Payment>, out: Collector<string>) => {
        const l = [...os].sort((a, b) => a.id - b.id);
        const r = [...ps].sort((a, b) => a.id - b.id);
        out.collect(`cogroup ${l.length}/${r.length}:${l.map((x) => x.id).join(',')}|${r.map((x) => x.id).join(',')}`);
      });
    const countWindows = orderStream
      .keyBy((o) => o.key)
      .countWindow(COUNT)
      .process((key: number, _ctx, elements: Iterable<Order>, out: Collector<string>) =>
        out.collect(`count-window ${key}=${[...elements].map((o) => o.id).join(',')}`),
      );
    const counts = orderStream.keyBy((o) => o.key).process(new RunningCount());

    const started = performance.now();
    const out = await windows
      .union(joins, sliding, sessions, intervals, coGroups, countWindows, counts)
      .executeAndCollect(`reference p${parallelism}`);
    const ms = performance.now() - started;
    const expected = reference();
    for (const kind of ['window', 'join', 'sliding', 'session', 'interval', 'cogroup', 'count-window', 'count'])
      expect(expected.filter((l) => l.startsWith(`${kind} `)).length, kind).toBeGreaterThan(50);
    expect(out.sort()).toEqual(expected);
    // Generous: the first job in a fresh worker also loads the runtime's modules.
    expect(ms).toBeLessThan(20_000);
  });
});

test('executeAndCollect(limit) ends an unbounded job after limit records', async () => {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  const endless = new DataGeneratorSource((i: number) => i, Infinity, RateLimiterStrategy.noOp());
  const out = await env
    .fromSource(endless, WatermarkStrategy.noWatermarks(), 'Endless')
    .map((i) => i * 2)
    .executeAndCollect(100);
  expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));

  // executeAsync() hands back a client that cancels the job.
  const env2 = StreamExecutionEnvironment.createLocalEnvironment(2);
  env2
    .fromSource(endless, WatermarkStrategy.noWatermarks(), 'Endless')
    .filter(() => false)
    .print();
  const client = await env2.executeAsync('endless');
  expect(await client.getJobStatus()).toBe('RUNNING');
  await client.cancel();
  expect(await client.getJobStatus()).toBe('CANCELED');
  await expect(client.getJobExecutionResult()).rejects.toThrow(/was canceled/);
});

test("a failing user function fails the job with the user's error and stack", async () => {
  for (const parallelism of [1, 2]) {
    const env = StreamExecutionEnvironment.createLocalEnvironment(parallelism);
    const job = env
      .fromSequence(1, 1000)
      .keyBy((n) => n % 4)
      .map(function checkRecord(n: number) {
        if (n === 700) throw new TypeError(`record ${n} is not valid`);
        return n;
      });
    const failure = await job.executeAndCollect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(JobExecutionException);
    const err = failure as JobExecutionException;
    expect(err.message).toMatch(/failed: TypeError: record 700 is not valid/);
    expect(err.cause).toBeInstanceOf(TypeError);
    // The user's frame: the function above, in this file.
    expect((err.cause as Error).stack).toMatch(/checkRecord .*local-execution\.test\.ts/);
    expect(err.stack).toContain('Caused by: TypeError: record 700 is not valid');
  }
});

/** Module scope is shared by every subtask and attempt in process (as a TaskManager thread's is); one entry per test. */
const runs = new Map<string, { attempts: Set<number>; failed: boolean }>();
const runOf = (name: string) => runs.get(name) ?? runs.set(name, { attempts: new Set(), failed: false }).get(name)!;

class FailingCounter
  extends RichMapFunction<{ key: number; i: number }, string>
  implements CheckpointedFunction, CheckpointListener
{
  /** The run's name (a string: function objects are copied per subtask, module scope is not). */
  constructor(private readonly run: string) {
    super();
  }

  private count!: ValueState<number>;
  private processed = 0;
  /** Records processed when each checkpoint's barrier passed. */
  private readonly processedAt = new Map<number, number>();
  private checkpointed = false;

  initializeState(): void {}

  snapshotState(ctx: FunctionSnapshotContext): void {
    this.processedAt.set(ctx.getCheckpointId(), this.processed);
  }

  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count', 0));
    runOf(this.run).attempts.add(this.getRuntimeContext().getAttemptNumber());
  }

  notifyCheckpointComplete(checkpointId: number): void {
    // A checkpoint that holds counts: the restart then continues from it, not from 1.
    if ((this.processedAt.get(checkpointId) ?? 0) >= 50) this.checkpointed = true;
  }

  map(e: { key: number; i: number }): string {
    // Once, after such a checkpoint completed.
    const run = runOf(this.run);
    if (this.checkpointed && !run.failed) {
      run.failed = true;
      throw new Error('planned failure');
    }
    this.processed++;
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    return `${e.key}:${n}:${this.getRuntimeContext().getAttemptNumber()}`;
  }
}

/**
 * The sink is not transactional: records after the restored checkpoint come twice, but every
 * key's counts are exactly 1..n, and the second attempt continued from the checkpoint's counts.
 */
function expectCountsRestored(seen: string[], total: number): void {
  const byKey = new Map<number, Set<number>>();
  let firstAfterRestart = Infinity;
  for (const line of seen) {
    const [k, n, attempt] = line.split(':').map(Number) as [number, number, number];
    if (!byKey.has(k)) byKey.set(k, new Set());
    byKey.get(k)!.add(n);
    if (attempt === 1) firstAfterRestart = Math.min(firstAfterRestart, n);
  }
  expect(firstAfterRestart).toBeGreaterThan(1);
  expect(firstAfterRestart).toBeLessThan(Infinity);
  for (let k = 0; k < 5; k++)
    expect([...byKey.get(k)!].sort((a, b) => a - b)).toEqual(Array.from({ length: total / 5 }, (_, i) => i + 1));
}

test('checkpoints and a restart strategy in process (level backend): state comes back from the checkpoint', async () => {
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ 'state.backend': 'level' });
  env.setParallelism(2);
  env.enableCheckpointing(20);
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(2, 10));
  const total = 3000;
  const source = new DataGeneratorSource(
    (i: number) => ({ key: i % 5, i }),
    total,
    RateLimiterStrategy.perSecond(5_000),
  );
  const seen: string[] = [];
  env
    .fromSource(source, WatermarkStrategy.noWatermarks(), 'Events')
    .keyBy((e) => e.key)
    .map(new FailingCounter('generator'))
    .uid('counter')
    .addSink((line: string) => void seen.push(line));
  const result = await env.execute('checkpointed counts');
  expect(runOf('generator').failed).toBe(true);
  expect([...runOf('generator').attempts].sort()).toEqual([0, 1]);
  expectCountsRestored(seen, total);
  expect(result.getJobID()).toMatch(/^[0-9a-f]{32}$/);
  expect(result.getNetRuntime()).toBeGreaterThan(0);
  expect(result.getAllAccumulatorResults()).toEqual({});
  // The temporary checkpoint and state directory is gone.
  expect(
    readdirSync(tmpdir()).filter((n) => n.startsWith(`weir-minicluster-${result.getJobID().slice(0, 8)}`)),
  ).toEqual([]);
});

/** A parallel SourceFunction that keeps its position in union list state, with explicit timestamps and watermarks. */
class ScriptedNumbers extends RichParallelSourceFunction<{ key: number; i: number }> implements CheckpointedFunction {
  private running = true;
  private next = 0;
  private positions!: ListState<{ subtask: number; next: number }>;
  private restored: { subtask: number; next: number }[] = [];

  constructor(private readonly perSubtask: number) {
    super();
  }

  initializeState(ctx: FunctionInitializationContext): void {
    this.positions = ctx
      .getOperatorStateStore()
      .getUnionListState(new ListStateDescriptor<{ subtask: number; next: number }>('positions'));
    this.restored = ctx.isRestored() ? [...this.positions.get()] : [];
  }

  override open(): void {
    this.next = this.restored.find((p) => p.subtask === this.getRuntimeContext().getIndexOfThisSubtask())?.next ?? 0;
  }

  snapshotState(): void {
    this.positions.update([{ subtask: this.getRuntimeContext().getIndexOfThisSubtask(), next: this.next }]);
  }

  async run(ctx: SourceContext<{ key: number; i: number }>): Promise<void> {
    const me = this.getRuntimeContext().getIndexOfThisSubtask();
    while (this.running && this.next < this.perSubtask) {
      const i = me * this.perSubtask + this.next;
      ctx.collectWithTimestamp({ key: i % 5, i }, i);
      this.next++;
      if (this.next % 10 === 0) {
        ctx.emitWatermark(new Watermark(i));
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  }

  cancel(): void {
    this.running = false;
  }
}

test('a checkpointed scripted source resumes from its checkpointed position after a failure in process', async () => {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(2);
  env.enableCheckpointing(20);
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(2, 10));
  const total = 3000;
  const seen: string[] = [];
  env
    .addSource(new ScriptedNumbers(total / 2), 'Scripted')
    .uid('scripted')
    .keyBy((e) => e.key)
    .map(new FailingCounter('scripted'))
    .uid('counter')
    .addSink((line: string) => void seen.push(line));
  await env.execute('scripted source restored');
  expect(runOf('scripted').failed).toBe(true);
  // Replayed from the start instead of the checkpointed positions, counts would pass total / 5.
  expectCountsRestored(seen, total);
});

test("inside the engine's main(), getExecutionEnvironment() is main's environment and execute() only names the job", async () => {
  const env = createEnvironment();
  let inside: StreamExecutionEnvironment | undefined;
  let detached = true;
  await runMain(
    {
      default: async () => {
        inside = StreamExecutionEnvironment.getExecutionEnvironment();
        inside.fromSequence(1, 10).print();
        const r = await inside.execute('named');
        detached = !r.isJobExecutionResult();
      },
    },
    env,
    [],
  );
  expect(inside).toBe(env);
  expect(detached).toBe(true);
  await expect(env.fromSequence(1, 2).executeAndCollect()).rejects.toThrow(/runs the job in this process/);
});

test('function objects are copied for each subtask; closures, frozen objects and classes with #private fields are shared', () => {
  class Fields {
    count = 0;
    nested = { list: [1, 2], byName: new Map([['a', { v: 1 }]]), seen: new Set([3]), at: new Date(5) };
    self: Fields = this;
  }
  const original = new Fields();
  const copy = copyUserObject(original);
  expect(copy).toBeInstanceOf(Fields);
  expect(copy).not.toBe(original);
  expect(copy).toEqual(original);
  expect(copy.nested.byName.get('a')).not.toBe(original.nested.byName.get('a'));
  expect(copy.nested.list).not.toBe(original.nested.list);
  expect(copy.self).toBe(copy);
  const fn = () => 1;
  expect(copyUserObject({ fn }).fn).toBe(fn);
  class Private {
    #x = 1;
    get x() {
      return this.#x;
    }
  }
  const p = new Private();
  expect(copyUserObject(p)).toBe(p);
  const frozen = Object.freeze({ a: 1 });
  expect(copyUserObject(frozen)).toBe(frozen);
});
