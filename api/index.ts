// The job API a bundle imports as 'weir', named after Flink's DataStream API.
export { StreamExecutionEnvironment, ExecutionConfig } from './environment.js';
export { DataStream, KeyedStream } from './datastream.js';
export { DataStreamSink } from './datastream-sink.js';
export { DataGeneratorSource, RateLimiterStrategy, SequenceSource, ElementsSource } from './sources.js';
export type { Boundedness, GeneratorFunction, Source } from './sources.js';
export { WatermarkStrategy } from './watermark-strategy.js';
export type { TimestampAssigner, WatermarkDescriptor, WatermarkKind } from './watermark-strategy.js';
export { FileSink, FileSinkBuilder, SimpleStringEncoder } from './file-sink.js';
export type { Encoder, OutputFileConfig } from './file-sink.js';
export type { AggregationKind, FieldExpression } from './aggregations.js';
export {
  AbstractRichFunction, RichMapFunction, RichFlatMapFunction, RichFilterFunction, RichSinkFunction, ProcessFunction, KeyedProcessFunction,
} from './functions.js';
export type {
  Collector, RuntimeContext, Lifecycle, MapFunction, FilterFunction, FlatMapFunction, ReduceFunction, KeySelector, SinkFunction, SinkContext,
  TimerService, ProcessContext, KeyedProcessContext, OnTimerContext, TimeDomain, ProcessFunctionLike, KeyedProcessFunctionLike,
} from './functions.js';
