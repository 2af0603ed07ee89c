// The job API a bundle imports as 'weir', named after Flink's DataStream API.
export { StreamExecutionEnvironment, ExecutionConfig } from './environment.js';
export { CheckpointConfig, CheckpointingMode } from './checkpoint-config.js';
export { RestartStrategies } from './restart-strategies.js';
export { DataStream, KeyedStream, SingleOutputStreamOperator } from './datastream.js';
export { DataStreamSink } from './datastream-sink.js';
export { ConnectedStreams } from './connected-streams.js';
export { CoProcessFunction, KeyedCoProcessFunction, RichCoMapFunction, RichCoFlatMapFunction } from './co-functions.js';
export type {
  CoMapFunction,
  CoFlatMapFunction,
  CoProcessFunctionLike,
  KeyedCoProcessFunctionLike,
  CoProcessContext,
  KeyedCoProcessContext,
  CoOnTimerContext,
} from './co-functions.js';
export { MapStateDescriptor } from './broadcast-state.js';
export {
  StateDescriptor,
  ValueStateDescriptor,
  ListStateDescriptor,
  ReducingStateDescriptor,
  AggregatingStateDescriptor,
  StateTtlConfig,
  StateTtlConfigBuilder,
  type StateKind,
  type State,
  type ValueState,
  type AppendingState,
  type ListState,
  type MapState,
  type ReducingState,
  type AggregatingState,
  type ReduceFunctionLike,
  type TtlUpdateType,
  type TtlStateVisibility,
  type KeyedStateStore,
  type OperatorStateStore,
  type FunctionInitializationContext,
  type FunctionSnapshotContext,
  type CheckpointedFunction,
  type CheckpointListener,
} from './state.js';
export type { BroadcastState, ReadOnlyBroadcastState } from './broadcast-state.js';
export { BroadcastStream, BroadcastConnectedStream } from './broadcast-stream.js';
export { BroadcastProcessFunction, KeyedBroadcastProcessFunction } from './broadcast-functions.js';
export type {
  BroadcastProcessFunctionLike,
  KeyedBroadcastProcessFunctionLike,
  BroadcastContext,
  BroadcastReadOnlyContext,
  KeyedBroadcastContext,
  KeyedBroadcastReadOnlyContext,
  KeyedBroadcastOnTimerContext,
} from './broadcast-functions.js';
export { JoinedStreams, JoinWithWindow } from './joined-streams.js';
export type { JoinWhere, JoinEqualTo } from './joined-streams.js';
export { CoGroupedStreams, CoGroupWithWindow, TwoStreamWhere, TwoStreamEqualTo } from './cogrouped-streams.js';
export type { CoGroupWhere, CoGroupEqualTo, TwoStreamOperation, TwoStreamWithWindow } from './cogrouped-streams.js';
export { RichJoinFunction, RichFlatJoinFunction, RichCoGroupFunction } from './join-functions.js';
export type { JoinFunction, FlatJoinFunction, CoGroupFunction, TaggedUnion } from './join-functions.js';
export { IntervalJoin, IntervalJoined, ProcessJoinFunction } from './interval-join.js';
export type { ProcessJoinContext, ProcessJoinFunctionLike, IntervalJoinConfig } from './interval-join.js';
export { DataGeneratorSource, RateLimiterStrategy, SequenceSource, ElementsSource } from './sources.js';
export type { Boundedness, GeneratorFunction, Source } from './sources.js';
export { WatermarkStrategy } from './watermark-strategy.js';
export type {
  TimestampAssigner,
  WatermarkDescriptor,
  WatermarkGeneratorSupplier,
  WatermarkKind,
} from './watermark-strategy.js';
export {
  AscendingTimestampsWatermarks,
  BoundedOutOfOrdernessWatermarks,
  NoWatermarksGenerator,
} from './watermark-generators.js';
export type { WatermarkGenerator, WatermarkOutput } from './watermark-generators.js';
export { OutputTag } from './output-tag.js';
export {
  FileSink,
  FileSinkBuilder,
  SimpleStringEncoder,
  OutputFileConfig,
  OutputFileConfigBuilder,
  DefaultRollingPolicy,
  DefaultRollingPolicyBuilder,
  OnCheckpointRollingPolicy,
  DateTimeBucketAssigner,
  BasePathBucketAssigner,
} from './file-sink.js';
export type {
  Encoder,
  OutputFileConfigLike,
  RollingPolicy,
  PartFileInfo,
  BucketAssigner,
  BucketAssignerContext,
} from './file-sink.js';
export { FileSource, FileSourceBuilder, TextLineInputFormat } from './file-source.js';
export {
  PrometheusSink,
  PrometheusSinkBuilder,
  PrometheusSinkConfiguration,
  PrometheusTimeSeries,
  PrometheusTimeSeriesBuilder,
  PrometheusLabel,
  PrometheusSample,
  PrometheusTimeSeriesLabelsAndMetricNameKeySelector,
  OnErrorBehavior,
  RetryConfiguration,
  SinkWriterErrorHandlingBehaviorConfiguration,
} from './prometheus-sink.js';
export type { PrometheusTimeSeriesLike } from './prometheus-sink.js';
export { SimpleStringSchema, JsonSerializationSchema, JsonDeserializationSchema } from './serialization-schemas.js';
export type { SerializationSchema, DeserializationSchema } from './serialization-schemas.js';
export {
  KafkaSource,
  KafkaSourceBuilder,
  OffsetsInitializer,
  OffsetResetStrategy,
  KafkaRecordDeserializationSchema,
} from './kafka-source.js';
export type { KafkaConsumerRecord } from './kafka-source.js';
export {
  KafkaSink,
  KafkaSinkBuilder,
  KafkaRecordSerializationSchema,
  KafkaRecordSerializationSchemaBuilder,
  DeliveryGuarantee,
  FlinkFixedPartitioner,
} from './kafka-sink.js';
export type { KafkaProducerRecord, KafkaPartitioner } from './kafka-sink.js';
export {
  JdbcSink,
  JdbcSinkFunction,
  JdbcExecutionOptions,
  JdbcExecutionOptionsBuilder,
  JdbcConnectionOptions,
  JdbcConnectionOptionsBuilder,
  JdbcExactlyOnceOptions,
  JdbcExactlyOnceOptionsBuilder,
} from './jdbc-sink.js';
export type { JdbcPreparedStatement, JdbcStatementBuilder, JdbcValue, JdbcUrl } from './jdbc-sink.js';
export type { AggregationKind, FieldExpression } from './aggregations.js';
export {
  AbstractRichFunction,
  RichMapFunction,
  RichFlatMapFunction,
  RichFilterFunction,
  RichSinkFunction,
  ProcessFunction,
  KeyedProcessFunction,
} from './functions.js';
export type {
  Collector,
  RuntimeContext,
  Lifecycle,
  MapFunction,
  FilterFunction,
  FlatMapFunction,
  ReduceFunction,
  KeySelector,
  SinkFunction,
  SinkContext,
  TimerService,
  ProcessContext,
  KeyedProcessContext,
  OnTimerContext,
  TimeDomain,
  ProcessFunctionLike,
  KeyedProcessFunctionLike,
} from './functions.js';
export { TimeWindow } from './windowing/time-window.js';
export { GlobalWindow } from './windowing/global-window.js';
export { TumblingEventTimeWindows, TumblingProcessingTimeWindows } from './windowing/tumbling-windows.js';
export { SlidingEventTimeWindows, SlidingProcessingTimeWindows } from './windowing/sliding-windows.js';
export {
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
  DynamicEventTimeSessionWindows,
  DynamicProcessingTimeSessionWindows,
} from './windowing/session-windows.js';
export type { SessionWindowTimeGapExtractor } from './windowing/session-windows.js';
export { GlobalWindows } from './windowing/global-windows.js';
export { EventTimeTrigger } from './windowing/event-time-trigger.js';
export { ProcessingTimeTrigger } from './windowing/processing-time-trigger.js';
export { CountTrigger } from './windowing/count-trigger.js';
export { ContinuousEventTimeTrigger } from './windowing/continuous-event-time-trigger.js';
export { PurgingTrigger } from './windowing/purging-trigger.js';
export { NeverTrigger } from './windowing/never-trigger.js';
export { CountEvictor } from './windowing/count-evictor.js';
export { WindowedStream, AllWindowedStream } from './windowing/windowed-stream.js';
export { ProcessWindowFunction, ProcessAllWindowFunction } from './windowing/window-functions.js';
export type { ProcessAllWindowFunctionLike } from './windowing/window-functions.js';
export type { Duration } from './windowing/durations.js';
export type {
  Window,
  WindowAssigner,
  WindowAssignerContext,
  MergingWindowAssigner,
  Trigger,
  TriggerContext,
  OnMergeContext,
  TriggerResult,
  TriggerState,
  Evictor,
  TimestampedValue,
  AggregateFunction,
  ProcessWindowContext,
  ProcessWindowFunctionLike,
  WindowOperatorSpec,
} from './windowing/types.js';
export { Watermark } from './watermark.js';
export { RichSourceFunction, RichParallelSourceFunction } from './source-function.js';
export type { SourceFunction, ParallelSourceFunction, SourceContext } from './source-function.js';
export { EndOfStreamTrigger } from './windowing/end-of-stream-trigger.js';
export { JobExecutionResult, JobExecutionException } from './minicluster/job-execution-result.js';
export type { JobClient } from './minicluster/job-client.js';
