// Flink's state API: descriptors name a state and its kind; a keyed function gets the state of
// the current key from its RuntimeContext (getState, getListState, ...), a CheckpointedFunction
// gets operator (non-keyed) list state from its OperatorStateStore. State values are plain data
// (whatever msgpack carries): they are written to checkpoints and restored into any backend.
import { MapStateDescriptor } from './broadcast-state.js';
import type { AggregateFunction } from './windowing/types.js';

export { MapStateDescriptor };

export type StateKind = 'value' | 'list' | 'map' | 'reducing' | 'aggregating';

export interface State {
  /** Removes the value of the current key. */
  clear(): void;
}

export interface ValueState<T> extends State {
  /** The current key's value, the descriptor's default, or null. */
  value(): T | null;
  /** Sets the current key's value; null or undefined clears it. */
  update(value: T | null | undefined): void;
}

export interface AppendingState<IN, OUT> extends State {
  get(): OUT | null;
  add(value: IN): void;
}

export interface ListState<T> extends State {
  /** The current key's elements in insertion order ([] when none). */
  get(): T[];
  add(value: T): void;
  addAll(values: T[]): void;
  /** Replaces the elements. */
  update(values: T[]): void;
}

export type ReducingState<T> = AppendingState<T, T>;
export type AggregatingState<IN, OUT> = AppendingState<IN, OUT>;

export interface MapState<UK, UV> extends State {
  get(key: UK): UV | null;
  put(key: UK, value: UV): void;
  putAll(entries: Map<UK, UV> | Iterable<[UK, UV]>): void;
  remove(key: UK): void;
  contains(key: UK): boolean;
  entries(): IterableIterator<[UK, UV]>;
  keys(): IterableIterator<UK>;
  values(): IterableIterator<UV>;
  isEmpty(): boolean;
}

/** When an entry's time to live starts again (Flink's StateTtlConfig.UpdateType). */
export type TtlUpdateType = 'OnCreateAndWrite' | 'OnReadAndWrite';
/** Whether an expired entry that was not cleaned up yet may still be read. */
export type TtlStateVisibility = 'NeverReturnExpired' | 'ReturnExpiredIfNotCleanedUp';

/** Time to live of state entries, in processing time (Flink's StateTtlConfig). */
export class StateTtlConfig {
  static readonly UpdateType = { OnCreateAndWrite: 'OnCreateAndWrite', OnReadAndWrite: 'OnReadAndWrite' } as const;
  static readonly StateVisibility = {
    NeverReturnExpired: 'NeverReturnExpired',
    ReturnExpiredIfNotCleanedUp: 'ReturnExpiredIfNotCleanedUp',
  } as const;

  private constructor(
    readonly ttlMs: number,
    readonly updateType: TtlUpdateType,
    readonly stateVisibility: TtlStateVisibility,
  ) {}

  /** `ttl` in milliseconds, or an object with toMilliseconds() (Flink's Time/Duration). */
  static newBuilder(ttl: number | { toMilliseconds(): number }): StateTtlConfigBuilder {
    const ms = typeof ttl === 'number' ? ttl : ttl.toMilliseconds();
    if (!Number.isFinite(ms) || ms <= 0)
      throw new RangeError(`state TTL must be a positive number of milliseconds, got ${String(ms)}`);
    return new StateTtlConfigBuilder(ms, (u, v) => new StateTtlConfig(ms, u, v));
  }
}

export class StateTtlConfigBuilder {
  private updateType: TtlUpdateType = 'OnCreateAndWrite';
  private visibility: TtlStateVisibility = 'NeverReturnExpired';

  constructor(
    readonly ttlMs: number,
    private readonly make: (u: TtlUpdateType, v: TtlStateVisibility) => StateTtlConfig,
  ) {}

  setUpdateType(type: TtlUpdateType): this {
    this.updateType = type;
    return this;
  }

  updateTtlOnCreateAndWrite(): this {
    return this.setUpdateType('OnCreateAndWrite');
  }

  updateTtlOnReadAndWrite(): this {
    return this.setUpdateType('OnReadAndWrite');
  }

  setStateVisibility(visibility: TtlStateVisibility): this {
    this.visibility = visibility;
    return this;
  }

  neverReturnExpired(): this {
    return this.setStateVisibility('NeverReturnExpired');
  }

  returnExpiredIfNotCleanedUp(): this {
    return this.setStateVisibility('ReturnExpiredIfNotCleanedUp');
  }

  build(): StateTtlConfig {
    return this.make(this.updateType, this.visibility);
  }
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`${what} needs a non-empty name`);
  return name;
}

/** Names one state and says what kind it is; type information arguments are accepted and ignored. */
export abstract class StateDescriptor<T = unknown> {
  declare private readonly __type?: T;
  abstract readonly kind: StateKind;
  ttlConfig: StateTtlConfig | undefined;

  constructor(readonly name: string) {
    checkName(name, new.target.name);
  }

  getName(): string {
    return this.name;
  }

  enableTimeToLive(config: StateTtlConfig): void {
    if (!(config instanceof StateTtlConfig))
      throw new TypeError('enableTimeToLive() needs a StateTtlConfig (StateTtlConfig.newBuilder(ms).build())');
    this.ttlConfig = config;
  }
}

export class ValueStateDescriptor<T> extends StateDescriptor<T> {
  readonly kind = 'value' as const;
  /** Flink's deprecated default value: what value() returns while the key has none. */
  constructor(
    name: string,
    readonly defaultValue?: T,
    ..._typeInfo: unknown[]
  ) {
    super(name);
  }
}

export class ListStateDescriptor<T> extends StateDescriptor<T[]> {
  readonly kind = 'list' as const;
  constructor(name: string, ..._typeInfo: unknown[]) {
    super(name);
  }
}

export type ReduceFunctionLike<T> = ((a: T, b: T) => T) | { reduce(a: T, b: T): T };

export class ReducingStateDescriptor<T> extends StateDescriptor<T> {
  readonly kind = 'reducing' as const;
  constructor(
    name: string,
    readonly reduceFunction: ReduceFunctionLike<T>,
    ..._typeInfo: unknown[]
  ) {
    super(name);
    if (
      typeof reduceFunction !== 'function' &&
      typeof (reduceFunction as { reduce?: unknown })?.reduce !== 'function'
    ) {
      throw new TypeError('ReducingStateDescriptor needs a reduce function');
    }
  }
}

export class AggregatingStateDescriptor<IN, ACC, OUT> extends StateDescriptor<ACC> {
  declare private readonly __io?: [IN, OUT];
  readonly kind = 'aggregating' as const;
  constructor(
    name: string,
    readonly aggregateFunction: AggregateFunction<IN, ACC, OUT>,
    ..._typeInfo: unknown[]
  ) {
    super(name);
    const f = aggregateFunction as Partial<AggregateFunction<IN, ACC, OUT>> | undefined;
    if (
      !f ||
      typeof f.createAccumulator !== 'function' ||
      typeof f.add !== 'function' ||
      typeof f.getResult !== 'function'
    ) {
      throw new TypeError('AggregatingStateDescriptor needs an AggregateFunction (createAccumulator, add, getResult)');
    }
  }
}

/** The kind of a descriptor, including the MapStateDescriptor shared with broadcast state. */
export function descriptorKind(d: unknown): StateKind {
  if (d instanceof StateDescriptor) return d.kind;
  if (d instanceof MapStateDescriptor) return 'map';
  throw new TypeError(
    'expected a state descriptor (ValueStateDescriptor, ListStateDescriptor, MapStateDescriptor, ReducingStateDescriptor, AggregatingStateDescriptor)',
  );
}

/** Keyed state of the current key (Flink's KeyedStateStore; RuntimeContext has the same methods). */
export interface KeyedStateStore {
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  getMapState<UK, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV>;
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>;
  getAggregatingState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT>;
}

/**
 * Non-keyed state of one operator subtask (Flink's OperatorStateStore). On restore with another
 * parallelism, list state is split evenly over the new subtasks; union list state gives every
 * subtask all elements.
 */
export interface OperatorStateStore {
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  getUnionListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
}

export interface FunctionInitializationContext {
  /** True when the subtask starts from a checkpoint or savepoint. */
  isRestored(): boolean;
  getOperatorStateStore(): OperatorStateStore;
  /** Keyed state, for functions of keyed streams (throws otherwise). */
  getKeyedStateStore(): KeyedStateStore;
}

export interface FunctionSnapshotContext {
  getCheckpointId(): number;
  getCheckpointTimestamp(): number;
}

/** A function that keeps its own operator state (Flink's CheckpointedFunction). */
export interface CheckpointedFunction {
  /** Called at every checkpoint barrier: copy what the function holds into its operator state. */
  snapshotState(context: FunctionSnapshotContext): void | Promise<void>;
  /** Called before open(): get the state handles and, when restored, read them. */
  initializeState(context: FunctionInitializationContext): void | Promise<void>;
}

/** Told when a checkpoint completed (all tasks acknowledged) or was aborted (Flink's CheckpointListener). */
export interface CheckpointListener {
  notifyCheckpointComplete(checkpointId: number): void | Promise<void>;
  notifyCheckpointAborted?(checkpointId: number): void | Promise<void>;
}
