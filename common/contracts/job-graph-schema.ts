// JSON Schemas of the JobGraph as a TaskManager receives it inside a deployment descriptor: the
// operator descriptors are a union tagged by `kind`, sources and sinks by `sourceKind`/`sinkKind`.
// Typed with ajv's JSONSchemaType, so a schema that drifts from its TypeScript type does not compile.
// ajv's typing wants `nullable: true` on optional properties, so those also accept null.
// Unknown properties are let through (as protobuf ignores unknown fields): an older TaskManager can
// still run a descriptor that carries something new it does not use; what it does use must be right.
import type { JSONSchemaType } from 'ajv';
import type {
  BroadcastProcessConfig,
  DeliveryGuaranteeSetting,
  IntervalJoinConfig,
  JobEdge,
  JobGraph,
  JobVertex,
  KeyedReduceConfig,
  LocalWindowAggregateConfig,
  OneInputConfig,
  OperatorDescriptor,
  OperatorKind,
  OperatorOutput,
  PartitionerKind,
  SinkConfig,
  SourceConfig,
  TimestampsAndWatermarksConfig,
  TwoInputConfig,
  WatermarkConfig,
  WindowConfig,
} from '../jobgraph.js';
import { registerContractSchema, taggedUnionSchema } from './contract.js';

const str = { type: 'string' } as const;
const optStr = { type: 'string', nullable: true } as const;
const num = { type: 'number' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const optNum = { type: 'number', nullable: true } as const;
const strings = { type: 'array', items: str } as const;

const PARTITIONER_KINDS: readonly PartitionerKind[] = [
  'forward',
  'hash',
  'rebalance',
  'rescale',
  'broadcast',
  'global',
];
export const partitionerSchema: JSONSchemaType<PartitionerKind> = { type: 'string', enum: PARTITIONER_KINDS };

// A description of the user's window assigner, trigger or evictor: its own JSON, checked as an object only.
const describedObject: JSONSchemaType<Record<string, unknown>> = { type: 'object', required: [] };

const watermarkProperties = {
  kind: { type: 'string', enum: ['noWatermarks', 'monotonous', 'boundedOutOfOrderness', 'generator'] },
  maxOutOfOrderness: optNum,
  idleness: optNum,
  alignment: {
    type: 'object',
    nullable: true,
    properties: {
      group: { type: 'string', minLength: 1 },
      maxDrift: { type: 'number', minimum: 0 },
      updateInterval: { type: 'number', exclusiveMinimum: 0 },
    },
    required: ['group', 'maxDrift', 'updateInterval'],
  },
} as const;
const watermark: JSONSchemaType<WatermarkConfig> = {
  type: 'object',
  properties: watermarkProperties,
  required: ['kind'],
};
const optWatermark = { type: 'object', nullable: true, properties: watermarkProperties, required: ['kind'] } as const;

const oneInput: JSONSchemaType<OneInputConfig> = { type: 'object', properties: { keyRef: optStr }, required: [] };
const twoInput: JSONSchemaType<TwoInputConfig> = {
  type: 'object',
  properties: { keyRef1: optStr, keyRef2: optStr },
  required: [],
};

const sourceBase = { bounded: bool, watermark: optWatermark } as const;
const source = registerContractSchema(
  'weir:source-config',
  taggedUnionSchema<SourceConfig>('sourceKind', [
    {
      type: 'object',
      properties: { ...sourceBase, sourceKind: { type: 'string', const: 'function' } },
      required: ['sourceKind', 'bounded'],
    },
    {
      type: 'object',
      properties: { ...sourceBase, sourceKind: { type: 'string', const: 'sequence' }, from: num, to: num },
      required: ['sourceKind', 'bounded', 'from', 'to'],
    },
    {
      type: 'object',
      properties: { ...sourceBase, sourceKind: { type: 'string', const: 'elements' }, count: int },
      required: ['sourceKind', 'bounded', 'count'],
    },
    {
      type: 'object',
      properties: {
        ...sourceBase,
        sourceKind: { type: 'string', const: 'file' },
        paths: strings,
        format: str,
        discoveryIntervalMs: optNum,
      },
      required: ['sourceKind', 'bounded', 'paths', 'format'],
    },
    {
      type: 'object',
      properties: {
        ...sourceBase,
        sourceKind: { type: 'string', const: 'kafka' },
        bootstrapServers: str,
        // A topic list, or the pattern's text.
        topics: { anyOf: [strings, str] },
      },
      required: ['sourceKind', 'bounded', 'bootstrapServers', 'topics'],
    },
    {
      type: 'object',
      properties: {
        ...sourceBase,
        sourceKind: { type: 'string', const: 'datagen' },
        count: { anyOf: [num, { type: 'null', nullable: true }] },
        ratePerSecond: optNum,
      },
      required: ['sourceKind', 'bounded', 'count'],
    },
  ]),
);

const guarantee: JSONSchemaType<DeliveryGuaranteeSetting> = {
  type: 'string',
  enum: ['EXACTLY_ONCE', 'AT_LEAST_ONCE', 'NONE'],
};
const sink = registerContractSchema(
  'weir:sink-config',
  taggedUnionSchema<SinkConfig>('sinkKind', [
    {
      type: 'object',
      properties: {
        keyRef: optStr,
        sinkKind: { type: 'string', const: 'print' },
        target: { type: 'string', enum: ['stdout', 'stderr'] },
        prefix: optStr,
      },
      required: ['sinkKind', 'target'],
    },
    {
      type: 'object',
      properties: { keyRef: optStr, sinkKind: { type: 'string', const: 'file' }, dir: str },
      required: ['sinkKind', 'dir'],
    },
    {
      type: 'object',
      properties: { keyRef: optStr, sinkKind: { type: 'string', const: 'kafka' }, deliveryGuarantee: guarantee },
      required: ['sinkKind', 'deliveryGuarantee'],
    },
    {
      type: 'object',
      properties: { keyRef: optStr, sinkKind: { type: 'string', const: 'prometheus' }, url: str },
      required: ['sinkKind', 'url'],
    },
    {
      type: 'object',
      properties: {
        keyRef: optStr,
        sinkKind: { type: 'string', const: 'jdbc' },
        url: str,
        sql: str,
        deliveryGuarantee: guarantee,
        batchSize: num,
        batchIntervalMs: num,
        maxRetries: num,
      },
      required: ['sinkKind', 'url', 'sql', 'deliveryGuarantee', 'batchSize', 'batchIntervalMs', 'maxRetries'],
    },
    {
      type: 'object',
      properties: { keyRef: optStr, sinkKind: { type: 'string', const: 'custom' } },
      required: ['sinkKind'],
    },
  ]),
);

const keyedReduce: JSONSchemaType<KeyedReduceConfig> = {
  type: 'object',
  properties: {
    keyRef: optStr,
    aggregation: {
      type: 'object',
      nullable: true,
      properties: {
        kind: { type: 'string', enum: ['sum', 'min', 'max', 'minBy', 'maxBy'] },
        field: { type: ['string', 'number'] },
      },
      required: ['kind', 'field'],
    },
  },
  required: [],
};

const timestampsAndWatermarks: JSONSchemaType<TimestampsAndWatermarksConfig> = {
  type: 'object',
  properties: { keyRef: optStr, watermark },
  required: ['watermark'],
};

const window: JSONSchemaType<WindowConfig> = {
  type: 'object',
  properties: {
    keyRef: optStr,
    assigner: describedObject,
    trigger: describedObject,
    evictor: { ...describedObject, nullable: true },
    allowedLateness: num,
    function: { type: 'string', enum: ['reduce', 'aggregate', 'process'] },
    withProcessFunction: bool,
    lateDataTag: optStr,
    preAggregated: { type: 'boolean', nullable: true },
  },
  required: ['assigner', 'trigger', 'allowedLateness', 'function', 'withProcessFunction'],
};

const localWindowAggregate: JSONSchemaType<LocalWindowAggregateConfig> = {
  type: 'object',
  properties: { windowOperator: str },
  required: ['windowOperator'],
};

const broadcastProcess: JSONSchemaType<BroadcastProcessConfig> = {
  type: 'object',
  properties: { keyRef1: optStr, keyRef2: optStr, broadcastStates: strings },
  required: ['broadcastStates'],
};

const intervalJoin: JSONSchemaType<IntervalJoinConfig> = {
  type: 'object',
  properties: {
    keyRef1: optStr,
    keyRef2: optStr,
    lowerBound: num,
    upperBound: num,
    lowerBoundInclusive: bool,
    upperBoundInclusive: bool,
    leftLateDataTag: optStr,
    rightLateDataTag: optStr,
  },
  required: ['lowerBound', 'upperBound', 'lowerBoundInclusive', 'upperBoundInclusive'],
};

const outputs = registerContractSchema('weir:operator-outputs', {
  type: 'array',
  items: taggedUnionSchema<OperatorOutput>('type', [
    {
      type: 'object',
      properties: { type: { type: 'string', const: 'chained' }, operator: int, tag: optStr },
      required: ['type', 'operator'],
    },
    {
      type: 'object',
      properties: { type: { type: 'string', const: 'network' }, edge: int, tag: optStr },
      required: ['type', 'edge'],
    },
  ]),
});

const base = { id: str, uid: optStr, name: str, stateful: bool, outputs } as const;
const required = ['id', 'name', 'kind', 'config', 'stateful', 'outputs'] as const;
const kindOf = <K extends OperatorKind>(kind: K) => ({ type: 'string', const: kind }) as const;

/** One schema per operator kind, each checked against its member of OperatorDescriptor; a missing kind does not compile. */
const operatorSchemas: { [K in OperatorKind]: JSONSchemaType<OperatorDescriptor<K>> } = {
  source: { type: 'object', properties: { ...base, kind: kindOf('source'), config: source }, required },
  map: { type: 'object', properties: { ...base, kind: kindOf('map'), config: oneInput }, required },
  filter: { type: 'object', properties: { ...base, kind: kindOf('filter'), config: oneInput }, required },
  flatMap: { type: 'object', properties: { ...base, kind: kindOf('flatMap'), config: oneInput }, required },
  keyedReduce: { type: 'object', properties: { ...base, kind: kindOf('keyedReduce'), config: keyedReduce }, required },
  keyedProcess: { type: 'object', properties: { ...base, kind: kindOf('keyedProcess'), config: oneInput }, required },
  process: { type: 'object', properties: { ...base, kind: kindOf('process'), config: oneInput }, required },
  timestampsAndWatermarks: {
    type: 'object',
    properties: { ...base, kind: kindOf('timestampsAndWatermarks'), config: timestampsAndWatermarks },
    required,
  },
  window: { type: 'object', properties: { ...base, kind: kindOf('window'), config: window }, required },
  localWindowAggregate: {
    type: 'object',
    properties: { ...base, kind: kindOf('localWindowAggregate'), config: localWindowAggregate },
    required,
  },
  coMap: { type: 'object', properties: { ...base, kind: kindOf('coMap'), config: twoInput }, required },
  coFlatMap: { type: 'object', properties: { ...base, kind: kindOf('coFlatMap'), config: twoInput }, required },
  coProcess: { type: 'object', properties: { ...base, kind: kindOf('coProcess'), config: twoInput }, required },
  broadcastProcess: {
    type: 'object',
    properties: { ...base, kind: kindOf('broadcastProcess'), config: broadcastProcess },
    required,
  },
  intervalJoin: {
    type: 'object',
    properties: { ...base, kind: kindOf('intervalJoin'), config: intervalJoin },
    required,
  },
  sink: { type: 'object', properties: { ...base, kind: kindOf('sink'), config: sink }, required },
};

const operators = registerContractSchema('weir:operators', {
  type: 'array',
  minItems: 1,
  items: taggedUnionSchema<OperatorDescriptor>('kind', Object.values(operatorSchemas)),
});

const vertex: JSONSchemaType<JobVertex> = {
  type: 'object',
  properties: {
    id: str,
    name: str,
    parallelism: { type: 'integer', minimum: 1 },
    maxParallelism: { type: 'integer', minimum: 1 },
    operators,
    numInputs: { type: 'integer', minimum: 0, maximum: 2 },
  },
  required: ['id', 'name', 'parallelism', 'maxParallelism', 'operators', 'numInputs'],
};

const edge: JSONSchemaType<JobEdge> = {
  type: 'object',
  properties: {
    index: int,
    source: str,
    target: str,
    partitioner: partitionerSchema,
    targetInput: int,
    keyRef: optStr,
  },
  required: ['index', 'source', 'target', 'partitioner', 'targetInput'],
};

// JobConfig is open (checkpointing, restart strategy and later settings are the JobManager's);
// the TaskManager reads only these two.
const jobConfig = registerContractSchema('weir:job-config', {
  type: 'object',
  properties: { bufferTimeout: num, autoWatermarkInterval: num },
});

export const jobGraphSchema: JSONSchemaType<JobGraph> = {
  type: 'object',
  properties: {
    name: str,
    vertices: { type: 'array', items: vertex, minItems: 1 },
    edges: { type: 'array', items: edge },
    maxParallelism: { type: 'integer', minimum: 1 },
    warnings: strings,
    config: jobConfig,
  },
  required: ['name', 'vertices', 'edges', 'maxParallelism', 'warnings', 'config'],
};
