// Keyed running sums into a sink that drops them: a job with keyed state and no output files, for
// the bounded-stores test. args: <count|inf> <checkpointIntervalMs|0>
import { DataGeneratorSource, RateLimiterStrategy, WatermarkStrategy, type StreamExecutionEnvironment } from 'weir';

interface Ev {
  key: number;
  value: number;
}

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const [count = '1000', interval = '0'] = args;
  if (Number(interval) > 0) env.enableCheckpointing(Number(interval));
  const endless = count === 'inf';
  const source = new DataGeneratorSource(
    (i: number): Ev => ({ key: i % 50, value: i }),
    endless ? Infinity : Number(count),
    endless ? RateLimiterStrategy.perSecond(2000) : RateLimiterStrategy.noOp(),
  );
  env
    .fromSource(source, WatermarkStrategy.noWatermarks(), 'Events')
    .uid('events')
    .keyBy((e: Ev) => e.key)
    .reduce((a: Ev, b: Ev) => ({ key: a.key, value: a.value + b.value }))
    .uid('sums')
    .addSink(() => undefined)
    .name('Discard');
  await env.execute('Bounded stores');
}
