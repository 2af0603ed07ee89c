// Flink's JoinedStreams: a.join(b).where(ka).equalTo(kb).window(assigner).apply(fn), an inner join
// per key and window. It is a coGroup (see cogrouped-streams.ts) whose function emits the cross
// product lefts × rights of each window, so it runs on the ordinary keyed window operator.
import type { DataStream, SingleOutputStreamOperator } from './datastream.js';
import type { KeySelector } from './functions.js';
import {
  joinKeySelector,
  TwoStreamWhere,
  TwoStreamWindowSettings,
  type TwoStreamEqualTo,
} from './cogrouped-streams.js';
import { joinWindowFunction, type FlatJoinFunction, type JoinFunction } from './join-functions.js';
import type { Window } from './windowing/types.js';

export type JoinWhere<T1, T2, K> = TwoStreamWhere<T1, T2, K, 'join'>;
export type JoinEqualTo<T1, T2, K> = TwoStreamEqualTo<T1, T2, K, 'join'>;

export class JoinedStreams<T1, T2> {
  constructor(
    private readonly first: DataStream<T1>,
    private readonly second: DataStream<T2>,
  ) {}

  /** The key of the first input's elements. */
  where<K>(keySelector: KeySelector<T1, K>): JoinWhere<T1, T2, K> {
    return new TwoStreamWhere(
      this.first,
      this.second,
      joinKeySelector(keySelector, 'where'),
      (builder) => new JoinWithWindow(builder),
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
