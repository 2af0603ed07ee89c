// Flink's StreamGraph: the plan's operators with ids, resolved parallelism, and edges whose
// partitioners come from the virtual keyBy/rebalance/union nodes between them, and whose side-output
// tags from the virtual getSideOutput nodes.
import type { OperatorKindAndConfig, PartitionerKind } from '../common/jobgraph.js';
import { idFromPosition, idFromUid } from './operator-ids.js';
import { parallelismOf } from './operator-settings.js';
import {
  effectiveParallelism,
  isTwoInputKind,
  type OperatorTransformation,
  type Plan,
  type Transformation,
} from './transformation.js';

export interface StreamNode {
  readonly t: OperatorTransformation;
  readonly id: string;
  /** Display name with Flink's 'Source: ' / 'Sink: ' prefix. */
  readonly name: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /**
   * The kind and the transformation's config plus keyRef for operators on a keyed stream, or
   * keyRef1/keyRef2 for two-input operators on keyed inputs.
   */
  readonly operator: OperatorKindAndConfig;
  readonly keyRef: string | undefined;
  /** 2 for two-input operators: their edges say which input they feed. */
  readonly numInputs: number;
  readonly inEdges: StreamEdge[];
  readonly outEdges: StreamEdge[];
}

export interface StreamEdge {
  readonly source: StreamNode;
  readonly target: StreamNode;
  readonly partitioner: PartitionerKind;
  readonly keyRef: string | undefined;
  /** OutputTag id: the edge carries only that side output of the source. */
  readonly tag: string | undefined;
  /** The target's logical input: 0, or 1 for the second input of a two-input operator. */
  readonly targetInput: number;
}

export interface StreamGraph {
  /** In creation order, which is topological: inputs are always created first. */
  readonly nodes: StreamNode[];
  readonly userCode: Map<string, unknown>;
  readonly warnings: string[];
}

interface ResolvedInput {
  node: StreamNode;
  partitioner: PartitionerKind | undefined;
  keyRef: string | undefined;
  tag: string | undefined;
}

function kindLabel(t: Transformation): string {
  if (t.type === 'operator') return t.kind;
  if (t.type === 'partition') return `partition:${t.partitioner}`;
  if (t.type === 'sideOutput') return `sideOutput:${t.tag}`;
  return 'union';
}

function displayName(t: OperatorTransformation): string {
  if (t.kind === 'source') return `Source: ${t.name}`;
  if (t.kind === 'sink') return `Sink: ${t.name}`;
  return t.name;
}

function assignIds(plan: Plan): Map<Transformation, string> {
  const ids = new Map<Transformation, string>();
  const uids = new Map<string, string>();
  for (const t of plan.transformations) {
    if (t.type === 'operator' && t.uid !== undefined) {
      const other = uids.get(t.uid);
      if (other !== undefined)
        throw new Error(
          `duplicate uid '${t.uid}' on operators '${other}' and '${displayName(t)}'; uids must be unique within a job`,
        );
      uids.set(t.uid, displayName(t));
      ids.set(t, idFromUid(t.uid));
    } else {
      ids.set(
        t,
        idFromPosition(
          t.index,
          kindLabel(t),
          t.inputs.map((i) => ids.get(i)!),
        ),
      );
    }
  }
  return ids;
}

export function keyRefOf(partitionId: string): string {
  return `key-${partitionId}`;
}

export function buildStreamGraph(plan: Plan): StreamGraph {
  const p = effectiveParallelism(plan);
  if (!Number.isInteger(p) || p < 1)
    throw new Error(`default parallelism must be a positive integer, got ${String(p)}`);
  const ids = assignIds(plan);
  const userCode = new Map<string, unknown>();
  const warnings: string[] = [];
  const nodes: StreamNode[] = [];
  const nodeOf = new Map<Transformation, StreamNode>();

  for (const t of plan.transformations) {
    if (t.type === 'partition' && t.keySelector) userCode.set(keyRefOf(ids.get(t)!), t.keySelector);
  }

  // Walks through virtual nodes to the operators feeding `t`; the keyBy/rebalance closest to the
  // consumer wins, as in Flink.
  const resolve = (
    t: Transformation,
    partitioner: PartitionerKind | undefined,
    keyRef: string | undefined,
    out: ResolvedInput[],
  ): void => {
    if (t.type === 'operator') {
      out.push({ node: nodeOf.get(t)!, partitioner, keyRef, tag: undefined });
    } else if (t.type === 'sideOutput') {
      out.push({ node: nodeOf.get(t.inputs[0]!)!, partitioner, keyRef, tag: t.tag });
    } else if (t.type === 'partition') {
      const here = partitioner === undefined;
      resolve(
        t.inputs[0]!,
        here ? t.partitioner : partitioner,
        here && t.partitioner === 'hash' ? keyRefOf(ids.get(t)!) : keyRef,
        out,
      );
    } else {
      for (const i of t.inputs) resolve(i, partitioner, keyRef, out);
    }
  };

  for (const t of plan.transformations) {
    if (t.type !== 'operator') continue;
    const name = displayName(t);
    const parallelism = parallelismOf(plan, t);
    const maxParallelism = t.maxParallelism ?? plan.maxParallelism;
    if (maxParallelism < parallelism) {
      throw new Error(
        `operator '${name}': maxParallelism (${maxParallelism}) must not be smaller than its parallelism (${parallelism}); raise it with setMaxParallelism()`,
      );
    }
    const twoInput = isTwoInputKind(t.kind);
    const keyRef = t.keyedBy ? keyRefOf(ids.get(t.keyedBy)!) : undefined;
    const keyRefs: { keyRef?: string; keyRef1?: string; keyRef2?: string } = {};
    if (twoInput) {
      if (keyRef) keyRefs.keyRef1 = keyRef;
      if (t.keyedBy2) keyRefs.keyRef2 = keyRefOf(ids.get(t.keyedBy2)!);
    } else if (keyRef) {
      keyRefs.keyRef = keyRef;
    }
    // The one cast between a builder's config and the descriptor: addOperator's OperatorSpec union
    // paired kind and config, and the key refs added here are the fields a builder leaves out
    // (TypeScript cannot follow the pairing through t.kind and t.config read apart).
    const operator = { kind: t.kind, config: { ...t.config, ...keyRefs } } as OperatorKindAndConfig;
    const node: StreamNode = {
      t,
      id: ids.get(t)!,
      name,
      parallelism,
      maxParallelism,
      operator,
      keyRef,
      numInputs: twoInput ? 2 : t.kind === 'source' ? 0 : 1,
      inEdges: [],
      outEdges: [],
    };
    nodes.push(node);
    nodeOf.set(t, node);

    // A one-input operator's inputs (several after union) all feed input 0; a two-input
    // operator's first transformation feeds input 0 and its second input 1.
    const inputs: (ResolvedInput & { targetInput: number })[] = [];
    t.inputs.forEach((i, n) => {
      const resolved: ResolvedInput[] = [];
      resolve(i, undefined, undefined, resolved);
      for (const r of resolved) inputs.push({ ...r, targetInput: twoInput ? n : 0 });
    });
    for (const input of inputs) {
      const source = input.node;
      if (input.partitioner === 'forward' && source.parallelism !== parallelism) {
        throw new Error(
          `forward() from '${source.name}' (parallelism ${source.parallelism}) to '${name}' (parallelism ${parallelism}) needs equal parallelism; use rebalance() or rescale()`,
        );
      }
      // Flink's default: forward when the parallelisms match, else round-robin.
      const partitioner = input.partitioner ?? (source.parallelism === parallelism ? 'forward' : 'rebalance');
      const edge: StreamEdge = {
        source,
        target: node,
        partitioner,
        keyRef: partitioner === 'hash' ? input.keyRef : undefined,
        tag: input.tag,
        targetInput: input.targetInput,
      };
      source.outEdges.push(edge);
      node.inEdges.push(edge);
    }

    if (t.userFunction !== undefined) userCode.set(node.id, t.userFunction);
    for (const [suffix, value] of t.extraUserCode) userCode.set(`${suffix}-${node.id}`, value);
    if (t.mayHoldState && t.uid === undefined) {
      warnings.push(`operator '${name}' is stateful but has no uid(); savepoint-based upgrades need one`);
    }
  }

  if (nodes.length === 0) throw new Error('the job defines no operators; main(env, args) must build a pipeline on env');
  if (!nodes.some((n) => n.t.kind === 'sink'))
    throw new Error('the job has no sink; add one with print(), sinkTo() or addSink()');
  return { nodes, userCode, warnings };
}
