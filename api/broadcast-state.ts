// Broadcast state (Flink's MapStateDescriptor, BroadcastState, ReadOnlyBroadcastState): a map per
// descriptor name, the same in every parallel subtask because only the broadcast side writes it
// and every subtask sees every broadcast record. The non-broadcast side reads it through a view
// whose writes throw, which keeps the copies identical. The 'broadcastProcess' operator
// implements these interfaces; keys compare as Map keys (primitives by value, objects by identity).
import type { StateTtlConfig } from './state.js';

/** Names a broadcast state; the key and value types are compile-time only, as serializers are not needed. */
export class MapStateDescriptor<K, V> {
  declare private readonly __types?: [K, V];
  /** Time to live of each map entry, when keyed MapState uses this descriptor (not broadcast state). */
  ttlConfig: StateTtlConfig | undefined;

  /** Flink passes key and value type information after the name; accepted and ignored here. */
  constructor(
    readonly name: string,
    ..._typeInfo: unknown[]
  ) {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('MapStateDescriptor needs a non-empty name');
  }

  getName(): string {
    return this.name;
  }

  enableTimeToLive(config: StateTtlConfig): void {
    if (!config || typeof config !== 'object' || typeof (config as { ttlMs?: unknown }).ttlMs !== 'number') {
      throw new TypeError('enableTimeToLive() needs a StateTtlConfig (StateTtlConfig.newBuilder(ms).build())');
    }
    this.ttlConfig = config;
  }

  toString(): string {
    return `MapStateDescriptor(${this.name})`;
  }
}

export interface ReadOnlyBroadcastState<K = unknown, V = unknown> {
  get(key: K): V | undefined;
  contains(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
  /** Flink's name for entries() on the read-only view. */
  immutableEntries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  values(): IterableIterator<V>;
  size(): number;
  isEmpty(): boolean;
}

export interface BroadcastState<K = unknown, V = unknown> extends ReadOnlyBroadcastState<K, V> {
  put(key: K, value: V): void;
  putAll(entries: Iterable<[K, V]> | Map<K, V>): void;
  remove(key: K): void;
  clear(): void;
}

/** The name of a MapStateDescriptor, or of anything shaped like one; throws a TypeError naming `api`. */
export function descriptorName(descriptor: unknown, api: string): string {
  const name =
    descriptor !== null && typeof descriptor === 'object' ? (descriptor as { name?: unknown }).name : undefined;
  if (typeof name !== 'string' || name.length === 0)
    throw new TypeError(`${api} needs a MapStateDescriptor, e.g. new MapStateDescriptor('rules')`);
  return name;
}
