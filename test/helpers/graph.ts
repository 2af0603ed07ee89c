// Building job graphs from a main() in unit tests, as the planner does.
import type { StreamExecutionEnvironment } from 'weir';
import { buildJobGraph, createEnvironment } from '../../api/internal.js';
import type { JobGraph, JobVertex, OperatorDescriptor } from '../../common/jobgraph.js';

export type Main = (env: StreamExecutionEnvironment) => void;

export function buildGraph(main: Main, defaultParallelism: number, fallbackName = 'job') {
  const env = createEnvironment({ defaultParallelism });
  main(env);
  return buildJobGraph(env, fallbackName);
}

/** The first operator of `kind`, with its vertex and index in the chain. */
export function opOfKind(g: JobGraph, kind: string): { vertex: JobVertex; op: OperatorDescriptor; index: number } {
  for (const vertex of g.vertices) {
    const index = vertex.operators.findIndex((o) => o.kind === kind);
    if (index >= 0) return { vertex, op: vertex.operators[index]!, index };
  }
  throw new Error(`no ${kind} operator`);
}
