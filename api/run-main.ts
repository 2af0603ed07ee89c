// Runs a job module's main(env, args), in the planner child and again in every TaskManager.
import { runWithContextEnvironment, type StreamExecutionEnvironment } from './environment.js';

export type JobMain = (env: StreamExecutionEnvironment, args: string[]) => unknown;

export async function runMain(module: unknown, env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const main =
    module !== null && (typeof module === 'object' || typeof module === 'function')
      ? (module as { default?: unknown }).default
      : undefined;
  if (typeof main !== 'function') throw new Error('bundle entry has no default export main(env, args)');
  // getExecutionEnvironment() inside main (Flink's habit) returns the engine's environment.
  await runWithContextEnvironment(env, () => (main as JobMain)(env, [...args]));
}
