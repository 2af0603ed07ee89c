// The user-facing keyed state objects (ValueState, ListState, MapState, ReducingState,
// AggregatingState) over a backend's tables, and KeyedStateStoreImpl, what RuntimeContext.getState
// and its siblings call. A state object reads and writes the backend's current key.
import {
  AggregatingStateDescriptor,
  descriptorKind,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
  type AggregatingState,
  type KeyedStateStore,
  type ListState,
  type MapState,
  type ReducingState,
  type State,
  type StateKind,
  type ValueState,
} from '../../api/state.js';
import type { AggregateFunction } from '../../api/windowing/types.js';
import { AbstractKeyedState, type InternalKeyedState } from './keyed-state-base.js';
import { KeyedMapState } from './map-state.js';
import { TtlPolicy, ttlConfigOf, type StateClock } from './ttl.js';
import type { KeyedStateBackend, StateMeta, StateTable } from './types.js';

export type { InternalKeyedState } from './keyed-state-base.js';
export type { StateClock } from './ttl.js';

class KeyedValueState<T> extends AbstractKeyedState<T> implements ValueState<T> {
  constructor(
    table: StateTable,
    ttl: TtlPolicy | undefined,
    private readonly defaultValue: T | undefined,
  ) {
    super(table, ttl);
  }

  value(): T | null {
    const v = this.read(true);
    if (v !== undefined) return v;
    const d = this.defaultValue;
    if (d === undefined || d === null) return null;
    // A copy, so a caller that mutates the default does not change it for every key.
    return typeof d === 'object' ? structuredClone(d) : d;
  }

  update(value: T | null | undefined): void {
    if (value === null || value === undefined) this.clear();
    else this.write(value);
  }
}

function checkElement(value: unknown, state: string): void {
  if (value === null || value === undefined)
    throw new TypeError(`ListState '${state}': elements must not be null or undefined`);
}

class KeyedListState<T> extends AbstractKeyedState<T[]> implements ListState<T> {
  get(): T[] {
    const v = this.read(true);
    return v === undefined ? [] : v.slice();
  }

  add(value: T): void {
    checkElement(value, this.table.meta.name);
    const list = this.read(false);
    if (list === undefined) this.write([value]);
    else {
      list.push(value);
      this.write(list);
    }
  }

  addAll(values: T[]): void {
    if (values.length === 0) return;
    for (const v of values) checkElement(v, this.table.meta.name);
    const list = this.read(false);
    if (list === undefined) this.write(values.slice());
    else {
      for (const v of values) list.push(v);
      this.write(list);
    }
  }

  update(values: T[]): void {
    if (values.length === 0) {
      this.clear();
      return;
    }
    for (const v of values) checkElement(v, this.table.meta.name);
    this.write(values.slice());
  }
}

class KeyedReducingState<T> extends AbstractKeyedState<T> implements ReducingState<T> {
  constructor(
    table: StateTable,
    ttl: TtlPolicy | undefined,
    private readonly reduce: (a: T, b: T) => T,
  ) {
    super(table, ttl);
  }

  get(): T | null {
    return this.read(true) ?? null;
  }

  add(value: T): void {
    const current = this.read(false);
    this.write(current === undefined ? value : this.reduce(current, value));
  }
}

class KeyedAggregatingState<IN, ACC, OUT> extends AbstractKeyedState<ACC> implements AggregatingState<IN, OUT> {
  constructor(
    table: StateTable,
    ttl: TtlPolicy | undefined,
    private readonly fn: AggregateFunction<IN, ACC, OUT>,
  ) {
    super(table, ttl);
  }

  get(): OUT | null {
    const acc = this.read(true);
    return acc === undefined ? null : this.fn.getResult(acc);
  }

  add(value: IN): void {
    const acc = this.read(false);
    this.write(this.fn.add(value, acc === undefined ? this.fn.createAccumulator() : acc));
  }
}

type AnyDescriptor =
  | ValueStateDescriptor<unknown>
  | ListStateDescriptor<unknown>
  | MapStateDescriptor<unknown, unknown>
  | ReducingStateDescriptor<unknown>
  | AggregatingStateDescriptor<unknown, unknown, unknown>;

/** The table meta a descriptor stands for; throws for names reserved to the engine. */
export function stateMetaOf(descriptor: AnyDescriptor): StateMeta {
  const kind = descriptorKind(descriptor);
  const name = descriptor.name;
  if (name.startsWith('_'))
    throw new Error(`keyed state name '${name}' is reserved: names starting with '_' belong to the engine`);
  return ttlConfigOf(descriptor) ? { name, kind, ttl: true } : { name, kind };
}

export function createKeyedState<T>(
  backend: KeyedStateBackend,
  d: ValueStateDescriptor<T>,
  clock: StateClock,
): ValueState<T> & InternalKeyedState;
export function createKeyedState<T>(
  backend: KeyedStateBackend,
  d: ListStateDescriptor<T>,
  clock: StateClock,
): ListState<T> & InternalKeyedState;
export function createKeyedState<UK, UV>(
  backend: KeyedStateBackend,
  d: MapStateDescriptor<UK, UV>,
  clock: StateClock,
): MapState<UK, UV> & InternalKeyedState;
export function createKeyedState<T>(
  backend: KeyedStateBackend,
  d: ReducingStateDescriptor<T>,
  clock: StateClock,
): ReducingState<T> & InternalKeyedState;
export function createKeyedState<IN, ACC, OUT>(
  backend: KeyedStateBackend,
  d: AggregatingStateDescriptor<IN, ACC, OUT>,
  clock: StateClock,
): AggregatingState<IN, OUT> & InternalKeyedState;
/**
 * A state object for `descriptor` on the backend's current key, in VOID_NAMESPACE until
 * setCurrentNamespace() says otherwise. The table is the descriptor's name; asking for an existing
 * name with another kind throws.
 */
export function createKeyedState(
  backend: KeyedStateBackend,
  descriptor: AnyDescriptor,
  clock: StateClock,
): InternalKeyedState {
  return makeKeyedState(backend, descriptor, clock);
}

function makeKeyedState(backend: KeyedStateBackend, descriptor: AnyDescriptor, clock: StateClock): InternalKeyedState {
  const meta = stateMetaOf(descriptor);
  const config = ttlConfigOf(descriptor);
  const ttl = config ? new TtlPolicy(config, clock) : undefined;
  const table = backend.getTable(meta);
  switch (meta.kind) {
    case 'value':
      return new KeyedValueState(table, ttl, (descriptor as ValueStateDescriptor<unknown>).defaultValue);
    case 'list':
      return new KeyedListState(table, ttl);
    case 'map':
      return new KeyedMapState(table, ttl);
    case 'reducing': {
      const f = (descriptor as ReducingStateDescriptor<unknown>).reduceFunction;
      const reduce = typeof f === 'function' ? f : (a: unknown, b: unknown) => f.reduce(a, b);
      return new KeyedReducingState(table, ttl, reduce);
    }
    case 'aggregating':
      return new KeyedAggregatingState(
        table,
        ttl,
        (descriptor as AggregatingStateDescriptor<unknown, unknown, unknown>).aggregateFunction,
      );
    default:
      throw new TypeError(`keyed state '${meta.name}' has an unknown kind '${String(meta.kind)}'`);
  }
}

/** Flink's KeyedStateStore over one backend: state objects are made once per name and reused. */
export class KeyedStateStoreImpl implements KeyedStateStore {
  private readonly states = new Map<string, { kind: StateKind; state: State }>();

  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly clock: StateClock,
  ) {}

  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T> {
    return this.state(descriptor, 'value', 'getState') as ValueState<T>;
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.state(descriptor, 'list', 'getListState') as ListState<T>;
  }

  getMapState<UK, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV> {
    return this.state(descriptor, 'map', 'getMapState') as MapState<UK, UV>;
  }

  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.state(descriptor, 'reducing', 'getReducingState') as ReducingState<T>;
  }

  getAggregatingState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT> {
    return this.state(descriptor, 'aggregating', 'getAggregatingState') as AggregatingState<IN, OUT>;
  }

  private state(descriptor: unknown, kind: StateKind, method: string): State {
    const actual = descriptorKind(descriptor);
    if (actual !== kind)
      throw new TypeError(`${method}() needs a ${DESCRIPTOR_NAMES[kind]}, got a descriptor of ${actual} state`);
    const d = descriptor as AnyDescriptor;
    const cached = this.states.get(d.name);
    if (cached !== undefined) {
      if (cached.kind !== kind)
        throw new Error(
          `keyed state '${d.name}' was already registered as ${cached.kind} state and cannot be used as ${kind} state`,
        );
      return cached.state;
    }
    const state = makeKeyedState(this.backend, d, this.clock);
    this.states.set(d.name, { kind, state });
    return state;
  }
}

const DESCRIPTOR_NAMES: Record<StateKind, string> = {
  value: 'ValueStateDescriptor',
  list: 'ListStateDescriptor',
  map: 'MapStateDescriptor',
  reducing: 'ReducingStateDescriptor',
  aggregating: 'AggregatingStateDescriptor',
};
