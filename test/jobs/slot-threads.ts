// A job for the slot-thread boundary: an endless paced source into a map that, at record <at>,
// ends its thread (`exit`: process.exit inside user code), never returns (`hang`: a busy loop),
// leaves a rejected promise nobody handles (`reject`), or does nothing (`none`). No restarts, so a
// failure ends the job. `limits` fails with the slot thread's heap limits in the message.
//   args: <exit|hang|reject|limits|none> <at> [ratePerSecond]
import {
  DataGeneratorSource,
  RateLimiterStrategy,
  RestartStrategies,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';
import { resourceLimits } from 'node:worker_threads';

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const [mode = 'none', at = '1000', rate = '2000'] = args;
  env.setRestartStrategy(RestartStrategies.noRestart());
  const source = new DataGeneratorSource((i: number) => i, Infinity, RateLimiterStrategy.perSecond(Number(rate)));
  env
    .fromSource(source, WatermarkStrategy.noWatermarks(), 'Numbers')
    .map((n: number) => {
      if (n === Number(at)) {
        if (mode === 'exit') process.exit(3);
        if (mode === 'hang') for (;;);
        if (mode === 'reject') void Promise.reject(new Error('a fire-and-forget write failed'));
        if (mode === 'limits')
          throw new Error(`young generation of this thread: ${resourceLimits.maxYoungGenerationSizeMb} MB`);
      }
      return n;
    })
    .name('Trap')
    .addSink(() => {})
    .name('Discard');
  await env.execute(`Slot threads (${mode})`);
}
