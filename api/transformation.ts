// The logical graph a job's main builds, as Flink's Transformations: operators, plus the virtual
// 'partition' (keyBy, rebalance, ...), 'union' and 'sideOutput' nodes that only shape the edges
// between them.
import type { CheckpointingSettings, RestartStrategySettings } from '../common/checkpoint.js';
import type { OperatorConfigs, OperatorKind, PartitionerKind } from '../common/jobgraph.js';

/** Flink's ChainingStrategy: ALWAYS chains both ways, HEAD starts a new chain, NEVER chains at all. */
export type ChainingStrategy = 'ALWAYS' | 'HEAD' | 'NEVER';

interface TransformationBase {
  /** Creation order within the environment; part of the positional operator id. */
  readonly index: number;
  readonly inputs: readonly Transformation[];
}

/** The key selector refs the graph adds to a config; an operator's builder writes the rest. */
type KeyRefField = 'keyRef' | 'keyRef1' | 'keyRef2';
type WithoutKeyRefs<C> = C extends unknown ? Omit<C, KeyRefField> : never;

/** An operator kind with the JSON-only config its builder writes ('keyRef' is added when the graph is built). */
export type BuilderOperator = {
  [K in OperatorKind]: { readonly kind: K; readonly config: WithoutKeyRefs<OperatorConfigs[K]> };
}[OperatorKind];

interface OperatorTransformationFields extends TransformationBase {
  readonly type: 'operator';
  /** Name without the 'Source: '/'Sink: ' prefix the graph adds. */
  name: string;
  parallelism: number | undefined;
  maxParallelism: number | undefined;
  uid: string | undefined;
  chaining: ChainingStrategy;
  /** What TaskManagers look up by operator id (function, function object or source/sink descriptor). */
  readonly userFunction: unknown;
  /** Extra user-code entries, keyed by a suffix: e.g. 'wm' is stored as 'wm-<operatorId>'. */
  readonly extraUserCode: ReadonlyMap<string, unknown>;
  /** fromElements and windowAll: parallelism is always 1. */
  readonly nonParallel: boolean;
  /** Without an explicit parallelism, run with the input's (assignTimestampsAndWatermarks, as Flink). */
  readonly inheritsParallelism: boolean;
  /** Keyed state or timers live in this operator (Flink's keyed reduce/process). */
  readonly stateful: boolean;
  /** The keyBy this operator consumes; gives it a key selector for keyed state (of input 1 for two-input operators). */
  readonly keyedBy: PartitionTransformation | undefined;
  /** Two-input operators: the keyBy of input 2; keyed ones have both. */
  readonly keyedBy2: PartitionTransformation | undefined;
  /** Whether losing its state on an upgrade matters; drives the missing-uid warning. */
  readonly mayHoldState: boolean;
}

/** An operator of the plan: a union on `kind`, each with its config. */
export type OperatorTransformation = OperatorTransformationFields & BuilderOperator;

export interface PartitionTransformation extends TransformationBase {
  readonly type: 'partition';
  readonly partitioner: PartitionerKind;
  /** Only for 'hash'. */
  readonly keySelector: ((value: unknown) => unknown) | undefined;
}

export interface UnionTransformation extends TransformationBase {
  readonly type: 'union';
}

/** getSideOutput(tag): the records its one input operator emits for the OutputTag `tag`. */
export interface SideOutputTransformation extends TransformationBase {
  readonly type: 'sideOutput';
  readonly tag: string;
}

export type Transformation =
  OperatorTransformation | PartitionTransformation | UnionTransformation | SideOutputTransformation;

/** What a StreamExecutionEnvironment has recorded; shared by the environment, streams and graph builder. */
export interface Plan {
  readonly transformations: Transformation[];
  readonly defaultParallelism: number;
  /** Set by env.setParallelism(); wins over defaultParallelism. */
  parallelism: number | undefined;
  maxParallelism: number;
  bufferTimeout: number | undefined;
  autoWatermarkInterval: number;
  /** Window aggregations split into a local and a global phase around their exchange (local-window-aggregation.ts). */
  localWindowAggregation: boolean;
  /** Set by enableCheckpointing() / getCheckpointConfig(). */
  checkpointing: Partial<CheckpointingSettings> | undefined;
  restartStrategy: RestartStrategySettings | undefined;
  jobName: string | undefined;
  readonly programArgs: readonly string[];
}

const plans = new WeakMap<object, Plan>();

export function registerPlan(env: object, plan: Plan): void {
  plans.set(env, plan);
}

export function planOf(env: object): Plan {
  const plan = plans.get(env);
  if (!plan) throw new Error('not a StreamExecutionEnvironment created by the engine');
  return plan;
}

export function effectiveParallelism(plan: Plan): number {
  return plan.parallelism ?? plan.defaultParallelism;
}

/** What an operator's builder gives addOperator: its kind and that kind's config, name, user code and settings. */
export type OperatorSpec = BuilderOperator &
  Pick<OperatorTransformationFields, 'name' | 'userFunction'> &
  Partial<
    Pick<
      OperatorTransformationFields,
      | 'nonParallel'
      | 'inheritsParallelism'
      | 'stateful'
      | 'keyedBy'
      | 'keyedBy2'
      | 'mayHoldState'
      | 'extraUserCode'
      | 'parallelism'
    >
  >;

const TWO_INPUT_KINDS: ReadonlySet<OperatorKind> = new Set<OperatorKind>([
  'coMap',
  'coFlatMap',
  'coProcess',
  'broadcastProcess',
  'intervalJoin',
]);

/** Operators with two logical inputs: `inputs[0]` feeds input 1, `inputs[1]` input 2. */
export function isTwoInputKind(kind: OperatorKind): boolean {
  return TWO_INPUT_KINDS.has(kind);
}

export function addOperator(plan: Plan, inputs: readonly Transformation[], spec: OperatorSpec): OperatorTransformation {
  if (isTwoInputKind(spec.kind) !== (inputs.length === 2))
    throw new Error(`operator kind '${spec.kind}' with ${inputs.length} input(s)`);
  const t: OperatorTransformation = {
    // Spread first: it carries kind and config as the pair the union checked.
    ...spec,
    type: 'operator',
    index: plan.transformations.length,
    inputs,
    name: spec.name,
    parallelism: spec.parallelism,
    maxParallelism: undefined,
    uid: undefined,
    chaining: 'ALWAYS',
    userFunction: spec.userFunction,
    extraUserCode: spec.extraUserCode ?? new Map(),
    nonParallel: spec.nonParallel ?? false,
    inheritsParallelism: spec.inheritsParallelism ?? false,
    stateful: spec.stateful ?? false,
    keyedBy: spec.keyedBy,
    keyedBy2: spec.keyedBy2,
    mayHoldState: spec.mayHoldState ?? spec.stateful ?? false,
  };
  plan.transformations.push(t);
  return t;
}

export function addPartition(
  plan: Plan,
  input: Transformation,
  partitioner: PartitionerKind,
  keySelector?: (value: unknown) => unknown,
): PartitionTransformation {
  const t: PartitionTransformation = {
    type: 'partition',
    index: plan.transformations.length,
    inputs: [input],
    partitioner,
    keySelector,
  };
  plan.transformations.push(t);
  return t;
}

export function addUnion(plan: Plan, inputs: readonly Transformation[]): UnionTransformation {
  const t: UnionTransformation = { type: 'union', index: plan.transformations.length, inputs };
  plan.transformations.push(t);
  return t;
}

export function addSideOutput(plan: Plan, input: OperatorTransformation, tag: string): SideOutputTransformation {
  const t: SideOutputTransformation = { type: 'sideOutput', index: plan.transformations.length, inputs: [input], tag };
  plan.transformations.push(t);
  return t;
}
