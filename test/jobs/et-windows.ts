// Keyed event-time windows over randomized, out-of-order input, for comparison with
// test/reference/windows.ts.
//   args: <outDir> <WindowJobSpec as JSON>
// Results go to <outDir>/results, late data (sideOutputLateData) to <outDir>/late.
import {
  DataGeneratorSource,
  EventTimeSessionWindows,
  FileSink,
  OutputTag,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type AggregateFunction,
  type Collector,
  type ProcessWindowContext,
  type SingleOutputStreamOperator,
  type StreamExecutionEnvironment,
  type TimeWindow,
  type WindowedStream,
} from 'weir';
import {
  etRecord,
  lateLine,
  mergeStats,
  processLine,
  statsLine,
  statsOf,
  windowStatsLine,
  type EtRecord,
  type Stats,
  type WindowJobSpec,
} from './et-input.js';

export function watermarkStrategy(spec: WindowJobSpec): WatermarkStrategy<EtRecord> {
  const bound = spec.boundMs;
  const base =
    spec.watermarks === 'perEvent'
      ? WatermarkStrategy.forGenerator<EtRecord>(() => {
          let max = -Infinity;
          return {
            onEvent(_e: EtRecord, ts: number, out: { emitWatermark(w: number): void }) {
              if (ts > max) max = ts;
              out.emitWatermark(max - bound - 1);
            },
            onPeriodicEmit() {},
          };
        })
      : WatermarkStrategy.forBoundedOutOfOrderness<EtRecord>(bound);
  return base.withTimestampAssigner((r: EtRecord) => r.ts);
}

function assigner(spec: WindowJobSpec) {
  const w = spec.window;
  switch (w.kind) {
    case 'tumbling':
      return TumblingEventTimeWindows.of(w.size, w.offset ?? 0);
    case 'sliding':
      return SlidingEventTimeWindows.of(w.size, w.slide);
    case 'session':
      return EventTimeSessionWindows.withGap(w.gap);
  }
}

const statsAggregate: AggregateFunction<EtRecord, Stats | undefined, Stats> = {
  createAccumulator: () => undefined,
  add: (r, acc) => (acc === undefined ? statsOf(r) : mergeStats(acc, statsOf(r))),
  getResult: (acc) => acc!,
  merge: (a, b) => (a === undefined ? b : b === undefined ? a : mergeStats(a, b)),
};

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, json] = args;
  if (!outDir || !json) throw new Error('usage: et-windows <outDir> <spec JSON>');
  const spec = JSON.parse(json) as WindowJobSpec;
  const input = spec.input;
  const wmOf = (ctx: ProcessWindowContext<TimeWindow>) => (spec.reportWatermark ? ctx.currentWatermark() : undefined);
  const lateTag = new OutputTag<EtRecord | Stats>('late-data');

  const source = env.fromSource(
    new DataGeneratorSource((i: number) => etRecord(i, input), input.count),
    watermarkStrategy(spec),
    'Input',
  );
  if (spec.sourceParallelism) source.setParallelism(spec.sourceParallelism);

  // The map chains to the source (same parallelism), so the window operator sees the source's
  // exact record and watermark order.
  const stats = () => {
    const s = source.map(statsOf).name('Stats');
    if (spec.sourceParallelism) s.setParallelism(spec.sourceParallelism);
    return s.keyBy((st: Stats) => st.key);
  };
  const settings = <T>(w: WindowedStream<T, number, TimeWindow>): WindowedStream<T, number, TimeWindow> => {
    if (spec.allowedLateness) w.allowedLateness(spec.allowedLateness);
    if (spec.sideOutputLateData) w.sideOutputLateData(lateTag as OutputTag<T>);
    return w;
  };
  const statsWindows = () => settings(stats().window(assigner(spec)));
  const recordWindows = () => settings(source.keyBy((r: EtRecord) => r.key).window(assigner(spec)));

  const finish = <R>(results: SingleOutputStreamOperator<R>, toLine: (r: R) => string): void => {
    results.uid('windows').name(`Window ${spec.window.kind} ${spec.fn}`);
    results
      .map(toLine)
      .name('Lines')
      .sinkTo(FileSink.forRowFormat<string>(`${outDir}/results`).build());
    if (spec.sideOutputLateData) {
      results
        .getSideOutput(lateTag)
        .map((r: EtRecord | Stats) => lateLine(r))
        .name('Late lines')
        .sinkTo(FileSink.forRowFormat<string>(`${outDir}/late`).build());
    }
  };
  const line = (s: string) => s;

  switch (spec.fn) {
    case 'reduce':
      finish(statsWindows().reduce(mergeStats), statsLine);
      break;
    case 'reduceProcess':
      finish(
        statsWindows().reduce(
          mergeStats,
          (_key: number, ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<Stats>, out: Collector<string>) => {
            for (const s of elements) out.collect(windowStatsLine(ctx.window.start, ctx.window.end, s, wmOf(ctx)));
          },
        ),
        line,
      );
      break;
    case 'aggregate':
      finish(recordWindows().aggregate(statsAggregate), statsLine);
      break;
    case 'aggregateProcess':
      finish(
        recordWindows().aggregate(
          statsAggregate,
          (_key: number, ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<Stats>, out: Collector<string>) => {
            for (const s of elements) out.collect(windowStatsLine(ctx.window.start, ctx.window.end, s, wmOf(ctx)));
          },
        ),
        line,
      );
      break;
    case 'process':
      finish(
        recordWindows().process(
          (
            key: number,
            ctx: ProcessWindowContext<TimeWindow>,
            elements: Iterable<EtRecord>,
            out: Collector<string>,
          ) => {
            out.collect(
              processLine(
                key,
                ctx.window.start,
                ctx.window.end,
                [...elements].map((r) => r.seq),
                wmOf(ctx),
              ),
            );
          },
        ),
        line,
      );
      break;
  }
  void env.execute(`Event-time windows: ${spec.window.kind} ${spec.fn}`);
}
