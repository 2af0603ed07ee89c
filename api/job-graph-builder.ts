// Flink's StreamingJobGraphGenerator: chains operators into JobVertices and numbers the network
// edges between them. See `isChainable` for the rules.
import {
  validateJobGraph,
  type JobEdge,
  type JobGraph,
  type JobVertex,
  type OperatorDescriptor,
  type OperatorOutput,
} from '../common/jobgraph.js';
import type { StreamExecutionEnvironment } from './environment.js';
import { splitWindowAggregations } from './local-window-aggregation.js';
import { buildStreamGraph, type StreamEdge, type StreamNode } from './stream-graph.js';
import { planOf } from './transformation.js';

export interface BuiltJob {
  jobGraph: JobGraph;
  /** Operator id, keyRef and 'wm-<operatorId>' to the user's objects; never serialized. */
  userCode: Map<string, unknown>;
}

/**
 * Flink's rules: a forward edge between equal parallelism, the target's only input, neither side
 * with chaining disabled, and the target not starting a new chain. As in Flink, the vertex takes
 * its head's maxParallelism; that only matters for keyed operators, which forward edges never feed.
 * Beyond Flink: a hash edge may chain too when both sides run with parallelism 1 and the same
 * maxParallelism (so the key groups agree), since every key then goes to subtask 0 anyway; this
 * saves a network hop for single-slot keyed pipelines. Chained keyed operators find their key
 * through config.keyRef. A global edge (windowAll) between parallelism 1 on both sides chains for
 * the same reason. Two-input operators never chain to their inputs (only to their successors).
 */
export function isChainable(edge: StreamEdge): boolean {
  const { source, target } = edge;
  // A two-input operator always heads its chain; the task feeds it from both inputs' gates.
  if (target.inEdges.length !== 1 || target.numInputs === 2) return false;
  if (source.t.chaining === 'NEVER' || target.t.chaining !== 'ALWAYS') return false;
  if (source.parallelism !== target.parallelism) return false;
  if (edge.partitioner === 'forward') return true;
  return (
    (edge.partitioner === 'hash' || edge.partitioner === 'global') &&
    source.parallelism === 1 &&
    source.maxParallelism === target.maxParallelism
  );
}

function byCreation(a: StreamEdge, b: StreamEdge): number {
  return a.target.t.index - b.target.t.index;
}

export function buildJobGraph(env: StreamExecutionEnvironment, fallbackName: string): BuiltJob {
  const plan = planOf(env);
  const sg = buildStreamGraph(plan);
  splitWindowAggregations(sg, plan, isChainable);

  // Heads are the nodes that do not chain to their input. Creation order is topological for the
  // vertices too: a vertex's head is created before everything chained to it.
  const heads = sg.nodes.filter((n) => n.inEdges.length !== 1 || !isChainable(n.inEdges[0]!));

  const chains: StreamNode[][] = heads.map((head) => {
    const members: StreamNode[] = [];
    const visit = (n: StreamNode): void => {
      members.push(n);
      for (const e of [...n.outEdges].sort(byCreation)) if (isChainable(e)) visit(e.target);
    };
    visit(head);
    return members;
  });

  const vertexOf = new Map<StreamNode, JobVertex>();
  const vertices: JobVertex[] = chains.map((members) => {
    const head = members[0]!;
    const v: JobVertex = {
      id: head.id,
      name: members.map((m) => m.name).join(' -> '),
      parallelism: head.parallelism,
      maxParallelism: head.maxParallelism,
      operators: [],
      numInputs: head.numInputs,
    };
    for (const m of members) vertexOf.set(m, v);
    return v;
  });

  const edges: JobEdge[] = [];
  chains.forEach((members, vi) => {
    const vertex = vertices[vi]!;
    for (const m of members) {
      const outputs: OperatorOutput[] = [];
      for (const e of [...m.outEdges].sort(byCreation)) {
        if (isChainable(e)) {
          outputs.push(
            e.tag === undefined
              ? { type: 'chained', operator: members.indexOf(e.target) }
              : { type: 'chained', operator: members.indexOf(e.target), tag: e.tag },
          );
        } else {
          const edge: JobEdge = {
            index: edges.length,
            source: vertex.id,
            target: vertexOf.get(e.target)!.id,
            partitioner: e.partitioner,
            targetInput: e.targetInput,
          };
          if (e.keyRef !== undefined) edge.keyRef = e.keyRef;
          edges.push(edge);
          outputs.push(
            e.tag === undefined
              ? { type: 'network', edge: edge.index }
              : { type: 'network', edge: edge.index, tag: e.tag },
          );
        }
      }
      const op: OperatorDescriptor = { id: m.id, name: m.name, ...m.operator, stateful: m.t.stateful, outputs };
      if (m.t.uid !== undefined) op.uid = m.t.uid;
      vertex.operators.push(op);
    }
  });

  const jobGraph: JobGraph = {
    name: plan.jobName ?? fallbackName,
    vertices,
    edges,
    maxParallelism: plan.maxParallelism,
    warnings: sg.warnings,
    config: {
      autoWatermarkInterval: plan.autoWatermarkInterval,
      ...(plan.checkpointing && (plan.checkpointing.interval ?? -1) > 0
        ? { checkpointing: { ...plan.checkpointing } }
        : {}),
      ...(plan.restartStrategy ? { restartStrategy: { ...plan.restartStrategy } } : {}),
      ...(plan.bufferTimeout !== undefined ? { bufferTimeout: plan.bufferTimeout } : {}),
    },
  };
  const errors = validateJobGraph(jobGraph);
  if (errors.length > 0) throw new Error(`invalid job graph: ${errors.join('; ')}`);
  return { jobGraph, userCode: sg.userCode };
}
