// Keyed event-time windows over randomized, out-of-order input, for comparison with
// test/reference/windows.ts.
//   args: <outDir> <WindowJobSpec as JSON>
// Results go to <outDir>/results, late data (sideOutputLateData) to <outDir>/late.
import {
  DataGeneratorSource, EventTimeSessionWindows, FileSink, OutputTag, SlidingEventTimeWindows, TumblingEventTimeWindows, WatermarkStrategy,
  type AggregateFunction, type Collector, type DataStream, type ProcessWindowContext, type StreamExecutionEnvironment, type TimeWindow,
} from 'weir';
import {
  etRecord, lateLine, mergeStats, processLine, statsLine, statsOf, windowStatsLine, type EtRecord, type Stats, type WindowJobSpec,
} from './et-input.js';

export function watermarkStrategy(spec: WindowJobSpec): WatermarkStrategy<EtRecord> {
  const bound = spec.boundMs;
  const base = spec.watermarks === 'perEvent'
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

  const source = env.fromSource(new DataGeneratorSource((i: number) => etRecord(i, input), input.count), watermarkStrategy(spec), 'Input');
  if (spec.sourceParallelism) source.setParallelism(spec.sourceParallelism);

  const usesStats = spec.fn === 'reduce' || spec.fn === 'reduceProcess';
  // The map chains to the source (same parallelism), so the window operator sees the source's
  // exact record and watermark order.
  const stats = () => {
    const s = source.map(statsOf).name('Stats');
    if (spec.sourceParallelism) s.setParallelism(spec.sourceParallelism);
    return s;
  };
  const keyed = usesStats ? stats().keyBy((s: Stats) => s.key) : source.keyBy((r: EtRecord) => r.key);
  let windowed = (keyed as any).window(assigner(spec));
  if (spec.allowedLateness) windowed = windowed.allowedLateness(spec.allowedLateness);
  if (spec.sideOutputLateData) windowed = windowed.sideOutputLateData(lateTag);

  let results: DataStream<unknown>;
  switch (spec.fn) {
    case 'reduce':
      results = windowed.reduce(mergeStats);
      break;
    case 'reduceProcess':
      results = windowed.reduce(mergeStats, (_key: number, ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<Stats>, out: Collector<string>) => {
        for (const s of elements) out.collect(windowStatsLine(ctx.window.start, ctx.window.end, s, wmOf(ctx)));
      });
      break;
    case 'aggregate':
      results = windowed.aggregate(statsAggregate);
      break;
    case 'aggregateProcess':
      results = windowed.aggregate(statsAggregate, (_key: number, ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<Stats>, out: Collector<string>) => {
        for (const s of elements) out.collect(windowStatsLine(ctx.window.start, ctx.window.end, s, wmOf(ctx)));
      });
      break;
    case 'process':
      results = windowed.process((key: number, ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<EtRecord>, out: Collector<string>) => {
        out.collect(processLine(key, ctx.window.start, ctx.window.end, [...elements].map((r) => r.seq), wmOf(ctx)));
      });
      break;
  }
  results.uid('windows').name(`Window ${spec.window.kind} ${spec.fn}`);
  const lines = spec.fn === 'reduce' || spec.fn === 'aggregate' ? results.map((s: unknown) => statsLine(s as Stats)).name('Lines') : (results as DataStream<string>);
  lines.sinkTo(FileSink.forRowFormat<string>(`${outDir}/results`).build());
  if (spec.sideOutputLateData) {
    (results as any).getSideOutput(lateTag).map((r: EtRecord | Stats) => lateLine(r)).name('Late lines').sinkTo(FileSink.forRowFormat<string>(`${outDir}/late`).build());
  }
  void env.execute(`Event-time windows: ${spec.window.kind} ${spec.fn}`);
}
