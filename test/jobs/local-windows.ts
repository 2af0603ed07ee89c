// Event-time tumbling sums per key, printed: what `weir run --local` runs in the test.
//   args: <n> [fail]   (fail: the map throws on the first sum above 50)
import { TumblingEventTimeWindows, WatermarkStrategy, type StreamExecutionEnvironment } from 'weir';

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const n = Number(args[0] ?? 20);
  env
    .fromSequence(1, n)
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((x) => x * 100),
    )
    .keyBy((x) => x % 2)
    .window(TumblingEventTimeWindows.of(500))
    .reduce((a, b) => a + b)
    .map((sum) => {
      if (args[1] === 'fail' && sum > 50) throw new RangeError(`sum ${sum} is too big`);
      return `sum=${sum}`;
    })
    .print();
  await env.execute('Local windows');
}
