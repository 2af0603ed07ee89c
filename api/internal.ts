// Engine-facing entry points (planner and TaskManagers); jobs use index.ts instead.
import { StreamExecutionEnvironment, type EnvironmentOptions } from './environment.js';
import { planOf } from './transformation.js';

export { buildJobGraph, isChainable, type BuiltJob } from './job-graph-builder.js';
export { runMain, type JobMain } from './run-main.js';
export type { EnvironmentOptions } from './environment.js';

export function createEnvironment(opts: EnvironmentOptions = {}): StreamExecutionEnvironment {
  return new StreamExecutionEnvironment(opts);
}

/** The program arguments the environment was created with. */
export function programArgsOf(env: StreamExecutionEnvironment): readonly string[] {
  return planOf(env).programArgs;
}
