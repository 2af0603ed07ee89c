// The harnesses a job's author tests with, named after Flink's operator test harnesses. Each one
// builds its function into a pipeline with the normal API, so the operator under test is the one a
// job would run (ProcessOperator, CoProcessOperator, WindowOperator, ...), with its real state
// backend and timer service.
import type { CoProcessFunctionLike, KeyedCoProcessFunctionLike } from '../../api/co-functions.js';
import type { DataStream } from '../../api/datastream.js';
import type { StreamExecutionEnvironment } from '../../api/environment.js';
import type { KeyedProcessFunctionLike, KeySelector, ProcessFunctionLike } from '../../api/functions.js';
import type { Watermark } from '../../api/watermark.js';
import { StreamHarness, type HarnessOptions } from './stream-harness.js';

/** A harness with one input (Flink's OneInputStreamOperatorTestHarness). */
abstract class OneInput<IN, OUT> extends StreamHarness<OUT> {
  /** Feeds a record, with its event timestamp when it has one. */
  processElement(value: IN, timestamp?: number): void {
    this.input(0, value, timestamp);
  }

  processElements(records: Iterable<{ value: IN; timestamp?: number }>): void {
    for (const r of records) this.input(0, r.value, r.timestamp);
  }

  /** Event time reached `mark`: event-time timers and windows up to it fire, then the watermark goes on. */
  processWatermark(mark: number | Watermark): void {
    this.inputWatermark(0, mark);
  }
}

/** A harness with two inputs (Flink's TwoInputStreamOperatorTestHarness). */
abstract class TwoInput<IN1, IN2, OUT> extends StreamHarness<OUT> {
  processElement1(value: IN1, timestamp?: number): void {
    this.input(0, value, timestamp);
  }

  processElement2(value: IN2, timestamp?: number): void {
    this.input(1, value, timestamp);
  }

  /** The watermark of input 1; the operator's event time is the smaller of both inputs' watermarks. */
  processWatermark1(mark: number | Watermark): void {
    this.inputWatermark(0, mark);
  }

  processWatermark2(mark: number | Watermark): void {
    this.inputWatermark(1, mark);
  }

  /** The same watermark on both inputs. */
  processWatermark(mark: number | Watermark): void {
    this.inputWatermark(0, mark);
    this.inputWatermark(1, mark);
  }
}

/** A ProcessFunction on a non-keyed stream: `input.process(fn)`. */
export class OneInputHarness<IN, OUT> extends OneInput<IN, OUT> {
  constructor(fn: ProcessFunctionLike<IN, OUT>, options?: HarnessOptions) {
    super((_env, [input]) => (input as DataStream<IN>).process(fn) as DataStream<unknown>, 1, options);
  }
}

/** A KeyedProcessFunction (keyed state, timers): `input.keyBy(keySelector).process(fn)`. */
export class KeyedOneInputHarness<K, IN, OUT> extends OneInput<IN, OUT> {
  constructor(fn: KeyedProcessFunctionLike<K, IN, OUT>, keySelector: KeySelector<IN, K>, options?: HarnessOptions) {
    super(
      (_env, [input]) => (input as DataStream<IN>).keyBy(keySelector).process(fn) as DataStream<unknown>,
      1,
      options,
    );
  }
}

/** A CoProcessFunction on two non-keyed streams: `a.connect(b).process(fn)`. */
export class TwoInputHarness<IN1, IN2, OUT> extends TwoInput<IN1, IN2, OUT> {
  constructor(fn: CoProcessFunctionLike<IN1, IN2, OUT>, options?: HarnessOptions) {
    super(
      (_env, [a, b]) => (a as DataStream<IN1>).connect(b as DataStream<IN2>).process(fn) as DataStream<unknown>,
      2,
      options,
    );
  }
}

/** A KeyedCoProcessFunction: `a.connect(b).keyBy(key1, key2).process(fn)`. */
export class KeyedTwoInputHarness<K, IN1, IN2, OUT> extends TwoInput<IN1, IN2, OUT> {
  constructor(
    fn: KeyedCoProcessFunctionLike<K, IN1, IN2, OUT>,
    key1: KeySelector<IN1, K>,
    key2: KeySelector<IN2, K>,
    options?: HarnessOptions,
  ) {
    super(
      (_env, [a, b]) =>
        (a as DataStream<IN1>)
          .connect(b as DataStream<IN2>)
          .keyBy(key1, key2)
          .process(fn) as DataStream<unknown>,
      2,
      options,
    );
  }
}

/**
 * A pipeline written with the normal API on one input stream, such as a windowed stream:
 * `new PipelineHarness((s) => s.keyBy(k).window(TumblingEventTimeWindows.of(1000)).reduce(f))`.
 * Every operator of it runs, chained as in one task.
 */
export class PipelineHarness<IN, OUT> extends OneInput<IN, OUT> {
  constructor(pipeline: (input: DataStream<IN>) => DataStream<OUT> | DataStream<OUT>[], options?: HarnessOptions) {
    super(
      (_env, [input]) => pipeline(input as DataStream<IN>) as DataStream<unknown> | DataStream<unknown>[],
      1,
      options,
    );
  }
}

/** A pipeline on two input streams: `new TwoInputPipelineHarness((a, b) => a.join(b)...)`. */
export class TwoInputPipelineHarness<IN1, IN2, OUT> extends TwoInput<IN1, IN2, OUT> {
  constructor(
    pipeline: (input1: DataStream<IN1>, input2: DataStream<IN2>) => DataStream<OUT> | DataStream<OUT>[],
    options?: HarnessOptions,
  ) {
    super(
      (_env, [a, b]) =>
        pipeline(a as DataStream<IN1>, b as DataStream<IN2>) as DataStream<unknown> | DataStream<unknown>[],
      2,
      options,
    );
  }
}

/**
 * A pipeline that reads its own sources (env.addSource(fn), fromElements, ...):
 * `new SourceHarness((env) => env.addSource(new MySource()))`, then `await run()`. Sources run
 * through the TaskManager's source readers; a snapshot between runs holds their positions.
 */
export class SourceHarness<OUT> extends StreamHarness<OUT> {
  constructor(
    pipeline: (env: StreamExecutionEnvironment) => DataStream<OUT> | DataStream<OUT>[],
    options?: HarnessOptions,
  ) {
    super((env) => pipeline(env) as DataStream<unknown> | DataStream<unknown>[], 0, options);
  }

  /**
   * Reads the sources until they end (then the maximum watermark follows, as at the end of a
   * task's source) or until `maxRecords` records were read; returns how many were read.
   */
  run(maxRecords?: number): Promise<number> {
    return this.runSources(maxRecords);
  }
}
