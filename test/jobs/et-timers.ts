// A KeyedProcessFunction with event-time timers over randomized, out-of-order input, for
// comparison with test/reference/timers.ts: each record registers (and some delete) timers per
// timerPlan; onTimer reports the key, the time, ctx.timestamp() and the watermark.
//   args: <outDir> <WindowJobSpec as JSON> (input, watermarks, boundMs, sourceParallelism are read)
import {
  DataGeneratorSource, FileSink, KeyedProcessFunction,
  type Collector, type KeyedProcessContext, type OnTimerContext, type StreamExecutionEnvironment,
} from 'weir';
import { etRecord, timerLine, timerPlan, type EtRecord, type WindowJobSpec } from './et-input.js';
import { watermarkStrategy } from './et-windows.js';

class TimerRegistrar extends KeyedProcessFunction<number, EtRecord, string> {
  processElement(r: EtRecord, ctx: KeyedProcessContext<number>, _out: Collector<string>): void {
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
  const source = env.fromSource(new DataGeneratorSource((i: number) => etRecord(i, spec.input), spec.input.count), watermarkStrategy(spec), 'Input');
  if (spec.sourceParallelism) source.setParallelism(spec.sourceParallelism);
  source
    .keyBy((r: EtRecord) => r.key)
    .process(new TimerRegistrar())
    .uid('timers')
    .name('Timers')
    .sinkTo(FileSink.forRowFormat<string>(outDir).build());
  void env.execute('Event-time timers');
}
