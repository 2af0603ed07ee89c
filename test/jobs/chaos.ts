// The chaos job: keyed state with timers (a KeyedProcessFunction counting per key and window in
// MapState), a tumbling window and an interval join, all written through the exactly-once
// FileSink while checkpoints are taken. Its committed output must equal test/reference/chaos.ts
// whatever fails while it runs.
//   args: <outDir> <orders> <ordersPerSecond> <checkpointIntervalMs>
import {
  DataGeneratorSource,
  FileSink,
  KeyedProcessFunction,
  MapStateDescriptor,
  RateLimiterStrategy,
  RestartStrategies,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type MapState,
  type OnTimerContext,
  type StreamExecutionEnvironment,
} from 'weir';
import {
  BOUND_MS,
  countLine,
  JOIN_LOWER,
  JOIN_UPPER,
  joinLine,
  orderOf,
  paymentOf,
  sumLine,
  WINDOW_MS,
  windowStart,
  type Order,
  type Payment,
} from './chaos-input.js';

/** Per key and window: [count, amount] in MapState, emitted by an event-time timer at the window's end. */
class WindowedCounter extends KeyedProcessFunction<number, Order, string> {
  private perWindow!: MapState<number, [number, number]>;

  override open(): void {
    this.perWindow = this.getRuntimeContext().getMapState(
      new MapStateDescriptor<number, [number, number]>('per-window'),
    );
  }

  processElement(o: Order, ctx: KeyedProcessContext<number>, _out: Collector<string>): void {
    const w = windowStart(o.ts);
    const [count, amount] = this.perWindow.get(w) ?? [0, 0];
    this.perWindow.put(w, [count + 1, amount + o.amount]);
    ctx.timerService().registerEventTimeTimer(w + WINDOW_MS - 1);
  }

  override onTimer(timestamp: number, ctx: OnTimerContext<number>, out: Collector<string>): void {
    const w = timestamp + 1 - WINDOW_MS;
    const v = this.perWindow.get(w);
    if (!v) return;
    out.collect(countLine(ctx.getCurrentKey(), w, v[0], v[1]));
    this.perWindow.remove(w);
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, ordersArg, rateArg, intervalArg] = args;
  const n = Number(ordersArg);
  const rate = Number(rateArg);
  env.enableCheckpointing(Number(intervalArg));
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(1000, 100));
  const orderWm = WatermarkStrategy.forBoundedOutOfOrderness<Order>(BOUND_MS).withTimestampAssigner((o) => o.ts);
  const paymentWm = WatermarkStrategy.forBoundedOutOfOrderness<Payment>(BOUND_MS).withTimestampAssigner((p) => p.ts);
  const orders = env
    .fromSource(new DataGeneratorSource(orderOf, n, RateLimiterStrategy.perSecond(rate)), orderWm, 'Orders')
    .uid('orders');
  const payments = env
    .fromSource(
      new DataGeneratorSource(paymentOf, n / 2, RateLimiterStrategy.perSecond(rate / 2)),
      paymentWm,
      'Payments',
    )
    .uid('payments');

  const counts = orders
    .keyBy((o) => o.key)
    .process(new WindowedCounter())
    .name('Counter')
    .uid('counter');
  const sums = orders
    .keyBy((o) => o.key)
    .window(TumblingEventTimeWindows.of(WINDOW_MS))
    .aggregate(
      {
        createAccumulator: () => 0,
        add: (o: Order, acc: number) => acc + o.amount,
        getResult: (acc: number) => acc,
        merge: (a: number, b: number) => a + b,
      },
      (key: number, ctx, sums: Iterable<number>, out: Collector<string>) => {
        for (const s of sums) out.collect(sumLine(key, ctx.window.start, s));
      },
    )
    .name('Sums')
    .uid('sums');
  const joined = orders
    .keyBy((o) => o.key)
    .intervalJoin(payments.keyBy((p) => p.key))
    .between(JOIN_LOWER, JOIN_UPPER)
    .process({
      processElement: (o: Order, p: Payment, _ctx: unknown, out: Collector<string>) =>
        out.collect(joinLine(o.id, p.id)),
    })
    .name('Join')
    .uid('join');
  counts
    .union(sums, joined)
    .sinkTo(FileSink.forRowFormat<string>(`${outDir}/out`).build())
    .name('Output')
    .uid('output');
}
