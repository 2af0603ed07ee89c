// Flink's CoGroupedStreams: a.coGroup(b).where(ka).equalTo(kb).window(assigner).apply(fn). Built
// from existing operators, as Flink does: each side is mapped to a TaggedUnion, the two are
// unioned and keyed by ka or kb depending on the tag, and a keyed window's process function
// splits each window into lefts and rights. JoinedStreams reuses this with a cross product.
import { DataStream, type SingleOutputStreamOperator } from './datastream.js';
import { toKeySelectorFunction } from './function-utils.js';
import type { KeySelector } from './functions.js';
import {
  coGroupWindowFunction,
  type CoGroupFunction,
  type JoinWindowFunction,
  type TaggedUnion,
} from './join-functions.js';
import { addOperator, planOf } from './transformation.js';
import type { Duration } from './windowing/durations.js';
import type { Evictor, Trigger, Window, WindowAssigner } from './windowing/types.js';
import type { WindowedStream } from './windowing/windowed-stream.js';
import type { JoinWithWindow } from './joined-streams.js';

/** Tags one side; runs with its input's parallelism so it chains to it (Flink's Input1Tagger/Input2Tagger). */
function tagged<T, T1, T2>(input: DataStream<T>, side: 0 | 1): DataStream<TaggedUnion<T1, T2>> {
  const env = input.getExecutionEnvironment();
  const t = addOperator(planOf(env), [input.transformation], {
    kind: 'map',
    name: 'Map',
    config: {},
    userFunction: side === 0 ? (value: unknown) => ({ side: 0, value }) : (value: unknown) => ({ side: 1, value }),
    inheritsParallelism: true,
  });
  // A plain DataStream: the tagger's settings (uid, parallelism) are not the user's to change.
  return new DataStream<TaggedUnion<T1, T2>>(env, t);
}

function unionKeySelector<T1, T2, K>(key1: (v: T1) => K, key2: (v: T2) => K): (u: TaggedUnion<T1, T2>) => K {
  return (u) => (u.side === 0 ? key1(u.value) : key2(u.value));
}

/** Settings of a windowed join or coGroup, collected until apply(). */
export class WindowedCoGroupBuilder<T1, T2, K, W extends Window> {
  private triggerValue: Trigger<TaggedUnion<T1, T2>, W> | undefined;
  private evictorValue: Evictor<TaggedUnion<T1, T2>, W> | undefined;
  private lateness: Duration | undefined;

  constructor(
    private readonly first: DataStream<T1>,
    private readonly second: DataStream<T2>,
    private readonly key1: (v: T1) => K,
    private readonly key2: (v: T2) => K,
    private readonly assigner: WindowAssigner<TaggedUnion<T1, T2>, W>,
  ) {}

  setTrigger(trigger: Trigger<TaggedUnion<T1, T2>, W>): void {
    this.triggerValue = trigger;
  }

  setEvictor(evictor: Evictor<TaggedUnion<T1, T2>, W>): void {
    this.evictorValue = evictor;
  }

  setAllowedLateness(lateness: Duration): void {
    this.lateness = lateness;
  }

  /** Tag, union, keyBy, window, and the window function; `label` names the function in the window's name. */
  build<R>(windowFunction: JoinWindowFunction, label: string): SingleOutputStreamOperator<R> {
    const keyed = tagged<T1, T1, T2>(this.first, 0)
      .union(tagged<T2, T1, T2>(this.second, 1))
      .keyBy(unionKeySelector(this.key1, this.key2));
    let windowed: WindowedStream<TaggedUnion<T1, T2>, K, W> = keyed.window(this.assigner);
    if (this.triggerValue !== undefined) windowed = windowed.trigger(this.triggerValue);
    if (this.evictorValue !== undefined) windowed = windowed.evictor(this.evictorValue);
    if (this.lateness !== undefined) windowed = windowed.allowedLateness(this.lateness);
    const result = windowed.process<R>(windowFunction);
    // "Window(TumblingEventTimeWindows(1000), EventTimeTrigger(), Join)" rather than "..., Process)".
    return result.name(result.getName().replace(/Process\)$/, `${label})`));
  }
}

/** Checks the two key selectors of where()/equalTo() and returns them as plain functions. */
export function joinKeySelector<T, K>(selector: KeySelector<T, K>, api: string): (v: T) => K {
  try {
    return toKeySelectorFunction<T, K>(selector);
  } catch {
    throw new TypeError(`${api}() expects a key selector: a function or an object with getKey()`);
  }
}

/** What window() returns, per operation: Flink's JoinedStreams.WithWindow and CoGroupedStreams.WithWindow. */
export interface TwoStreamWithWindow<T1, T2, K, W extends Window> {
  join: JoinWithWindow<T1, T2, K, W>;
  coGroup: CoGroupWithWindow<T1, T2, K, W>;
}

export type TwoStreamOperation = keyof TwoStreamWithWindow<unknown, unknown, unknown, Window>;

/** Makes window()'s result around the collected settings. */
type WithWindowFactory<T1, T2, K, Op extends TwoStreamOperation> = <W extends Window>(
  builder: WindowedCoGroupBuilder<T1, T2, K, W>,
) => TwoStreamWithWindow<T1, T2, K, W>[Op];

/** where() of a join or coGroup (Flink's JoinedStreams.Where and CoGroupedStreams.Where). */
export class TwoStreamWhere<T1, T2, K, Op extends TwoStreamOperation> {
  constructor(
    private readonly first: DataStream<T1>,
    private readonly second: DataStream<T2>,
    private readonly key1: (v: T1) => K,
    private readonly withWindow: WithWindowFactory<T1, T2, K, Op>,
  ) {}

  /** The key of the second input's elements; elements with equal keys in the same window meet. */
  equalTo(keySelector: KeySelector<T2, K>): TwoStreamEqualTo<T1, T2, K, Op> {
    return new TwoStreamEqualTo<T1, T2, K, Op>(
      this.first,
      this.second,
      this.key1,
      joinKeySelector(keySelector, 'equalTo'),
      this.withWindow,
    );
  }
}

/** equalTo() of a join or coGroup (Flink's JoinedStreams.Where.EqualTo and CoGroupedStreams.Where.EqualTo). */
export class TwoStreamEqualTo<T1, T2, K, Op extends TwoStreamOperation> {
  constructor(
    private readonly first: DataStream<T1>,
    private readonly second: DataStream<T2>,
    private readonly key1: (v: T1) => K,
    private readonly key2: (v: T2) => K,
    private readonly withWindow: WithWindowFactory<T1, T2, K, Op>,
  ) {}

  window<W extends Window>(assigner: WindowAssigner<TaggedUnion<T1, T2>, W>): TwoStreamWithWindow<T1, T2, K, W>[Op] {
    return this.withWindow(new WindowedCoGroupBuilder(this.first, this.second, this.key1, this.key2, assigner));
  }
}

export type CoGroupWhere<T1, T2, K> = TwoStreamWhere<T1, T2, K, 'coGroup'>;
export type CoGroupEqualTo<T1, T2, K> = TwoStreamEqualTo<T1, T2, K, 'coGroup'>;

export class CoGroupedStreams<T1, T2> {
  constructor(
    private readonly first: DataStream<T1>,
    private readonly second: DataStream<T2>,
  ) {}

  /** The key of the first input's elements. */
  where<K>(keySelector: KeySelector<T1, K>): CoGroupWhere<T1, T2, K> {
    return new TwoStreamWhere(
      this.first,
      this.second,
      joinKeySelector(keySelector, 'where'),
      (builder) => new CoGroupWithWindow(builder),
    );
  }
}

/** The window settings joins and coGroups share (Flink's WithWindow); subclasses add apply(). */
export abstract class TwoStreamWindowSettings<T1, T2, K, W extends Window> {
  constructor(protected readonly builder: WindowedCoGroupBuilder<T1, T2, K, W>) {}

  trigger(trigger: Trigger<TaggedUnion<T1, T2>, W>): this {
    this.builder.setTrigger(trigger);
    return this;
  }

  evictor(evictor: Evictor<TaggedUnion<T1, T2>, W>): this {
    this.builder.setEvictor(evictor);
    return this;
  }

  allowedLateness(lateness: Duration): this {
    this.builder.setAllowedLateness(lateness);
    return this;
  }
}

export class CoGroupWithWindow<T1, T2, K, W extends Window> extends TwoStreamWindowSettings<T1, T2, K, W> {
  /** `fn(lefts, rights, out)` once per key and window that has elements on either side. */
  apply<R>(fn: CoGroupFunction<T1, T2, R>): SingleOutputStreamOperator<R> {
    return this.builder.build<R>(coGroupWindowFunction(fn), 'CoGroup');
  }
}
