// Keyed state of a WindowOperator, per (key, window): the window contents, the triggers'
// partitioned state and, under merging assigners, the key's MergingWindowSet. All access goes
// through this class against a current key, so a keyed-state backend can replace the maps.
import type { Window } from '../../api/windowing/types.js';
import type { MergingWindowSet } from './merging-window-set.js';

/**
 * How state finds a window: its start for fixed-size windows (tumbling, sliding: the start alone is
 * unique and costs no string per element), else its id().
 */
export type WindowKey = string | number;

interface KeyEntry {
  /** window key -> contents (reduced value, accumulator, or element list) */
  contents: Map<WindowKey, unknown>;
  /** window key -> state name -> value */
  triggerState: Map<WindowKey, Map<string, unknown>>;
  mergingWindows: MergingWindowSet<Window> | undefined;
}

/** Map key of a record key: primitives as they are, structured keys by value. */
function stateKey(key: unknown): unknown {
  return typeof key === 'object' && key !== null ? `\u0000j${JSON.stringify(key)}` : key;
}

export class WindowStateStore {
  private readonly keys = new Map<unknown, KeyEntry>();
  private currentKey: unknown;
  private current: KeyEntry | undefined;

  setCurrentKey(key: unknown): void {
    this.currentKey = stateKey(key);
    this.current = this.keys.get(this.currentKey);
  }

  private entry(): KeyEntry {
    if (this.current) return this.current;
    const e: KeyEntry = { contents: new Map(), triggerState: new Map(), mergingWindows: undefined };
    this.keys.set(this.currentKey, e);
    this.current = e;
    return e;
  }

  /** Drops the current key's entry once nothing is left in it. */
  private release(): void {
    const e = this.current;
    if (e && e.contents.size === 0 && e.triggerState.size === 0 && (e.mergingWindows === undefined || e.mergingWindows.size === 0)) {
      this.keys.delete(this.currentKey);
      this.current = undefined;
    }
  }

  // --- window contents ---
  getContents(windowId: WindowKey): unknown {
    return this.current?.contents.get(windowId);
  }

  setContents(windowId: WindowKey, value: unknown): void {
    this.entry().contents.set(windowId, value);
  }

  clearContents(windowId: WindowKey): void {
    if (this.current?.contents.delete(windowId)) this.release();
  }

  // --- trigger state ---
  getTriggerState(windowId: WindowKey, name: string): unknown {
    return this.current?.triggerState.get(windowId)?.get(name);
  }

  setTriggerState(windowId: WindowKey, name: string, value: unknown): void {
    const e = this.entry();
    let m = e.triggerState.get(windowId);
    if (!m) e.triggerState.set(windowId, (m = new Map()));
    m.set(name, value);
  }

  clearTriggerState(windowId: WindowKey, name: string): void {
    const m = this.current?.triggerState.get(windowId);
    if (!m || !m.delete(name)) return;
    if (m.size === 0) {
      this.current!.triggerState.delete(windowId);
      this.release();
    }
  }

  // --- merging window set ---
  getMergingWindows(create: () => MergingWindowSet<Window>): MergingWindowSet<Window> {
    const e = this.entry();
    return (e.mergingWindows ??= create());
  }

  /** Call after changing the current key's MergingWindowSet, so an emptied key is dropped. */
  persistMergingWindows(): void {
    this.release();
  }

  // --- size, for tests and metrics ---
  get numKeys(): number {
    return this.keys.size;
  }

  /** Windows with contents, over all keys. */
  numWindows(): number {
    let n = 0;
    for (const e of this.keys.values()) n += e.contents.size;
    return n;
  }

  /** Windows with trigger state, over all keys. */
  numTriggerStates(): number {
    let n = 0;
    for (const e of this.keys.values()) n += e.triggerState.size;
    return n;
  }
}
