// Flink's BroadcastStream (stream.broadcast(descriptors)) and BroadcastConnectedStream
// (other.connect(broadcastStream)): the 'broadcastProcess' operator, whose input 2 arrives through
// a 'broadcast' edge and fills the named broadcast states. Keyed when input 1 is a KeyedStream.
import {
  KeyedBroadcastProcessFunction,
  type BroadcastProcessFunctionLike,
  type KeyedBroadcastProcessFunctionLike,
} from './broadcast-functions.js';
import { descriptorName, type MapStateDescriptor } from './broadcast-state.js';
import type { StreamExecutionEnvironment } from './environment.js';
import { DataStream, keyPartitionOf, type SingleOutputStreamOperator } from './datastream.js';
import { checkFunctionObject } from './function-utils.js';
import type { Transformation } from './transformation.js';
import { addTwoInputOperator } from './two-input.js';

export class BroadcastStream<T> {
  declare private readonly __type?: T;
  /** The broadcast state names, in the order given. */
  readonly stateNames: readonly string[];

  constructor(
    readonly environment: StreamExecutionEnvironment,
    /** The 'broadcast' partition in front of the consumer. */
    readonly transformation: Transformation,
    readonly descriptors: readonly MapStateDescriptor<unknown, unknown>[],
  ) {
    const names = descriptors.map((d) => descriptorName(d, 'broadcast()'));
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new Error(`broadcast() got the MapStateDescriptor '${dup}' twice`);
    this.stateNames = names;
  }

  getBroadcastStateDescriptors(): readonly MapStateDescriptor<unknown, unknown>[] {
    return this.descriptors;
  }
}

export class BroadcastConnectedStream<IN1, IN2> {
  constructor(
    private readonly first: DataStream<IN1>,
    private readonly broadcastStream: BroadcastStream<IN2>,
  ) {}

  getFirstInput(): DataStream<IN1> {
    return this.first;
  }

  getSecondInput(): BroadcastStream<IN2> {
    return this.broadcastStream;
  }

  /**
   * A BroadcastProcessFunction, or with a keyed first input a KeyedBroadcastProcessFunction
   * (per-key state, timers, getCurrentKey() in processElement and onTimer).
   */
  process<R, K = unknown>(
    fn: BroadcastProcessFunctionLike<IN1, IN2, R> | KeyedBroadcastProcessFunctionLike<K, IN1, IN2, R>,
  ): SingleOutputStreamOperator<R> {
    checkFunctionObject(fn, ['processElement', 'processBroadcastElement'], 'process');
    const keyedBy = keyPartitionOf(this.first);
    if (fn instanceof KeyedBroadcastProcessFunction && !keyedBy) {
      throw new Error(
        'a KeyedBroadcastProcessFunction needs a keyed first input: a.keyBy(k).connect(b.broadcast(descriptor))',
      );
    }
    const env = this.broadcastStream.environment;
    const second = new DataStream<IN2>(env, this.broadcastStream.transformation);
    return addTwoInputOperator<R, IN1, IN2>(this.first, second, {
      kind: 'broadcastProcess',
      name: keyedBy ? 'Co-Process-Broadcast-Keyed' : 'Co-Process-Broadcast',
      config: { broadcastStates: [...this.broadcastStream.stateNames] },
      userFunction: fn,
      keyedBy,
      // Broadcast state is operator state: checkpointed, so an upgrade needs the uid.
      stateful: true,
    });
  }
}
