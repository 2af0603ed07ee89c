// A KeyedProcessFunction with event-time timers over randomized, out-of-order input, for
// comparison with test/reference/timers.ts: each record registers (and some delete) timers per
// timerPlan; onTimer reports the key, the time, ctx.timestamp() and the watermark. Records at or
// behind the current watermark also go to a side output (ctx.output).
//   args: <outDir> <WindowJobSpec as JSON> (input, watermarks, boundMs, sourceParallelism are read)
// Timer lines go to <outDir>/timers, side-output lines to <outDir>/behind.
import {
  DataGeneratorSource,
  FileSink,
  KeyedProcessFunction,
  OutputTag,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type StreamExecutionEnvironment,
} from 'weir';
import { behindLine, etRecord, timerLine, timerPlan, type EtRecord, type WindowJobSpec } from './et-input.js';
import { watermarkStrategy } from './et-windows.js';

const behind = new OutputTag<string>('behind-watermark');

class TimerRegistrar extends KeyedProcessFunction<number, EtRecord, string> {
  processElement(r: EtRecord, ctx: KeyedProcessContext<number>, _out: Collector<string>): void {
    const wm = ctx.timerService().currentWatermark();
    if (r.ts <= wm) ctx.output(behind, behindLine(r, ctx.timestamp(), wm));
    const plan = timerPlan(r);
    for (const t of plan.register) ctx.timerService().registerEventTimeTimer(t);
    for (const t of plan.delete) ctx.timerService().deleteEventTimeTimer(t);
  }

  override onTimer(time: number, ctx: OnTimerContext<number>, out: Collector<string>): void {
    out.collect(timerLine(ctx.getCurrentKey(), time, ctx.timestamp(), ctx.timerService().currentWatermark()));
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, json] = args;
  if (!outDir || !json) throw new Error('usage: et-timers <outDir> <spec JSON>');
  const spec = JSON.parse(json) as WindowJobSpec;
  const source = env.fromSource(
    new DataGeneratorSource((i: number) => etRecord(i, spec.input), spec.input.count),
    watermarkStrategy(spec),
    'Input',
  );
  if (spec.sourceParallelism) source.setParallelism(spec.sourceParallelism);
  const timers = source
    .keyBy((r: EtRecord) => r.key)
    .process(new TimerRegistrar())
    .uid('timers')
    .name('Timers');
  timers.sinkTo(FileSink.forRowFormat<string>(`${outDir}/timers`).build());
  timers.getSideOutput(behind).sinkTo(FileSink.forRowFormat<string>(`${outDir}/behind`).build());
  void env.execute('Event-time timers');
}
