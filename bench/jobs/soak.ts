// Benchmark job: the endless keyed count of issue 16 for the soak benchmark.
//   args: <outDir> <ratePerSecond> <keys> <checkpointIntervalMs>
// DataGeneratorSource (endless, RateLimiterStrategy.perSecond) → keyBy(key) → running count in
// ValueState (RichMapFunction) → exactly-once FileSink, checkpointing every <interval> ms.
import {
  DataGeneratorSource,
  FileSink,
  RateLimiterStrategy,
  RestartStrategies,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';
import { CountPerKey } from '../lib/count-per-key.js';
import { eventAt, type CountEvent } from '../lib/keyed-records.js';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, rateArg, keysArg, intervalArg] = args;
  const [rate, keys, interval] = [rateArg, keysArg, intervalArg].map(Number);
  if (!outDir || !(rate! > 0 && keys! > 0 && interval! > 0))
    throw new Error('usage: soak <outDir> <ratePerSecond> <keys> <checkpointIntervalMs>');
  env.enableCheckpointing(interval!);
  // A failure fails the job: a soak run that restarts would measure restarts, not steady operation.
  env.setRestartStrategy(RestartStrategies.noRestart());
  env
    .fromSource(
      new DataGeneratorSource((i: number) => eventAt(i, keys!), Infinity, RateLimiterStrategy.perSecond(rate!)),
      WatermarkStrategy.noWatermarks(),
      'Events',
    )
    .uid('events')
    .keyBy((e: CountEvent) => e.key)
    .map(new CountPerKey())
    .uid('count-per-key')
    .name('Count per key')
    .map((e: CountEvent) => `${e.key},${e.count}`)
    .sinkTo(FileSink.forRowFormat<string>(outDir).build())
    .name('Counts');
  void env.execute(`Bench: soak (${rate} records/s, checkpoints every ${interval} ms)`);
}
