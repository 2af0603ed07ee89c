// The JobGraph: the planned, JSON-serializable form of a job. The JobManager gets it from the
// planner child process; TaskManagers re-run the bundle's `main` and look user code up by the
// ids recorded here (operator ids and key-selector refs), never by position.

export type PartitionerKind = 'forward' | 'hash' | 'rebalance' | 'rescale' | 'broadcast' | 'global';

/** Operator kinds the runtime knows how to instantiate. */
export type OperatorKind =
  | 'source' // config.sourceKind: 'sequence' | 'elements' | 'datagen'
  | 'map'
  | 'filter'
  | 'flatMap'
  | 'keyedReduce' // config.keyRef
  | 'keyedProcess' // config.keyRef
  | 'process'
  | 'timestampsAndWatermarks' // assignTimestampsAndWatermarks(strategy); user code: the WatermarkStrategy
  | 'window' // config.keyRef; user code: a WindowOperatorSpec (api/windowing/types.ts)
  // Two-input operators (JobVertex.numInputs 2; edges say which input with targetInput 0 or 1).
  // Keyed ones have config.keyRef1 / config.keyRef2, the key selectors of input 1 and input 2.
  | 'coMap' // user code: { map1, map2 } (CoMapFunction)
  | 'coFlatMap' // user code: { flatMap1, flatMap2 } (CoFlatMapFunction)
  | 'coProcess' // user code: CoProcessFunction { processElement1, processElement2, onTimer? }; keyed when keyRef1/keyRef2 are set
  | 'broadcastProcess' // input 2 is the broadcast side; config.broadcastStates: string[]; keyed when keyRef1 is set
  | 'intervalJoin' // config { keyRef1, keyRef2, lowerBound, upperBound, lowerBoundInclusive, upperBoundInclusive }; user code: ProcessJoinFunction
  | 'sink'; // config.sinkKind: 'print' | 'file' | 'custom'

/** Where an operator's output goes: another operator in the same chain, or a network edge. */
export type OperatorOutput =
  | { type: 'chained'; operator: number; tag?: string }
  | { type: 'network'; edge: number; tag?: string };

export interface OperatorDescriptor {
  /** 32 lowercase hex characters; from `.uid()` when given, else from the graph position. */
  id: string;
  uid?: string;
  name: string;
  kind: OperatorKind;
  /** JSON-only settings; user functions stay in the bundle and are looked up by `id`. */
  config: Record<string, unknown>;
  /** Operators keyed state or timers live in; savepoint upgrades need a uid on these. */
  stateful: boolean;
  outputs: OperatorOutput[];
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

export function vertexById(graph: JobGraph, id: string): JobVertex {
  const v = graph.vertices.find((x) => x.id === id);
  if (!v) throw new Error(`no vertex ${id} in job graph`);
  return v;
}

export function inputEdges(graph: JobGraph, vertexId: string): JobEdge[] {
  return graph.edges.filter((e) => e.target === vertexId);
}

export function outputEdges(graph: JobGraph, vertexId: string): JobEdge[] {
  return graph.edges.filter((e) => e.source === vertexId);
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
    if (!v || typeof v.id !== 'string') { errors.push('vertex without id'); continue; }
    if (ids.has(v.id)) errors.push(`duplicate vertex id ${v.id}`);
    ids.add(v.id);
    if (!Number.isInteger(v.parallelism) || v.parallelism < 1) errors.push(`vertex ${v.name}: parallelism must be a positive integer`);
    if (!Number.isInteger(v.maxParallelism) || v.maxParallelism < v.parallelism) errors.push(`vertex ${v.name}: maxParallelism must be >= parallelism`);
    if (!Array.isArray(v.operators) || v.operators.length === 0) errors.push(`vertex ${v.name}: no operators`);
  }
  for (const e of g.edges) {
    if (!ids.has(e.source) || !ids.has(e.target)) errors.push(`edge ${e.index} references an unknown vertex`);
    if (e.partitioner === 'hash' && !e.keyRef) errors.push(`edge ${e.index}: hash partitioning without a key selector`);
    if (e.partitioner === 'forward') {
      const s = g.vertices.find((v) => v.id === e.source);
      const t = g.vertices.find((v) => v.id === e.target);
      if (s && t && s.parallelism !== t.parallelism) errors.push(`edge ${e.index}: forward partitioning between different parallelisms (${s.parallelism} -> ${t.parallelism})`);
    }
  }
  const sources = g.vertices.filter((v) => v.numInputs === 0);
  if (sources.length === 0) errors.push('job has no source');
  const hasSink = g.vertices.some((v) => v.operators?.some((o) => o.kind === 'sink'));
  if (!hasSink) errors.push('job has no sink (call print(), sinkTo() or addSink())');
  return errors;
}
