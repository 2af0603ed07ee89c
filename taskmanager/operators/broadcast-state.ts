// Broadcast state of a broadcast-process operator: one map per state descriptor name, kept in the
// operator state backend (mode 'broadcast'), which snapshots and restores it. Only the broadcast
// side writes it; every parallel instance receives every broadcast element in the same order per
// producer, so all instances hold the same state. The non-broadcast side reads it through a view
// whose writes throw, as Flink's ReadOnlyBroadcastState.
//
// Keys compare as JavaScript Map keys: primitives by value, objects by identity. The views are the
// API's BroadcastState and ReadOnlyBroadcastState.
import type { BroadcastState, ReadOnlyBroadcastState } from '../../api/broadcast-state.js';

/** Anything naming a broadcast state (the API's MapStateDescriptor). */
export interface BroadcastStateDescriptorLike {
  readonly name: string;
}

const READ_ONLY = 'broadcast state is read-only on the non-broadcast side';

function readOnly(): never {
  throw new Error(READ_ONLY);
}

function views(map: Map<unknown, unknown>): { writable: BroadcastState; readOnly: ReadOnlyBroadcastState } {
  const reads: ReadOnlyBroadcastState = {
    get: (k) => map.get(k),
    contains: (k) => map.has(k),
    entries: () => map.entries(),
    immutableEntries: () => map.entries(),
    keys: () => map.keys(),
    values: () => map.values(),
    size: () => map.size,
    isEmpty: () => map.size === 0,
  };
  const writable: BroadcastState = {
    ...reads,
    put: (k, v) => void map.set(k, v),
    putAll: (entries) => {
      for (const [k, v] of entries) map.set(k, v);
    },
    remove: (k) => void map.delete(k),
    clear: () => map.clear(),
  };
  // Writes fail loudly rather than being absent, so a rules engine that updates rules from the
  // wrong side learns why.
  const readOnlyView = {
    ...reads,
    put: readOnly,
    putAll: readOnly,
    remove: readOnly,
    clear: readOnly,
  } as ReadOnlyBroadcastState;
  return { writable, readOnly: readOnlyView };
}

export class BroadcastStates {
  private readonly names: readonly string[];
  private readonly maps = new Map<string, Map<unknown, unknown>>();
  private readonly writableViews = new Map<string, BroadcastState>();
  private readonly readOnlyViews = new Map<string, ReadOnlyBroadcastState>();

  constructor(
    names: readonly string[],
    private readonly operatorName: string,
  ) {
    this.names = [...new Set(names)];
  }

  /** Takes each declared state's map from the operator state backend (restored ones hold their entries). */
  attach(getBroadcastState: (name: string) => Map<unknown, unknown>): void {
    for (const name of this.names) {
      const map = getBroadcastState(name);
      const v = views(map);
      this.maps.set(name, map);
      this.writableViews.set(name, v.writable);
      this.readOnlyViews.set(name, v.readOnly);
    }
  }

  writable(descriptor: BroadcastStateDescriptorLike): BroadcastState {
    return this.lookup(this.writableViews, descriptor);
  }

  readOnly(descriptor: BroadcastStateDescriptorLike): ReadOnlyBroadcastState {
    return this.lookup(this.readOnlyViews, descriptor);
  }

  private lookup<T>(views: Map<string, T>, descriptor: BroadcastStateDescriptorLike): T {
    const name = descriptor !== null && typeof descriptor === 'object' ? descriptor.name : undefined;
    if (typeof name !== 'string')
      throw new TypeError(`operator '${this.operatorName}': getBroadcastState() needs a state descriptor with a name`);
    const v = views.get(name);
    if (!v) {
      if (this.names.includes(name)) {
        throw new Error(
          `operator '${this.operatorName}': broadcast state '${name}' is not initialized yet (the task calls initializeState() before records flow)`,
        );
      }
      const known = this.names.map((n) => `'${n}'`).join(', ') || 'none';
      throw new Error(
        `operator '${this.operatorName}': no broadcast state '${name}' (declared: ${known}); pass its descriptor to broadcast(...)`,
      );
    }
    return v;
  }

  /** Entries per state name, in insertion order: for snapshots and tests. */
  snapshot(): Record<string, [unknown, unknown][]> {
    const out: Record<string, [unknown, unknown][]> = {};
    for (const [name, map] of this.maps) out[name] = [...map.entries()];
    return out;
  }

  /** Total entries over all states. */
  size(): number {
    let n = 0;
    for (const m of this.maps.values()) n += m.size;
    return n;
  }
}
