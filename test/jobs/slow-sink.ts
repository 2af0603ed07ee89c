// A fast unbounded source into a sink that sleeps: backpressure must hold the source back.
import { DataGeneratorSource, WatermarkStrategy, type StreamExecutionEnvironment } from 'weir';

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const sleepMs = Number(args[0] ?? '5');
  const source = new DataGeneratorSource((i: number) => ({ key: i % 1000, payload: 'x'.repeat(100), i }), Infinity);
  env
    .fromSource(source, WatermarkStrategy.noWatermarks(), 'Firehose')
    .rebalance()
    .addSink(async () => {
      await new Promise((r) => setTimeout(r, sleepMs));
    })
    .name('Sleepy sink');
  await env.execute('Backpressure');
}
