// A job whose map throws on one record: the job must fail with the operator and the cause.
import type { StreamExecutionEnvironment } from 'weir';

export default async function main(env: StreamExecutionEnvironment): Promise<void> {
  env
    .fromSequence(1, 100_000)
    .map((n: number) => {
      if (n === 77_777) throw new Error(`bad record ${n}`);
      return n * 2;
    })
    .name('Doubler')
    .rebalance()
    .addSink(() => {});
  await env.execute('Failing job');
}
