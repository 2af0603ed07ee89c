// DataStream, SingleOutputStreamOperator and KeyedStream: each call records a transformation on
// the environment's plan. They live together because each creates the others.
import type { PartitionerKind, PrintSinkConfig } from '../common/jobgraph.js';
import { aggregationReduce, checkField, type AggregationKind, type FieldExpression } from './aggregations.js';
import { BroadcastConnectedStream, BroadcastStream } from './broadcast-stream.js';
import type { MapStateDescriptor } from './broadcast-state.js';
import { CoGroupedStreams } from './cogrouped-streams.js';
import { ConnectedStreams } from './connected-streams.js';
import { DataStreamSink } from './datastream-sink.js';
import type { StreamExecutionEnvironment } from './environment.js';
import { FileSink } from './file-sink.js';
import { JdbcSinkFunction } from './jdbc-sink.js';
import { PrometheusSink, redactUrl } from './prometheus-sink.js';
import { KafkaSink } from './kafka-sink.js';
import { IntervalJoin } from './interval-join.js';
import { JoinedStreams } from './joined-streams.js';
import { checkUserFunction, isFunctionObject, toKeySelectorFunction } from './function-utils.js';
import type {
  FilterFunction,
  FlatMapFunction,
  KeyedProcessFunctionLike,
  KeySelector,
  MapFunction,
  ProcessFunctionLike,
  ReduceFunction,
  SinkFunction,
} from './functions.js';
import { asOperator, OperatorSettings, parallelismOf } from './operator-settings.js';
import { outputTagId, type OutputTag } from './output-tag.js';
import {
  addOperator,
  addPartition,
  addSideOutput,
  addUnion,
  planOf,
  type OperatorSpec,
  type PartitionTransformation,
  type Plan,
  type Transformation,
} from './transformation.js';
import { WatermarkStrategy } from './watermark-strategy.js';
import { CountEvictor } from './windowing/count-evictor.js';
import { CountTrigger } from './windowing/count-trigger.js';
import type { GlobalWindow } from './windowing/global-window.js';
import { GlobalWindows } from './windowing/global-windows.js';
import { PurgingTrigger } from './windowing/purging-trigger.js';
import type { Window, WindowAssigner } from './windowing/types.js';
import { AllWindowedStream, WindowedStream } from './windowing/windowed-stream.js';

export class DataStream<T> extends OperatorSettings {
  declare private readonly __type?: T;

  constructor(
    protected readonly environment: StreamExecutionEnvironment,
    override readonly transformation: Transformation,
  ) {
    super();
  }

  getExecutionEnvironment(): StreamExecutionEnvironment {
    return this.environment;
  }

  protected get plan(): Plan {
    return planOf(this.environment);
  }

  /** The keyBy this stream is partitioned by; only a KeyedStream has one. */
  protected keyPartition(): PartitionTransformation | undefined {
    return undefined;
  }

  protected oneInput<R>(spec: OperatorSpec): SingleOutputStreamOperator<R> {
    const keyedBy = this.keyPartition();
    const t = addOperator(this.plan, [this.transformation], {
      ...spec,
      keyedBy,
      // A function object on a keyed stream may use keyed state through its runtime context.
      mayHoldState: spec.stateful === true || (keyedBy !== undefined && isFunctionObject(spec.userFunction)),
    });
    return new SingleOutputStreamOperator<R>(this.environment, t);
  }

  map<R>(mapper: MapFunction<T, R>): SingleOutputStreamOperator<R> {
    checkUserFunction(mapper, 'map', 'map');
    return this.oneInput<R>({ kind: 'map', name: 'Map', config: {}, userFunction: mapper });
  }

  filter(filter: FilterFunction<T>): SingleOutputStreamOperator<T> {
    checkUserFunction(filter, 'filter', 'filter');
    return this.oneInput<T>({ kind: 'filter', name: 'Filter', config: {}, userFunction: filter });
  }

  flatMap<R>(flatMapper: FlatMapFunction<T, R>): SingleOutputStreamOperator<R> {
    checkUserFunction(flatMapper, 'flatMap', 'flatMap');
    return this.oneInput<R>({ kind: 'flatMap', name: 'Flat Map', config: {}, userFunction: flatMapper });
  }

  process<R>(fn: ProcessFunctionLike<T, R>): SingleOutputStreamOperator<R> {
    checkUserFunction(fn, 'processElement', 'process');
    return this.oneInput<R>({ kind: 'process', name: 'Process', config: {}, userFunction: fn });
  }

  /**
   * Stamps records with event timestamps and generates watermarks from here on. Runs with its
   * input's parallelism and chains to it, as in Flink.
   */
  assignTimestampsAndWatermarks(watermarkStrategy: WatermarkStrategy<T>): SingleOutputStreamOperator<T> {
    if (!(watermarkStrategy instanceof WatermarkStrategy)) {
      throw new TypeError(
        'assignTimestampsAndWatermarks() needs a WatermarkStrategy, e.g. WatermarkStrategy.forBoundedOutOfOrderness(1000)',
      );
    }
    // As in Flink: only a source can pause its reading to stay aligned.
    if (watermarkStrategy.alignment)
      throw new TypeError(
        'watermark alignment (withWatermarkAlignment) applies to sources: pass the strategy to env.fromSource()',
      );
    // Not keyed even after keyBy(): the operator keeps no keyed state.
    const t = addOperator(this.plan, [this.transformation], {
      kind: 'timestampsAndWatermarks',
      name: 'Timestamps/Watermarks',
      config: { watermark: watermarkStrategy.describe() },
      userFunction: watermarkStrategy,
      inheritsParallelism: true,
      mayHoldState: false,
    });
    return new SingleOutputStreamOperator<T>(this.environment, t);
  }

  /**
   * Windows over the whole stream, in one subtask (parallelism 1): every record reaches it through a
   * 'global' edge and is keyed by one constant key.
   */
  windowAll<W extends Window>(assigner: WindowAssigner<T, W>): AllWindowedStream<T, W> {
    return new AllWindowedStream<T, W>(assigner, (spec) => {
      const partition = addPartition(this.plan, this.transformation, 'global', allWindowsKey);
      const t = addOperator(this.plan, [partition], {
        ...spec,
        keyedBy: partition,
        nonParallel: true,
        parallelism: 1,
        mayHoldState: true,
      });
      return new SingleOutputStreamOperator<unknown>(this.environment, t);
    });
  }

  /** Tumbling (or, with `slide`, sliding) windows of `size` elements over the whole stream. */
  countWindowAll(size: number, slide?: number): AllWindowedStream<T, GlobalWindow> {
    const ws = this.windowAll(GlobalWindows.create());
    return slide === undefined
      ? ws.trigger(PurgingTrigger.of(CountTrigger.of(size)))
      : ws.evictor(CountEvictor.of(size)).trigger(CountTrigger.of(slide));
  }

  keyBy<K>(selector: KeySelector<T, K>): KeyedStream<T, K> {
    const fn = toKeySelectorFunction<T, K>(selector);
    const t = addPartition(this.plan, this.transformation, 'hash', fn as (value: unknown) => unknown);
    return new KeyedStream<T, K>(this.environment, t);
  }

  union(...others: DataStream<T>[]): DataStream<T> {
    for (const o of others) {
      if (!(o instanceof DataStream)) throw new TypeError('union() expects DataStreams');
      if (o.environment !== this.environment)
        throw new Error('union() of streams from different execution environments');
    }
    const t = addUnion(this.plan, [this.transformation, ...others.map((o) => o.transformation)]);
    return new DataStream<T>(this.environment, t);
  }

  private partition(partitioner: PartitionerKind): DataStream<T> {
    return new DataStream<T>(this.environment, addPartition(this.plan, this.transformation, partitioner));
  }

  /** Round-robin over all downstream subtasks. */
  rebalance(): DataStream<T> {
    return this.partition('rebalance');
  }

  /** Round-robin over a local subset of downstream subtasks (pointwise). */
  rescale(): DataStream<T> {
    return this.partition('rescale');
  }

  /**
   * Without arguments: every record to every downstream subtask. With MapStateDescriptors: a
   * BroadcastStream whose records a BroadcastProcessFunction stores in those broadcast states
   * (`a.connect(rules.broadcast(descriptor)).process(...)`).
   */
  broadcast(): DataStream<T>;
  broadcast(
    descriptor: MapStateDescriptor<unknown, unknown>,
    ...more: MapStateDescriptor<unknown, unknown>[]
  ): BroadcastStream<T>;
  broadcast(...descriptors: MapStateDescriptor<unknown, unknown>[]): DataStream<T> | BroadcastStream<T> {
    const partitioned = this.partition('broadcast');
    return descriptors.length === 0
      ? partitioned
      : new BroadcastStream<T>(this.environment, partitioned.transformation, descriptors);
  }

  /**
   * Two streams of possibly different types into one operator: a ConnectedStreams (map, flatMap,
   * process with a function per input), or with a BroadcastStream a BroadcastConnectedStream.
   */
  connect<R>(other: BroadcastStream<R>): BroadcastConnectedStream<T, R>;
  connect<R>(other: DataStream<R>): ConnectedStreams<T, R>;
  connect<R>(other: DataStream<R> | BroadcastStream<R>): ConnectedStreams<T, R> | BroadcastConnectedStream<T, R> {
    if (other instanceof BroadcastStream) {
      if (other.environment !== this.environment)
        throw new Error('connect() of streams from different execution environments');
      return new BroadcastConnectedStream<T, R>(this, other);
    }
    if (!(other instanceof DataStream)) throw new TypeError('connect() expects a DataStream or a BroadcastStream');
    if (other.environment !== this.environment)
      throw new Error('connect() of streams from different execution environments');
    return new ConnectedStreams<T, R>(this, other);
  }

  /** Window join: `a.join(b).where(ka).equalTo(kb).window(assigner).apply((left, right) => ...)`. */
  join<T2>(other: DataStream<T2>): JoinedStreams<T, T2> {
    if (!(other instanceof DataStream)) throw new TypeError('join() expects a DataStream');
    if (other.environment !== this.environment)
      throw new Error('join() of streams from different execution environments');
    return new JoinedStreams<T, T2>(this, other);
  }

  /** Window coGroup: like join, but the function gets all of a key's window elements of each side. */
  coGroup<T2>(other: DataStream<T2>): CoGroupedStreams<T, T2> {
    if (!(other instanceof DataStream)) throw new TypeError('coGroup() expects a DataStream');
    if (other.environment !== this.environment)
      throw new Error('coGroup() of streams from different execution environments');
    return new CoGroupedStreams<T, T2>(this, other);
  }

  /** Every record to downstream subtask 0. */
  global(): DataStream<T> {
    return this.partition('global');
  }

  /** Subtask i to subtask i; needs equal parallelism on both sides. */
  forward(): DataStream<T> {
    return this.partition('forward');
  }

  private sink(spec: OperatorSpec): DataStreamSink<T> {
    const t = addOperator(this.plan, [this.transformation], spec);
    return new DataStreamSink<T>(t);
  }

  /** Writes each record as `prefix> value` (or `subtask> value` when parallel) to stdout. */
  print(sinkIdentifier?: string): DataStreamSink<T> {
    return this.sink({
      kind: 'sink',
      name: 'Print to Std. Out',
      config: printConfig('stdout', sinkIdentifier),
      userFunction: undefined,
    });
  }

  printToErr(sinkIdentifier?: string): DataStreamSink<T> {
    return this.sink({
      kind: 'sink',
      name: 'Print to Std. Err',
      config: printConfig('stderr', sinkIdentifier),
      userFunction: undefined,
    });
  }

  /**
   * Runs the job on an in-process mini cluster (a local environment: getExecutionEnvironment()
   * outside the engine) and resolves with this stream's records: all of them once the job
   * finished, or, with `limit`, the first `limit` records, after which the job is canceled (so an
   * unbounded job ends too).
   */
  executeAndCollect(limit?: number): Promise<T[]>;
  executeAndCollect(jobName: string, limit?: number): Promise<T[]>;
  async executeAndCollect(jobNameOrLimit?: string | number, maybeLimit?: number): Promise<T[]> {
    const jobName = typeof jobNameOrLimit === 'string' ? jobNameOrLimit : undefined;
    const limit = typeof jobNameOrLimit === 'number' ? jobNameOrLimit : maybeLimit;
    // Loaded on demand: bundles never load the runtime through the API.
    const { collectLocally } = await import('./minicluster/local-execution.js');
    return collectLocally(this, jobName, limit);
  }

  /** A FileSink, or an object with invoke(value, ctx) like addSink. */
  sinkTo(
    sink: FileSink<T> | KafkaSink<T> | PrometheusSink<T> | JdbcSinkFunction<T> | SinkFunction<T>,
  ): DataStreamSink<T> {
    const connector = connectorSink(sink);
    if (connector) return this.sink({ kind: 'sink', ...connector, userFunction: sink });
    checkUserFunction(sink, 'invoke', 'sinkTo');
    return this.sink({ kind: 'sink', name: 'Sink', config: { sinkKind: 'custom' }, userFunction: sink });
  }

  addSink(sinkFunction: SinkFunction<T> | JdbcSinkFunction<T>): DataStreamSink<T> {
    if (sinkFunction instanceof JdbcSinkFunction) return this.sinkTo(sinkFunction);
    checkUserFunction(sinkFunction, 'invoke', 'addSink');
    return this.sink({ kind: 'sink', name: 'Unnamed', config: { sinkKind: 'custom' }, userFunction: sinkFunction });
  }

  getParallelism(): number {
    return parallelismOf(this.plan, this.transformation);
  }

  getName(): string {
    return asOperator(this.transformation, 'getName').name;
  }
}

type SinkSpecConfig = Extract<OperatorSpec, { kind: 'sink' }>['config'];

/** The operator name and configuration of one of the built-in sinks; undefined for a user's SinkFunction. */
function connectorSink(sink: object): { name: string; config: SinkSpecConfig } | undefined {
  if (sink instanceof JdbcSinkFunction) return { name: 'JdbcSink', config: sink.describe() };
  if (sink instanceof FileSink) return { name: 'FileSink', config: { sinkKind: 'file', dir: sink.dir } };
  if (sink instanceof KafkaSink)
    return { name: 'KafkaSink', config: { sinkKind: 'kafka', deliveryGuarantee: sink.deliveryGuarantee } };
  if (sink instanceof PrometheusSink)
    return {
      name: 'PrometheusSink',
      config: { sinkKind: 'prometheus', url: redactUrl(sink.prometheusRemoteWriteUrl) },
    };
  return undefined;
}

/** windowAll's key: all records share it. */
function allWindowsKey(): number {
  return 0;
}

/** Flink's SingleOutputStreamOperator: the stream an operator produces, with its side outputs. */
export class SingleOutputStreamOperator<T> extends DataStream<T> {
  /** The records the operator emitted for `tag` (ctx.output(tag, x), late data of a window). */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    const id = outputTagId(tag, 'getSideOutput');
    const op = asOperator(this.transformation, 'getSideOutput');
    return new DataStream<X>(this.environment, addSideOutput(this.plan, op, id));
  }
}

function printConfig(target: 'stdout' | 'stderr', prefix: string | undefined): PrintSinkConfig {
  const config: PrintSinkConfig = { sinkKind: 'print', target };
  if (prefix !== undefined) config.prefix = String(prefix);
  return config;
}

export class KeyedStream<T, K> extends DataStream<T> {
  declare private readonly __key?: K;

  protected override keyPartition(): PartitionTransformation {
    return this.transformation as PartitionTransformation;
  }

  /** Rolling reduce per key: emits the new aggregate for every record. */
  reduce(reducer: ReduceFunction<T>): SingleOutputStreamOperator<T> {
    checkUserFunction(reducer, 'reduce', 'reduce');
    return this.oneInput<T>({
      kind: 'keyedReduce',
      name: 'Keyed Reduce',
      config: {},
      userFunction: reducer,
      stateful: true,
    });
  }

  private aggregate(kind: AggregationKind, field: FieldExpression): SingleOutputStreamOperator<T> {
    checkField(field, kind);
    return this.oneInput<T>({
      kind: 'keyedReduce',
      name: 'Keyed Aggregation',
      config: { aggregation: { kind, field } },
      userFunction: aggregationReduce<T>(kind, field),
      stateful: true,
    });
  }

  sum(field: FieldExpression): SingleOutputStreamOperator<T> {
    return this.aggregate('sum', field);
  }

  min(field: FieldExpression): SingleOutputStreamOperator<T> {
    return this.aggregate('min', field);
  }

  max(field: FieldExpression): SingleOutputStreamOperator<T> {
    return this.aggregate('max', field);
  }

  minBy(field: FieldExpression): SingleOutputStreamOperator<T> {
    return this.aggregate('minBy', field);
  }

  maxBy(field: FieldExpression): SingleOutputStreamOperator<T> {
    return this.aggregate('maxBy', field);
  }

  override process<R>(
    fn: KeyedProcessFunctionLike<K, T, R> | ProcessFunctionLike<T, R>,
  ): SingleOutputStreamOperator<R> {
    checkUserFunction(fn, 'processElement', 'process');
    return this.oneInput<R>({
      kind: 'keyedProcess',
      name: 'KeyedProcess',
      config: {},
      userFunction: fn,
      stateful: true,
    });
  }

  /** Windows per key; a window function (reduce, aggregate, process) on the result ends it. */
  window<W extends Window>(assigner: WindowAssigner<T, W>): WindowedStream<T, K, W> {
    return new WindowedStream<T, K, W>(assigner, (spec) => this.oneInput<unknown>(spec));
  }

  /**
   * Joins each element of this stream with the other stream's elements of the same key whose
   * timestamps lie in [ts + lower, ts + upper]: `.between(lower, upper).process(...)`.
   */
  intervalJoin<T2>(other: KeyedStream<T2, K>): IntervalJoin<T, T2, K> {
    if (!(other instanceof KeyedStream))
      throw new TypeError('intervalJoin() expects a KeyedStream: a.keyBy(k).intervalJoin(b.keyBy(k))');
    if (other.environment !== this.environment)
      throw new Error('intervalJoin() of streams from different execution environments');
    return new IntervalJoin<T, T2, K>(this, other);
  }

  /**
   * Tumbling windows of `size` elements per key; with `slide`, a window of the last `size`
   * elements every `slide` elements (as Flink: a CountTrigger and a CountEvictor on GlobalWindows).
   */
  countWindow(size: number, slide?: number): WindowedStream<T, K, GlobalWindow> {
    const ws = this.window(GlobalWindows.create());
    return slide === undefined
      ? ws.trigger(PurgingTrigger.of(CountTrigger.of(size)))
      : ws.evictor(CountEvictor.of(size)).trigger(CountTrigger.of(slide));
  }
}

/** The keyBy a stream is partitioned by, when it is a KeyedStream. */
export function keyPartitionOf<T>(stream: DataStream<T>): PartitionTransformation | undefined {
  return stream instanceof KeyedStream ? (stream.transformation as PartitionTransformation) : undefined;
}
