// Keyed state of a WindowOperator in the operator's keyed state backend, per (key, window): the
// window contents, the triggers' partitioned state and, under merging assigners, the key's
// MergingWindowSet (persisted as plain numbers and rebuilt per element, as Flink does). The
// current key is the backend's; the operator sets it.
import type { MergingWindowAssigner, Window } from '../../api/windowing/types.js';
import { normalizeKey } from '../state/key-normalizer.js';
import {
  VOID_NAMESPACE,
  type KeyedStateBackend,
  type StateMeta,
  type StateTable,
  type TableKind,
} from '../state/types.js';
import { MergingWindowSet } from './merging-window-set.js';
import { distinctKeys, keyedEntries } from './state-inspection.js';
import { decodeMergingWindows, encodeMergingWindows } from './window-namespace.js';
import { SLICES_STATE } from './window-slicing.js';

/**
 * How state finds a window (its namespace): its start for fixed-size windows (tumbling, sliding:
 * the start alone is unique and costs no string per element), else its id().
 */
export type WindowKey = string | number;

/** Contents per (key, window); also a tumbling window's slice (window-slicing.ts). */
export const CONTENTS_STATE = '_window-contents';
const MERGING_WINDOWS_STATE: StateMeta = { name: '_merging-windows', kind: 'raw' };
const TRIGGER_STATE_PREFIX = '_trigger/';

export class WindowStateStore {
  private readonly contents: StateTable;
  private readonly mergingWindows: StateTable<number[]>;
  private readonly triggerTables = new Map<string, StateTable>();
  /**
   * Each key's live set (by normalized key), paired with the array it was read from or persisted
   * into (set.persistedIn): the set is rewritten into that same array, so while the backend hands
   * back the array stored (the heap backend does, until a snapshot makes it copy) the set is not
   * rebuilt per element. A set only changes between a get and its persist, so a set whose array is
   * the one stored equals it. Emptied sets are dropped with their state. (A map by key rather than
   * WeakMaps between set and array: those cost an ephemeron per pairing, on the per-element path
   * and in every GC.)
   */
  private readonly liveSets = new Map<unknown, MergingWindowSet<Window>>();

  /** @param contentsKind the kind of the contents: reducing, aggregating, or list (all elements) */
  constructor(
    private readonly backend: KeyedStateBackend,
    contentsKind: TableKind,
  ) {
    this.contents = backend.getTable({ name: CONTENTS_STATE, kind: contentsKind });
    this.mergingWindows = backend.getTable<number[]>(MERGING_WINDOWS_STATE);
  }

  // --- window contents ---
  getContents(windowId: WindowKey): unknown {
    return this.contents.get(windowId);
  }

  /** Stores the contents; call after every change (the level backend hands out copies). */
  setContents(windowId: WindowKey, value: unknown): void {
    this.contents.put(windowId, value);
  }

  clearContents(windowId: WindowKey): void {
    this.contents.remove(windowId);
  }

  // --- trigger state ---
  /** The table of one trigger state name (a trigger calls getPartitionedState per element: looked up once). */
  triggerTable(name: string): StateTable {
    let t = this.triggerTables.get(name);
    if (!t)
      this.triggerTables.set(name, (t = this.backend.getTable({ name: TRIGGER_STATE_PREFIX + name, kind: 'raw' })));
    return t;
  }

  getTriggerState(windowId: WindowKey, name: string): unknown {
    return this.triggerTable(name).get(windowId);
  }

  setTriggerState(windowId: WindowKey, name: string, value: unknown): void {
    this.triggerTable(name).put(windowId, value);
  }

  clearTriggerState(windowId: WindowKey, name: string): void {
    this.triggerTable(name).remove(windowId);
  }

  // --- merging window set ---
  /** The current key's in-flight windows, rebuilt from state. */
  getMergingWindows(assigner: MergingWindowAssigner<unknown, Window>): MergingWindowSet<Window> {
    const flat = this.mergingWindows.get(VOID_NAMESPACE);
    if (flat === undefined) return new MergingWindowSet<Window>(assigner);
    const nk = normalizeKey(this.backend.getCurrentKey());
    const live = this.liveSets.get(nk);
    if (live !== undefined && live.persistedIn === flat) return live;
    const set = new MergingWindowSet<Window>(assigner, decodeMergingWindows(flat));
    set.persistedIn = flat;
    this.liveSets.set(nk, set);
    return set;
  }

  /** Writes the set back when it changed; an emptied set leaves no entry. */
  persistMergingWindows(set: MergingWindowSet<Window>): void {
    if (!set.changed) return;
    set.changed = false;
    if (set.size === 0) {
      this.mergingWindows.remove(VOID_NAMESPACE);
      if (set.persistedIn !== undefined) this.liveSets.delete(normalizeKey(this.backend.getCurrentKey()));
      return;
    }
    let flat = set.persistedIn;
    if (flat === undefined) {
      flat = set.persistedIn = [];
      this.liveSets.set(normalizeKey(this.backend.getCurrentKey()), set);
    }
    encodeMergingWindows(set, flat);
    this.mergingWindows.put(VOID_NAMESPACE, flat);
  }

  // --- size: these read the whole state, for tests ---
  private isWindowState(name: string): boolean {
    return (
      name === CONTENTS_STATE ||
      name === SLICES_STATE ||
      name === MERGING_WINDOWS_STATE.name ||
      name.startsWith(TRIGGER_STATE_PREFIX)
    );
  }

  /** Keys with any window state. */
  async numKeys(): Promise<number> {
    return distinctKeys(await keyedEntries(this.backend, (name) => this.isWindowState(name)));
  }

  /** Windows with contents (slices, for sliced sliding windows), over all keys. */
  async numWindows(): Promise<number> {
    let n = 0;
    for (const e of await keyedEntries(this.backend, (name) => name === CONTENTS_STATE || name === SLICES_STATE)) {
      n += e[0] === SLICES_STATE ? (e[3] as unknown[]).length / 2 : 1;
    }
    return n;
  }

  /** Windows with trigger state, over all keys. */
  async numTriggerStates(): Promise<number> {
    const entries = await keyedEntries(this.backend, (name) => name.startsWith(TRIGGER_STATE_PREFIX));
    return new Set(entries.map((e) => JSON.stringify([e[1], e[2]]))).size;
  }
}
