// Two-input operators over two randomized, out-of-order sources, for comparison with
// test/reference/joins.ts: window joins and coGroup (tumbling, sliding, session windows), interval
// joins, and a KeyedCoProcessFunction with event-time timers and a side output.
//   args: <outDir> <JJobSpec as JSON>
// Results go to <outDir>/results, the co-process side output to <outDir>/side.
import {
  DataGeneratorSource,
  EventTimeSessionWindows,
  FileSink,
  KeyedCoProcessFunction,
  OutputTag,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type CoOnTimerContext,
  type DataStream,
  type KeyedCoProcessContext,
  type ProcessJoinContext,
  type StreamExecutionEnvironment,
} from 'weir';
import {
  coGroupLine,
  intervalLine,
  isSideOutput,
  jRecord,
  pairLine,
  sideLine,
  slotEnd,
  slotLine,
  type JJobSpec,
  type JRecord,
  type JWindowSpec,
} from './j-input.js';

function assigner(w: JWindowSpec) {
  switch (w.kind) {
    case 'tumbling':
      return TumblingEventTimeWindows.of(w.size);
    case 'sliding':
      return SlidingEventTimeWindows.of(w.size, w.slide);
    case 'session':
      return EventTimeSessionWindows.withGap(w.gap);
  }
}

const side = new OutputTag<string>('co-side');
const keyOf = (r: JRecord) => r.key;

/** Per key and slot, counts each side's records; a timer at the slot's end reports and forgets them. */
class SlotCounter extends KeyedCoProcessFunction<number, JRecord, JRecord, string> {
  private readonly counts = new Map<string, [number, number]>();

  private add(r: JRecord, ctx: KeyedCoProcessContext<number>): void {
    const end = slotEnd(r.ts);
    const id = `${ctx.getCurrentKey()}:${end}`;
    let c = this.counts.get(id);
    if (!c) this.counts.set(id, (c = [0, 0]));
    c[r.side]++;
    ctx.timerService().registerEventTimeTimer(end);
  }

  processElement1(r: JRecord, ctx: KeyedCoProcessContext<number>, _out: Collector<string>): void {
    if (ctx.getCurrentKey() !== r.key || ctx.timestamp() !== r.ts)
      throw new Error(`wrong context for left ${r.seq}: key ${ctx.getCurrentKey()}, ts ${ctx.timestamp()}`);
    this.add(r, ctx);
  }

  processElement2(r: JRecord, ctx: KeyedCoProcessContext<number>, _out: Collector<string>): void {
    if (ctx.getCurrentKey() !== r.key || ctx.timestamp() !== r.ts)
      throw new Error(`wrong context for right ${r.seq}: key ${ctx.getCurrentKey()}, ts ${ctx.timestamp()}`);
    if (isSideOutput(r)) ctx.output(side, sideLine(r));
    this.add(r, ctx);
  }

  override onTimer(time: number, ctx: CoOnTimerContext<number>, out: Collector<string>): void {
    const id = `${ctx.getCurrentKey()}:${time}`;
    const c = this.counts.get(id);
    if (!c) throw new Error(`timer ${id} fired without counts (twice?)`);
    this.counts.delete(id);
    out.collect(slotLine(ctx.getCurrentKey(), time, ctx.timestamp(), c[0], c[1]));
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, json] = args;
  if (!outDir || !json) throw new Error('usage: j-joins <outDir> <spec JSON>');
  const spec = JSON.parse(json) as JJobSpec;
  const input = spec.input;
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness<JRecord>(spec.boundMs).withTimestampAssigner(
    (r: JRecord) => r.ts,
  );
  const left: DataStream<JRecord> = env
    .fromSource(new DataGeneratorSource((i: number) => jRecord(0, i, input), input.left.count), strategy, 'Left')
    .uid('left');
  const right: DataStream<JRecord> = env
    .fromSource(new DataGeneratorSource((i: number) => jRecord(1, i, input), input.right.count), strategy, 'Right')
    .uid('right');

  let results: DataStream<string>;
  switch (spec.op) {
    case 'join':
      results = left
        .join(right)
        .where(keyOf)
        .equalTo(keyOf)
        .window(assigner(spec.window))
        .apply((l: JRecord, r: JRecord) => pairLine(l, r))
        .uid('join')
        .name(`Join ${spec.window.kind}`);
      break;
    case 'coGroup':
      results = left
        .coGroup(right)
        .where(keyOf)
        .equalTo(keyOf)
        .window(assigner(spec.window))
        .apply((ls: Iterable<JRecord>, rs: Iterable<JRecord>, out: Collector<string>) =>
          out.collect(coGroupLine([...ls], [...rs])),
        )
        .uid('coGroup')
        .name(`CoGroup ${spec.window.kind}`);
      break;
    case 'interval': {
      let between = left.keyBy(keyOf).intervalJoin(right.keyBy(keyOf)).between(spec.lower, spec.upper);
      if (spec.lowerExclusive) between = between.lowerBoundExclusive();
      if (spec.upperExclusive) between = between.upperBoundExclusive();
      results = between
        .process({
          processElement(l: JRecord, r: JRecord, ctx: ProcessJoinContext, out: Collector<string>) {
            out.collect(intervalLine(l, r, ctx.getLeftTimestamp(), ctx.getRightTimestamp(), ctx.getTimestamp()));
          },
        })
        .uid('interval-join')
        .name('Interval join');
      break;
    }
    case 'coProcess': {
      const counted = left
        .keyBy(keyOf)
        .connect(right.keyBy(keyOf))
        .process(new SlotCounter())
        .uid('co-process')
        .name('Slot counts');
      counted
        .getSideOutput(side)
        .sinkTo(FileSink.forRowFormat<string>(`${outDir}/side`).build())
        .name('Side');
      results = counted;
      break;
    }
  }
  results.sinkTo(FileSink.forRowFormat<string>(`${outDir}/results`).build()).name('Results');
  void env.execute(`Joins: ${spec.op}`);
}
