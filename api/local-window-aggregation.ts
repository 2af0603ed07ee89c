// Splits a window aggregation around its keyBy exchange, as Flink's SQL planner does for window
// aggregates (TWO_PHASE: LocalWindowAggregate, exchange, GlobalWindowAggregate): a local phase
// chained to the upstream operator folds its elements into partial accumulators per key and slice
// (taskmanager/operators/local-window-aggregate.ts), and the window operator merges those. Only
// where the result cannot differ from one phase:
// - event-time tumbling or sliding windows with the EventTimeTrigger and no evictor (sliced);
// - a reduce function, or an aggregate function with merge();
// - no allowed lateness and no late-data side output (late elements fire and travel one by one);
// - one input whose exchange is real: keyBy's hash edge, or windowAll's global edge to its one
//   subtask, that does not chain (see isChainable).
import type { LocalWindowAggregateConfig, WindowConfig } from '../common/jobgraph.js';
import type { LocalWindowAggregateCode } from '../taskmanager/operators/local-window-aggregate.js';
import { sliceGeometryOf } from '../taskmanager/operators/window-slicing.js';
import { idOfLocalPhase } from './operator-ids.js';
import type { StreamEdge, StreamGraph, StreamNode } from './stream-graph.js';
import type { OperatorTransformation, Plan } from './transformation.js';
import type { WindowOperatorSpec } from './windowing/types.js';
import { missingAggregateMerge } from './windowing/window-operator-spec.js';

/** The key selector of the exchange after a local phase: a partial is [key, accumulator]. */
export const PARTIAL_KEY_REF = 'key-window-partial';

function partialKey(partial: unknown): unknown {
  return (partial as [unknown, unknown])[0];
}

/** The window node's spec and key selector when its aggregation may be split, else undefined. */
function splittable(node: StreamNode, userCode: Map<string, unknown>): LocalWindowAggregateCode | undefined {
  if (node.operator.kind !== 'window' || node.keyRef === undefined) return undefined;
  const spec = userCode.get(node.id) as WindowOperatorSpec | undefined;
  const key = userCode.get(node.keyRef);
  if (spec === undefined || typeof key !== 'function' || sliceGeometryOf(spec) === undefined) return undefined;
  const mergeable =
    spec.reduceFunction !== undefined ||
    (spec.aggregateFunction !== undefined && spec.aggregateFunction.merge !== missingAggregateMerge);
  const config = node.operator.config;
  if (!mergeable || (spec.allowedLateness ?? config.allowedLateness) !== 0) return undefined;
  if (spec.lateDataTag !== undefined || config.lateDataTag !== undefined) return undefined;
  return { spec, key: key as (value: unknown) => unknown };
}

/** The local phase's node, chained to `input`'s source in place of the window node. */
function localNode(window: StreamNode, input: StreamEdge, code: LocalWindowAggregateCode): StreamNode {
  const config: LocalWindowAggregateConfig = { windowOperator: window.id };
  const t: OperatorTransformation = {
    type: 'operator',
    kind: 'localWindowAggregate',
    config,
    // The window's place among its input's outputs, so chains keep their order.
    index: window.t.index,
    inputs: window.t.inputs,
    name: `Local ${window.t.name}`,
    parallelism: input.source.parallelism,
    maxParallelism: undefined,
    uid: undefined,
    chaining: 'ALWAYS',
    userFunction: code,
    extraUserCode: new Map(),
    nonParallel: false,
    inheritsParallelism: true,
    stateful: false,
    keyedBy: undefined,
    keyedBy2: undefined,
    mayHoldState: false,
  };
  return {
    t,
    id: idOfLocalPhase(window.id),
    name: t.name,
    parallelism: input.source.parallelism,
    maxParallelism: input.source.maxParallelism,
    operator: { kind: 'localWindowAggregate', config },
    keyRef: undefined,
    numInputs: 1,
    inEdges: [],
    outEdges: [],
  };
}

function replaceEdge(edges: StreamEdge[], from: StreamEdge, to: StreamEdge): void {
  edges.splice(edges.indexOf(from), 1, to);
}

/** Puts a local phase before every window aggregation that may be split (see the top of this file). */
export function splitWindowAggregations(sg: StreamGraph, plan: Plan, isChainable: (edge: StreamEdge) => boolean): void {
  if (!plan.localWindowAggregation) return;
  for (const window of [...sg.nodes]) {
    if (window.inEdges.length !== 1) continue;
    const input = window.inEdges[0]!;
    const partitioner = input.partitioner;
    if (partitioner !== 'hash' && partitioner !== 'global') continue;
    if (isChainable(input) || input.source.t.chaining === 'NEVER') continue;
    const code = splittable(window, sg.userCode);
    if (code === undefined) continue;
    const local = localNode(window, input, code);
    const toLocal: StreamEdge = { ...input, target: local, partitioner: 'forward', keyRef: undefined };
    const exchange: StreamEdge = {
      source: local,
      target: window,
      partitioner,
      // windowAll's partials all go to its one subtask, as its elements did.
      keyRef: partitioner === 'hash' ? PARTIAL_KEY_REF : undefined,
      tag: undefined,
      targetInput: 0,
    };
    replaceEdge(input.source.outEdges, input, toLocal);
    local.inEdges.push(toLocal);
    local.outEdges.push(exchange);
    window.inEdges[0] = exchange;
    (window.operator.config as WindowConfig).preAggregated = true;
    // Creation order stays topological: the local phase right before its window.
    sg.nodes.splice(sg.nodes.indexOf(window), 0, local);
    sg.userCode.set(local.id, code);
    if (partitioner === 'hash') sg.userCode.set(PARTIAL_KEY_REF, partialKey);
  }
}
