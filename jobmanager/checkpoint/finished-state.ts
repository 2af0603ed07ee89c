// Finished operators in a snapshot (checkpoints after tasks finished, Flink's FLIP-147): which
// tasks a restore deploys as finished, and whether a new job graph can start from a snapshot with
// finished operators at all (Flink's VertexFinishedStateChecker).
import type { CheckpointMetadata } from '../../common/checkpoint.js';
import type { JobGraph, JobVertex } from '../../common/jobgraph.js';

/**
 * A task restores as finished when every operator of its chain had fully finished (as in Flink):
 * it ends its outputs at once and never reads its input again, at any parallelism. Subtasks of
 * partially finished operators run again from the state they finished with.
 */
export function restoresAsFinished(vertex: JobVertex, metadata: CheckpointMetadata): boolean {
  return vertex.operators.every((op) => metadata.operators.find((m) => m.operatorId === op.id)?.fullyFinished === true);
}

/**
 * Refuses a new graph that cannot start from `metadata`'s finished operators: a task whose chain
 * mixes fully finished operators with others, or a finished task fed by one that would run.
 * Returns the message, or undefined when the graph fits.
 */
export function finishedStateProblem(metadata: CheckpointMetadata, graph: JobGraph): string | undefined {
  const byId = new Map(metadata.operators.map((m) => [m.operatorId, m]));
  const fully = (v: JobVertex) => v.operators.every((op) => byId.get(op.id)?.fullyFinished === true);
  for (const v of graph.vertices) {
    const finishedOps = v.operators.filter((op) => byId.get(op.id)?.fullyFinished === true);
    if (finishedOps.length > 0 && finishedOps.length < v.operators.length) {
      const running = v.operators.find((op) => byId.get(op.id)?.fullyFinished !== true)!;
      return `task '${v.name}' chains operator '${finishedOps[0]!.name}', which had finished, with operator '${running.name}', which had not: a task's operators must all have finished or none`;
    }
    if (fully(v)) {
      const upstream = graph.edges
        .filter((e) => e.target === v.id)
        .map((e) => graph.vertices.find((x) => x.id === e.source)!);
      const live = upstream.find((u) => !fully(u));
      if (live)
        return `task '${v.name}' had finished, but it reads from '${live.name}', which had not: a finished task cannot take input again`;
    }
  }
  return undefined;
}
