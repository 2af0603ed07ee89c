// Module-level state must not outlive a restart attempt: attempt 0 marks the module and fails;
// attempt 1 fails with "module state leaked" if it finds the mark (its code was not loaded anew).
import { RestartStrategies, RichMapFunction, type StreamExecutionEnvironment } from 'weir';

let marked = false;

class Trap extends RichMapFunction<number, number> {
  map(n: number): number {
    const attempt = this.getRuntimeContext().getAttemptNumber();
    if (attempt > 0 && marked) throw new Error('module state leaked from the previous attempt');
    if (attempt === 0 && n === 500) {
      marked = true;
      throw new Error('planned failure of attempt 0');
    }
    return n;
  }
}

export default async function main(env: StreamExecutionEnvironment): Promise<void> {
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(1, 100));
  env
    .fromSequence(1, 2000)
    .map(new Trap())
    .name('Trap')
    .addSink(() => {});
  await env.execute('Module state');
}
