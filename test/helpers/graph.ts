// Building job graphs from a main() in unit tests, as the planner does.
import type { StreamExecutionEnvironment } from 'weir';
import { buildJobGraph, createEnvironment } from '../../api/internal.js';
import type { JobGraph, JobVertex, OperatorDescriptor, OperatorKind } from '../../common/jobgraph.js';

export type Main = (env: StreamExecutionEnvironment) => void;

export function buildGraph(main: Main, defaultParallelism: number, fallbackName = 'job') {
  const env = createEnvironment({ defaultParallelism });
  main(env);
  return buildJobGraph(env, fallbackName);
}

/** The first operator of `kind`, with its vertex and index in the chain; its config typed for that kind. */
export function opOfKind<K extends OperatorKind>(
  g: JobGraph,
  kind: K,
): { vertex: JobVertex; op: Extract<OperatorDescriptor, { kind: K }>; index: number } {
  const isKind = (o: OperatorDescriptor): o is Extract<OperatorDescriptor, { kind: K }> => o.kind === kind;
  for (const vertex of g.vertices) {
    const index = vertex.operators.findIndex(isKind);
    const op = vertex.operators[index];
    if (op && isKind(op)) return { vertex, op, index };
  }
  throw new Error(`no ${kind} operator`);
}
