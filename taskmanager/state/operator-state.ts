// Non-keyed state of one operator subtask (Flink's DefaultOperatorStateBackend): list state that
// is split over the new subtasks on rescaling, union list state that every subtask gets whole,
// and the engine's broadcast state (a map, the same in every subtask). Operator state is small, so
// snapshots are synchronous deep copies.
import type { ListState, ListStateDescriptor, OperatorStateStore } from '../../api/state.js';
import type { OperatorStateEntry, OperatorStateMode } from './types.js';

const MODE_API: Record<OperatorStateMode, string> = {
  split: 'getListState()',
  union: 'getUnionListState()',
  broadcast: 'getBroadcastMap()',
};

class OperatorListState<T> implements ListState<T> {
  constructor(
    readonly name: string,
    public items: T[],
  ) {}

  get(): T[] {
    return this.items.slice();
  }

  add(value: T): void {
    if (value === null || value === undefined)
      throw new TypeError(`operator ListState '${this.name}': elements must not be null or undefined`);
    this.items.push(value);
  }

  addAll(values: T[]): void {
    for (const v of values) this.add(v);
  }

  update(values: T[]): void {
    this.items = [];
    this.addAll(values);
  }

  clear(): void {
    this.items = [];
  }
}

type Registered =
  { mode: 'split' | 'union'; list: OperatorListState<unknown> } | { mode: 'broadcast'; map: Map<unknown, unknown> };

export class OperatorStateBackend implements OperatorStateStore {
  private readonly states = new Map<string, Registered>();
  /** Restored states not asked for yet; kept in later snapshots so they are not lost. */
  private readonly restored = new Map<string, OperatorStateEntry>();
  private wasRestored = false;

  /** Puts back restored (already redistributed) entries; before any state is asked for. */
  restore(entries: OperatorStateEntry[]): void {
    if (this.states.size > 0) throw new Error('operator state must be restored before any state is registered');
    for (const e of entries) {
      if (!e || typeof e.name !== 'string' || !Array.isArray(e.items) || !(e.mode in MODE_API)) {
        throw new Error(
          `restored operator state ${JSON.stringify(e?.name)} is malformed (expected { name, mode: split | union | broadcast, items: [] })`,
        );
      }
      this.restored.set(e.name, e);
    }
    this.wasRestored = true;
  }

  isRestored(): boolean {
    return this.wasRestored;
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.list(descriptor.name, 'split') as ListState<T>;
  }

  getUnionListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.list(descriptor.name, 'union') as ListState<T>;
  }

  /** Broadcast state of the engine's broadcast operators: a live map, written into every snapshot. */
  getBroadcastMap(name: string): Map<unknown, unknown> {
    const existing = this.states.get(name);
    if (existing !== undefined) {
      if (existing.mode !== 'broadcast') throw this.modeError(name, existing.mode, 'broadcast');
      return existing.map;
    }
    const map = new Map<unknown, unknown>();
    for (const item of this.takeRestored(name, 'broadcast')) {
      if (!Array.isArray(item) || item.length !== 2)
        throw new Error(`restored broadcast state '${name}' holds an item that is not a [key, value] pair`);
      map.set(item[0], item[1]);
    }
    this.states.set(name, { mode: 'broadcast', map });
    return map;
  }

  private list(name: string, mode: 'split' | 'union'): OperatorListState<unknown> {
    const existing = this.states.get(name);
    if (existing !== undefined) {
      if (existing.mode !== mode) throw this.modeError(name, existing.mode, mode);
      return existing.list;
    }
    const list = new OperatorListState<unknown>(name, this.takeRestored(name, mode));
    this.states.set(name, { mode, list });
    return list;
  }

  private takeRestored(name: string, mode: OperatorStateMode): unknown[] {
    const r = this.restored.get(name);
    if (r === undefined) return [];
    if (r.mode !== mode) {
      throw new Error(
        `operator state '${name}' was checkpointed with ${MODE_API[r.mode]} and cannot be restored with ${MODE_API[mode]}: its redistribution mode differs`,
      );
    }
    this.restored.delete(name);
    return r.items.slice();
  }

  private modeError(name: string, was: OperatorStateMode, now: OperatorStateMode): Error {
    return new Error(
      `operator state '${name}' is registered with ${MODE_API[was]} and cannot be used with ${MODE_API[now]}`,
    );
  }

  /** Deep copies of every state (and of restored states nobody asked for). */
  snapshot(): OperatorStateEntry[] {
    const out: OperatorStateEntry[] = [];
    for (const [name, s] of this.states) {
      if (s.mode === 'broadcast') out.push({ name, mode: 'broadcast', items: structuredClone([...s.map]) });
      else out.push({ name, mode: s.mode, items: structuredClone(s.list.items) });
    }
    for (const r of this.restored.values()) out.push(structuredClone(r));
    return out;
  }
}

/**
 * The operator state new subtask `newIndex` of `newParallelism` starts with, from the snapshots of
 * every old subtask (in subtask order; [] for a subtask without state). Split list state: the old
 * items concatenated, new subtask i gets the contiguous share [floor(i*n/p), floor((i+1)*n/p));
 * union: all items; broadcast: the copy of old subtask min(i, old - 1) (all copies are equal).
 */
export function redistributeOperatorState(
  oldSubtasks: OperatorStateEntry[][],
  newParallelism: number,
  newIndex: number,
): OperatorStateEntry[] {
  if (!Number.isInteger(newParallelism) || newParallelism < 1)
    throw new RangeError(`parallelism must be a positive integer, got ${String(newParallelism)}`);
  if (!Number.isInteger(newIndex) || newIndex < 0 || newIndex >= newParallelism)
    throw new RangeError(`subtask index ${String(newIndex)} is outside 0..${newParallelism - 1}`);
  const byName = new Map<string, { mode: OperatorStateMode; perSubtask: Array<unknown[] | undefined> }>();
  oldSubtasks.forEach((entries, subtask) => {
    for (const e of entries) {
      let s = byName.get(e.name);
      if (s === undefined) byName.set(e.name, (s = { mode: e.mode, perSubtask: new Array(oldSubtasks.length) }));
      else if (s.mode !== e.mode)
        throw new Error(`operator state '${e.name}' has mode ${s.mode} in one old subtask and ${e.mode} in another`);
      s.perSubtask[subtask] = e.items;
    }
  });
  const out: OperatorStateEntry[] = [];
  for (const [name, s] of byName) {
    if (s.mode === 'broadcast') {
      let copy = s.perSubtask[Math.min(newIndex, oldSubtasks.length - 1)];
      copy ??= s.perSubtask.find((items) => items !== undefined) ?? [];
      out.push({ name, mode: 'broadcast', items: copy.slice() });
      continue;
    }
    const all: unknown[] = [];
    for (const items of s.perSubtask) if (items) for (const item of items) all.push(item);
    if (s.mode === 'union') {
      out.push({ name, mode: 'union', items: all });
    } else {
      const n = all.length;
      out.push({
        name,
        mode: 'split',
        items: all.slice(
          Math.floor((newIndex * n) / newParallelism),
          Math.floor(((newIndex + 1) * n) / newParallelism),
        ),
      });
    }
  }
  return out;
}
