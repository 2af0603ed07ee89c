// Flink's MergingWindowSet: the in-flight windows of one key under a merging (session) assigner.
// Each window maps to a "state window", the namespace its contents actually live under. When
// windows merge, the result takes over the state window of one of them, so only the others'
// contents need moving, and a window that keeps growing never copies its own contents. As in
// Flink, the set is rebuilt from the key's state for each element and persisted after changes.
import type { MergingWindowAssigner, Window } from '../../api/windowing/types.js';

/**
 * Called for each merge: `mergeResult` replaces `mergedWindows`; the contents of
 * `mergedStateWindows` must be merged into `stateWindowResult`.
 */
export type MergeFunction<W extends Window> = (
  mergeResult: W,
  mergedWindows: W[],
  stateWindowResult: W,
  mergedStateWindows: W[],
) => void;

export class MergingWindowSet<W extends Window> {
  /** window id -> [window, its state window] */
  private readonly mapping = new Map<string, { window: W; stateWindow: W }>();
  /** Whether the mapping changed since it was built or last persisted. */
  changed = false;
  /** The array the set was read from or last persisted into (window-state.ts keeps them paired). */
  persistedIn: number[] | undefined = undefined;

  /** @param restored (window, state window) pairs, as mappings() returned them */
  constructor(
    private readonly assigner: MergingWindowAssigner<unknown, W>,
    restored?: Iterable<readonly [W, W]>,
  ) {
    if (restored) for (const [window, stateWindow] of restored) this.mapping.set(window.id(), { window, stateWindow });
  }

  /** Visits every (window, state window) pair, to persist the set. */
  forEachMapping(visit: (window: W, stateWindow: W) => void): void {
    for (const e of this.mapping.values()) visit(e.window, e.stateWindow);
  }

  get size(): number {
    return this.mapping.size;
  }

  windows(): W[] {
    return [...this.mapping.values()].map((e) => e.window);
  }

  /** The namespace holding `window`'s contents, or undefined when the window is not in flight. */
  getStateWindow(window: W): W | undefined {
    return this.mapping.get(window.id())?.stateWindow;
  }

  /** Forgets a window that was purged for good (cleanup) or dropped as late. */
  retireWindow(window: W): void {
    if (!this.mapping.delete(window.id())) throw new Error(`window ${window.id()} is not in the in-flight window set`);
    this.changed = true;
  }

  /**
   * Adds `newWindow`, merging it with in-flight windows as the assigner decides, and returns the
   * window it ended up in (itself, or the merge result that absorbed it).
   */
  addWindow(newWindow: W, mergeFunction: MergeFunction<W>): W {
    const newId = newWindow.id();
    // In-flight windows never intersect one another, so a window already in flight changes nothing.
    const existing = this.mapping.get(newId);
    if (existing) return existing.window;
    this.changed = true;
    const windows = this.windows();
    windows.push(newWindow);
    const groups: { result: W; toMerge: W[] }[] = [];
    this.assigner.mergeWindows(windows, (toMerge, result) => {
      // A group of one is no merge (assigners may or may not report those).
      if (toMerge.length > 1) groups.push({ result, toMerge: [...toMerge] });
    });

    let resultWindow = newWindow;
    let mergedNewWindow = false;
    for (const { result, toMerge } of groups) {
      const i = toMerge.findIndex((w) => w.id() === newId);
      if (i >= 0) {
        toMerge.splice(i, 1);
        mergedNewWindow = true;
        resultWindow = result;
      }
      // The new window has no state of its own, so the result reuses an existing window's state window.
      const target = this.mapping.get(toMerge[0]!.id())!.stateWindow;
      const mergedStateWindows: W[] = [];
      for (const w of toMerge) {
        const e = this.mapping.get(w.id());
        if (e) {
          this.mapping.delete(w.id());
          if (e.stateWindow.id() !== target.id()) mergedStateWindows.push(e.stateWindow);
        }
      }
      this.mapping.set(result.id(), { window: result, stateWindow: target });
      // Absorbing the new window into one existing window without growing it is no merge at all.
      if (!(toMerge.length === 1 && toMerge[0]!.id() === result.id())) {
        mergeFunction(result, toMerge, target, mergedStateWindows);
      }
    }
    if (!mergedNewWindow) this.mapping.set(newId, { window: newWindow, stateWindow: newWindow });
    return resultWindow;
  }
}
