// A fast unbounded source, rebalanced into a map that spends <us> microseconds of CPU per record
// (user code of a millisecond, say), checkpointed every <intervalMs>: the checkpoints' barriers
// queue behind whatever is in flight to the slow map.
//   args: <us> <checkpointIntervalMs>
import { DataGeneratorSource, WatermarkStrategy, type StreamExecutionEnvironment } from 'weir';

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const us = Number(args[0] ?? '500');
  env.enableCheckpointing(Number(args[1] ?? '500'));
  const source = new DataGeneratorSource((i: number) => ({ key: i % 1000, i }), Infinity);
  env
    .fromSource(source, WatermarkStrategy.noWatermarks(), 'Firehose')
    .rebalance()
    .map((r: { key: number; i: number }) => {
      const until = performance.now() + us / 1000;
      while (performance.now() < until);
      return r.i;
    })
    .name('Slow map')
    .addSink(() => undefined)
    .name('Discard');
  await env.execute('Slow map');
}
