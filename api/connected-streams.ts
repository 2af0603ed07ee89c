// Flink's ConnectedStreams: two streams, possibly of different types, feeding one two-input
// operator. Keyed when both inputs are KeyedStreams (a.keyBy(k).connect(b.keyBy(k)), or
// connect(b).keyBy(k1, k2)): then both edges are hash-partitioned and the operator gets the two
// key selectors as config.keyRef1/keyRef2, so per-key state and timers line up across inputs.
import {
  KeyedCoProcessFunction,
  type CoFlatMapFunction,
  type CoMapFunction,
  type CoProcessFunctionLike,
  type KeyedCoProcessFunctionLike,
} from './co-functions.js';
import { keyPartitionOf, type DataStream, type SingleOutputStreamOperator } from './datastream.js';
import { checkFunctionObject } from './function-utils.js';
import type { KeySelector } from './functions.js';
import type { OperatorSpec } from './transformation.js';
import { addTwoInputOperator } from './two-input.js';

export class ConnectedStreams<IN1, IN2> {
  constructor(
    private readonly first: DataStream<IN1>,
    private readonly second: DataStream<IN2>,
  ) {}

  getFirstInput(): DataStream<IN1> {
    return this.first;
  }

  getSecondInput(): DataStream<IN2> {
    return this.second;
  }

  /** Both inputs are KeyedStreams. */
  isKeyed(): boolean {
    return keyPartitionOf(this.first) !== undefined && keyPartitionOf(this.second) !== undefined;
  }

  /** Keys input 1 by `key1` and input 2 by `key2`; equal keys meet in the same subtask. */
  keyBy<K>(key1: KeySelector<IN1, K>, key2: KeySelector<IN2, K>): ConnectedStreams<IN1, IN2> {
    return new ConnectedStreams<IN1, IN2>(this.first.keyBy(key1), this.second.keyBy(key2));
  }

  private twoInput<R>(spec: OperatorSpec, fn: unknown): SingleOutputStreamOperator<R> {
    const keyed = this.isKeyed();
    return addTwoInputOperator<R, IN1, IN2>(this.first, this.second, {
      ...spec,
      keyedBy: keyed ? keyPartitionOf(this.first) : undefined,
      keyedBy2: keyed ? keyPartitionOf(this.second) : undefined,
      // As for one-input operators: a function object on keyed inputs may use keyed state.
      mayHoldState: spec.stateful === true || (keyed && fn !== null && typeof fn === 'object'),
    });
  }

  /** map1 for records of input 1, map2 for input 2; one record out per record in. */
  map<R>(coMapper: CoMapFunction<IN1, IN2, R>): SingleOutputStreamOperator<R> {
    checkFunctionObject(coMapper, ['map1', 'map2'], 'map');
    return this.twoInput<R>({ kind: 'coMap', name: 'Co-Map', config: {}, userFunction: coMapper }, coMapper);
  }

  flatMap<R>(coFlatMapper: CoFlatMapFunction<IN1, IN2, R>): SingleOutputStreamOperator<R> {
    checkFunctionObject(coFlatMapper, ['flatMap1', 'flatMap2'], 'flatMap');
    return this.twoInput<R>(
      { kind: 'coFlatMap', name: 'Co-Flat Map', config: {}, userFunction: coFlatMapper },
      coFlatMapper,
    );
  }

  /**
   * A CoProcessFunction, or on keyed inputs a KeyedCoProcessFunction (timers, getCurrentKey(),
   * keyed state). Side outputs through ctx.output(tag, v) and getSideOutput(tag) on the result.
   */
  process<R, K = unknown>(
    fn: CoProcessFunctionLike<IN1, IN2, R> | KeyedCoProcessFunctionLike<K, IN1, IN2, R>,
  ): SingleOutputStreamOperator<R> {
    checkFunctionObject(fn, ['processElement1', 'processElement2'], 'process');
    const keyed = this.isKeyed();
    if (fn instanceof KeyedCoProcessFunction && !keyed) {
      throw new Error(
        'a KeyedCoProcessFunction needs keyed inputs: a.keyBy(k1).connect(b.keyBy(k2)) or a.connect(b).keyBy(k1, k2)',
      );
    }
    return this.twoInput<R>(
      {
        kind: 'coProcess',
        name: keyed ? 'Co-Keyed-Process' : 'Co-Process',
        config: {},
        userFunction: fn,
        stateful: keyed,
      },
      fn,
    );
  }
}
