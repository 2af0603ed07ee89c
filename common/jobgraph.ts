// The JobGraph: the planned, JSON-serializable form of a job. The JobManager gets it from the
// planner child process; TaskManagers re-run the bundle's `main` and look user code up by the
// ids recorded here (operator ids and key-selector refs), never by position.

export type PartitionerKind = 'forward' | 'hash' | 'rebalance' | 'rescale' | 'broadcast' | 'global';

/** Operator kinds the runtime knows how to instantiate, each with the JSON config it carries. */
export interface OperatorConfigs {
  source: SourceConfig;
  map: OneInputConfig;
  filter: OneInputConfig;
  flatMap: OneInputConfig;
  keyedReduce: KeyedReduceConfig;
  keyedProcess: OneInputConfig;
  process: OneInputConfig;
  /** assignTimestampsAndWatermarks(strategy); user code: the WatermarkStrategy. */
  timestampsAndWatermarks: TimestampsAndWatermarksConfig;
  /** User code: a WindowOperatorSpec (api/windowing/types.ts). */
  window: WindowConfig;
  /**
   * The local phase of a window aggregation split in two (api/local-window-aggregation.ts), chained
   * before the keyBy exchange. User code: { spec: the window's WindowOperatorSpec, key: its key selector }.
   */
  localWindowAggregate: LocalWindowAggregateConfig;
  // Two-input operators (JobVertex.numInputs 2; edges say which input with targetInput 0 or 1).
  /** User code: { map1, map2 } (CoMapFunction). */
  coMap: TwoInputConfig;
  /** User code: { flatMap1, flatMap2 } (CoFlatMapFunction). */
  coFlatMap: TwoInputConfig;
  /** User code: CoProcessFunction { processElement1, processElement2, onTimer? }; keyed when keyRef1/keyRef2 are set. */
  coProcess: TwoInputConfig;
  /** Input 2 is the broadcast side; keyed when keyRef1 is set. */
  broadcastProcess: BroadcastProcessConfig;
  /** User code: ProcessJoinFunction. */
  intervalJoin: IntervalJoinConfig;
  sink: SinkConfig;
}

export type OperatorKind = keyof OperatorConfigs;

/** One-input operators on a keyed stream name their key selector (a user-code ref); chained keyed operators need it. */
export interface OneInputConfig {
  keyRef?: string;
}

/** Keyed two-input operators name the key selectors of input 1 and input 2. */
export interface TwoInputConfig {
  keyRef1?: string;
  keyRef2?: string;
}

/**
 * Flink's watermark alignment: sources of one group pause while their watermark is more than
 * `maxDrift` ms ahead of the group's lowest, as the JobManager last announced it; each source
 * subtask reports its watermark every `updateInterval` ms.
 */
export interface WatermarkAlignmentConfig {
  group: string;
  maxDrift: number;
  updateInterval: number;
}

/** A WatermarkStrategy's JSON form (api/watermark-strategy.ts describe()). */
export interface WatermarkConfig {
  kind: 'noWatermarks' | 'monotonous' | 'boundedOutOfOrderness' | 'generator';
  maxOutOfOrderness?: number;
  idleness?: number;
  alignment?: WatermarkAlignmentConfig;
}

interface SourceConfigBase {
  /** Bounded sources end; the job finishes when all have. */
  bounded: boolean;
  /** fromSource(source, strategy): the strategy the source applies. */
  watermark?: WatermarkConfig;
}

/** The source's kind decides the reader; the rest describes it (the reader gets the source object as user code). */
export type SourceConfig = SourceConfigBase &
  (
    | { sourceKind: 'function' }
    | { sourceKind: 'sequence'; from: number; to: number }
    | { sourceKind: 'elements'; count: number }
    /** discoveryIntervalMs: monitorContinuously's interval (absent: bounded, the files there are at the start). */
    | { sourceKind: 'file'; paths: string[]; format: string; discoveryIntervalMs?: number }
    | { sourceKind: 'kafka'; bootstrapServers: string; topics: string[] | string }
    /** count null: unbounded (Infinity is not JSON). */
    | { sourceKind: 'datagen'; count: number | null; ratePerSecond?: number }
  );

export interface KeyedReduceConfig extends OneInputConfig {
  /** sum/min/max/minBy/maxBy(field): the built-in aggregation the reducer implements. */
  aggregation?: { kind: 'sum' | 'min' | 'max' | 'minBy' | 'maxBy'; field: string | number };
}

export interface TimestampsAndWatermarksConfig extends OneInputConfig {
  watermark: WatermarkConfig;
}

/**
 * The JSON description of a window operator, for people (web UI, REST); the runtime works from the
 * WindowOperatorSpec in the bundle. Assigner, trigger and evictor describe themselves (user ones as
 * { kind: 'custom' }), so their shape is theirs.
 */
export interface WindowConfig extends OneInputConfig {
  assigner: Record<string, unknown>;
  trigger: Record<string, unknown>;
  evictor?: Record<string, unknown>;
  allowedLateness: number;
  function: 'reduce' | 'aggregate' | 'process';
  withProcessFunction: boolean;
  /** sideOutputLateData(tag): the OutputTag id late records go to. */
  lateDataTag?: string;
  /**
   * Its input is a local phase's partial accumulators ([key, accumulator], stamped with their
   * slice's last millisecond), which it merges into its slices, not elements.
   */
  preAggregated?: boolean;
}

export interface LocalWindowAggregateConfig {
  /** The id of the window operator whose elements this one pre-aggregates. */
  windowOperator: string;
}

export interface BroadcastProcessConfig extends TwoInputConfig {
  /** Names of the broadcast states (MapStateDescriptors) of the broadcast stream. */
  broadcastStates: string[];
}

/** Bounds in milliseconds relative to the left element. */
export interface IntervalJoinConfig extends TwoInputConfig {
  lowerBound: number;
  upperBound: number;
  lowerBoundInclusive: boolean;
  upperBoundInclusive: boolean;
  /** Side outputs (OutputTag ids) for late rows of each input. */
  leftLateDataTag?: string;
  rightLateDataTag?: string;
}

export type DeliveryGuaranteeSetting = 'EXACTLY_ONCE' | 'AT_LEAST_ONCE' | 'NONE';

export interface PrintSinkConfig {
  sinkKind: 'print';
  target: 'stdout' | 'stderr';
  /** print(sinkIdentifier): the line prefix. */
  prefix?: string;
}

/** JdbcSink's settings, for people: no password, the URL without credentials, no user code. */
export interface JdbcSinkConfig {
  sinkKind: 'jdbc';
  url: string;
  sql: string;
  deliveryGuarantee: DeliveryGuaranteeSetting;
  batchSize: number;
  batchIntervalMs: number;
  maxRetries: number;
}

/** The sink's kind decides the operator; secrets (passwords, credentials in URLs) never appear here. */
export type SinkConfig = OneInputConfig &
  (
    | PrintSinkConfig
    | { sinkKind: 'file'; dir: string }
    | { sinkKind: 'kafka'; deliveryGuarantee: DeliveryGuaranteeSetting }
    | { sinkKind: 'prometheus'; url: string }
    | JdbcSinkConfig
    | { sinkKind: 'custom' }
  );

/** Where an operator's output goes: another operator in the same chain, or a network edge. */
export type OperatorOutput =
  { type: 'chained'; operator: number; tag?: string } | { type: 'network'; edge: number; tag?: string };

interface OperatorDescriptorBase {
  /** 32 lowercase hex characters; from `.uid()` when given, else from the graph position. */
  id: string;
  uid?: string;
  name: string;
  /** Operators keyed state or timers live in; savepoint upgrades need a uid on these. */
  stateful: boolean;
  outputs: OperatorOutput[];
}

/** An operator kind with its config (narrow on `kind` to read the config's fields). */
export type OperatorKindAndConfig<K extends OperatorKind = OperatorKind> = {
  [P in K]: { kind: P; config: OperatorConfigs[P] };
}[K];

/**
 * One operator of a chain: a discriminated union on `kind`. The config is JSON-only; user functions
 * stay in the bundle and are looked up by `id`.
 */
export type OperatorDescriptor<K extends OperatorKind = OperatorKind> = OperatorDescriptorBase &
  OperatorKindAndConfig<K>;

/** The key selector refs of an operator's inputs: keyRef1 is a one-input operator's keyRef, or a two-input one's keyRef1. */
export function keyRefsOf(op: OperatorKindAndConfig): { keyRef1: string | undefined; keyRef2: string | undefined } {
  const c = op.config;
  if ('keyRef1' in c || 'keyRef2' in c) return { keyRef1: c.keyRef1, keyRef2: c.keyRef2 };
  return { keyRef1: 'keyRef' in c ? c.keyRef : undefined, keyRef2: undefined };
}

export interface JobVertex {
  /** The head operator's id, as in Flink. */
  id: string;
  /** "Source: Sequence -> Map -> Filter" */
  name: string;
  parallelism: number;
  maxParallelism: number;
  /** operators[0] is the chain head; the rest are reached through `outputs` of type 'chained'. */
  operators: OperatorDescriptor[];
  /** Number of logical inputs of the head (0 for sources, 1 for one-input, 2 for two-input). */
  numInputs: number;
}

export interface JobEdge {
  /** Index into JobGraph.edges; the key of the ResultPartition a producer subtask writes. */
  index: number;
  source: string; // JobVertex.id
  target: string; // JobVertex.id
  partitioner: PartitionerKind;
  /** The head's logical input this edge feeds (0, or 1 for the second input of a two-input operator). */
  targetInput: number;
  /** For 'hash': the user-code ref of the key selector. */
  keyRef?: string;
}

export interface JobGraph {
  name: string;
  /** Vertices in topological order (sources first). */
  vertices: JobVertex[];
  edges: JobEdge[];
  maxParallelism: number;
  /** Warnings found while planning (e.g. stateful operator without uid). */
  warnings: string[];
  config: JobConfig;
}

export interface JobConfig {
  /** Milliseconds; 0 flushes after every record. */
  bufferTimeout?: number;
  autoWatermarkInterval?: number;
  [key: string]: unknown;
}

/** The source vertices whose watermark strategy aligns in `group` (watermark alignment). */
export function alignedSources(vertices: readonly JobVertex[], group: string): JobVertex[] {
  return vertices.filter((v) => {
    const head = v.operators[0];
    return head?.kind === 'source' && (head.config as SourceConfig).watermark?.alignment?.group === group;
  });
}

/** Slots a job needs with default slot sharing: one slot holds one subtask of every vertex. */
export function requiredSlots(graph: JobGraph): number {
  return Math.max(1, ...graph.vertices.map((v) => v.parallelism));
}

/** Structural checks that catch a broken planner or hand-edited graph before scheduling. */
export function validateJobGraph(graph: unknown): string[] {
  const errors: string[] = [];
  const g = graph as Partial<JobGraph> | null;
  if (!g || typeof g !== 'object') return ['job graph is not an object'];
  if (!Array.isArray(g.vertices) || g.vertices.length === 0) return ['job graph has no vertices'];
  if (!Array.isArray(g.edges)) return ['job graph has no edge list'];
  const ids = new Set<string>();
  for (const v of g.vertices) {
    if (!v || typeof v.id !== 'string') {
      errors.push('vertex without id');
      continue;
    }
    if (ids.has(v.id)) errors.push(`duplicate vertex id ${v.id}`);
    ids.add(v.id);
    if (!Number.isInteger(v.parallelism) || v.parallelism < 1)
      errors.push(`vertex ${v.name}: parallelism must be a positive integer`);
    if (!Number.isInteger(v.maxParallelism) || v.maxParallelism < v.parallelism)
      errors.push(`vertex ${v.name}: maxParallelism must be >= parallelism`);
    if (!Array.isArray(v.operators) || v.operators.length === 0) errors.push(`vertex ${v.name}: no operators`);
  }
  for (const e of g.edges) {
    if (!ids.has(e.source) || !ids.has(e.target)) errors.push(`edge ${e.index} references an unknown vertex`);
    if (e.partitioner === 'hash' && !e.keyRef) errors.push(`edge ${e.index}: hash partitioning without a key selector`);
    if (e.partitioner === 'forward') {
      const s = g.vertices.find((v) => v.id === e.source);
      const t = g.vertices.find((v) => v.id === e.target);
      if (s && t && s.parallelism !== t.parallelism)
        errors.push(
          `edge ${e.index}: forward partitioning between different parallelisms (${s.parallelism} -> ${t.parallelism})`,
        );
    }
  }
  const sources = g.vertices.filter((v) => v.numInputs === 0);
  if (sources.length === 0) errors.push('job has no source');
  const hasSink = g.vertices.some((v) => v.operators?.some((o) => o.kind === 'sink'));
  if (!hasSink) errors.push('job has no sink (call print(), sinkTo() or addSink())');
  return errors;
}
