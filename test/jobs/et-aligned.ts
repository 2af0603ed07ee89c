// Watermark alignment across the two subtasks of one source: subtask 0 (even indexes) advances
// its event time 10 ms per record, subtask 1 (odd indexes) 1 ms, at the same record rate, so
// without alignment subtask 0 runs ten times ahead in event time. A probe right after the source
// writes "probe,<subtask>,<timestamp>,<wall clock ms>" for every 10th record; keyed one-second
// tumbling windows count the records ("count,<key>,<window start>,<n>") for the reference.
//   args: <outDir> <count> <ratePerSecond> <aligned: true|false> [<maxDriftMs> <updateIntervalMs>]
import {
  DataGeneratorSource,
  FileSink,
  ProcessFunction,
  RateLimiterStrategy,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type ProcessContext,
  type ProcessWindowContext,
  type StreamExecutionEnvironment,
  type TimeWindow,
} from 'weir';
import { keyOf } from './keyed-count.js';

export const KEYS = 7;
export const WINDOW_MS = 1000;

export interface AlignedEvent {
  key: number;
  ts: number;
}

/** Event i: subtask 0 of 2 generates the even indexes 10 ms apart, subtask 1 the odd ones 1 ms apart. */
export function alignedEvent(i: number): AlignedEvent {
  const n = Math.floor(i / 2);
  return { key: keyOf(i, KEYS), ts: i % 2 === 0 ? n * 10 : n };
}

class Probe extends ProcessFunction<AlignedEvent, string> {
  private seen = 0;

  processElement(e: AlignedEvent, _ctx: ProcessContext, out: Collector<string>): void {
    if (this.seen++ % 10 === 0)
      out.collect(`probe,${this.getRuntimeContext().getIndexOfThisSubtask()},${e.ts},${Date.now()}`);
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, count, rate, aligned, maxDrift = '1000', updateInterval = '100'] = args;
  env.getConfig().setAutoWatermarkInterval(50);
  let strategy = WatermarkStrategy.forMonotonousTimestamps<AlignedEvent>().withTimestampAssigner((e) => e.ts);
  if (aligned === 'true')
    strategy = strategy.withWatermarkAlignment('events', Number(maxDrift), Number(updateInterval));
  const events = env.fromSource(
    new DataGeneratorSource(alignedEvent, Number(count), RateLimiterStrategy.perSecond(Number(rate))),
    strategy,
    'Events',
  );
  events
    .process(new Probe())
    .name('Probe')
    .sinkTo(FileSink.forRowFormat<string>(`${outDir}/probes`).build());
  events
    .keyBy((e) => e.key)
    .window(TumblingEventTimeWindows.of(WINDOW_MS))
    .process(
      (
        key: number,
        ctx: ProcessWindowContext<TimeWindow>,
        elements: Iterable<AlignedEvent>,
        out: Collector<string>,
      ) => {
        let n = 0;
        for (const _ of elements) n++;
        out.collect(`count,${key},${ctx.window.start},${n}`);
      },
    )
    .sinkTo(FileSink.forRowFormat<string>(`${outDir}/counts`).build());
}
