// Flink's JoinedStreams: a.join(b).where(ka).equalTo(kb).window(assigner).apply(fn), an inner join
// per key and window. It is a coGroup (see cogrouped-streams.ts) whose function emits the cross
// product lefts × rights of each window, so it runs on the ordinary keyed window operator.
import type { DataStream, SingleOutputStreamOperator } from './datastream.js';
import type { KeySelector } from './functions.js';
import { joinKeySelector, TwoStreamWindowSettings, WindowedCoGroupBuilder } from './cogrouped-streams.js';
import { joinWindowFunction, type FlatJoinFunction, type JoinFunction, type TaggedUnion } from './join-functions.js';
import type { Window, WindowAssigner } from './windowing/types.js';

export class JoinedStreams<T1, T2> {
  constructor(
    private readonly first: DataStream<T1>,
    private readonly second: DataStream<T2>,
  ) {}

  /** The key of the first input's elements. */
  where<K>(keySelector: KeySelector<T1, K>): JoinWhere<T1, T2, K> {
    return new JoinWhere<T1, T2, K>(this.first, this.second, joinKeySelector(keySelector, 'where'));
  }
}

export class JoinWhere<T1, T2, K> {
  constructor(
    private readonly first: DataStream<T1>,
    private readonly second: DataStream<T2>,
    private readonly key1: (v: T1) => K,
  ) {}

  /** The key of the second input's elements; pairs with equal keys in the same window join. */
  equalTo(keySelector: KeySelector<T2, K>): JoinEqualTo<T1, T2, K> {
    return new JoinEqualTo<T1, T2, K>(this.first, this.second, this.key1, joinKeySelector(keySelector, 'equalTo'));
  }
}

export class JoinEqualTo<T1, T2, K> {
  constructor(
    private readonly first: DataStream<T1>,
    private readonly second: DataStream<T2>,
    private readonly key1: (v: T1) => K,
    private readonly key2: (v: T2) => K,
  ) {}

  window<W extends Window>(assigner: WindowAssigner<TaggedUnion<T1, T2>, W>): JoinWithWindow<T1, T2, K, W> {
    return new JoinWithWindow<T1, T2, K, W>(
      new WindowedCoGroupBuilder(this.first, this.second, this.key1, this.key2, assigner),
    );
  }
}

export class JoinWithWindow<T1, T2, K, W extends Window> extends TwoStreamWindowSettings<T1, T2, K, W> {
  /**
   * Calls fn once per pair (left, right) with equal keys in the same window, lefts × rights in
   * nested-loop order. `(left, right) => result` (or `{ join(left, right) }`) is a JoinFunction:
   * its return value is emitted. A function or join() method that declares a third parameter,
   * `(left, right, out) => ...`, is a FlatJoinFunction and emits through `out` instead (so do not
   * give such a function a default or rest parameter in third place).
   */
  apply<R>(fn: JoinFunction<T1, T2, R>): SingleOutputStreamOperator<R>;
  apply<R>(fn: FlatJoinFunction<T1, T2, R>): SingleOutputStreamOperator<R>;
  apply<R>(fn: JoinFunction<T1, T2, R> | FlatJoinFunction<T1, T2, R>): SingleOutputStreamOperator<R> {
    return this.builder.build<R>(joinWindowFunction(fn), 'Join');
  }
}
