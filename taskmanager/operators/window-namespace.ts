// Windows as plain data, for what outlives the operator's objects: timer namespaces in snapshots
// (a window's id) and the persisted MergingWindowSet of a key (flat numbers, read per element).
// Weir's windows are TimeWindow and the GlobalWindow, which both rebuild from their id.
import { GlobalWindow } from '../../api/windowing/global-window.js';
import { TimeWindow } from '../../api/windowing/time-window.js';
import type { Window } from '../../api/windowing/types.js';
import type { TimerNamespaceSerializer } from '../runtime/timer-service.js';
import type { Namespace } from '../state/types.js';
import type { MergingWindowSet } from './merging-window-set.js';

const TIME_WINDOW_ID = /^(-?\d+):(-?\d+)$/;

/** The window whose id() is `id`. */
export function windowFromId(id: Namespace): Window {
  if (id === 'global') return GlobalWindow.get();
  const m = typeof id === 'string' ? TIME_WINDOW_ID.exec(id) : null;
  if (!m)
    throw new Error(
      `cannot restore window '${String(id)}': only TimeWindow ("start:end") and GlobalWindow ("global") namespaces can be restored`,
    );
  return new TimeWindow(Number(m[1]), Number(m[2]));
}

/** Timer namespaces of window operators: the window's id. */
export const WINDOW_TIMER_NAMESPACE: TimerNamespaceSerializer<Window> = {
  serialize: (w) => w.id(),
  deserialize: windowFromId,
};

function timeWindow(w: Window): TimeWindow {
  if (!(w instanceof TimeWindow))
    throw new Error(
      `merging window assigners must produce TimeWindows to keep their in-flight windows in state, got ${w.id()}`,
    );
  return w;
}

/**
 * A key's MergingWindowSet as flat numbers: windowStart, windowEnd, stateStart, stateEnd per
 * window; written into `out` (emptied first) when given.
 */
export function encodeMergingWindows(set: MergingWindowSet<Window>, out: number[] = []): number[] {
  // Written over in place and cut to length once (emptying the array first costs a new backing store).
  let i = 0;
  set.forEachMapping((window, stateWindow) => {
    const w = timeWindow(window);
    const s = timeWindow(stateWindow);
    out[i] = w.start;
    out[i + 1] = w.end;
    out[i + 2] = s.start;
    out[i + 3] = s.end;
    i += 4;
  });
  if (out.length !== i) out.length = i;
  return out;
}

export function decodeMergingWindows(flat: readonly number[]): [Window, Window][] {
  if (flat.length % 4 !== 0)
    throw new Error(`a persisted merging window set must hold 4 numbers per window, got ${flat.length}`);
  const out: [Window, Window][] = [];
  for (let i = 0; i < flat.length; i += 4) {
    const w = new TimeWindow(flat[i]!, flat[i + 1]!);
    const s = flat[i] === flat[i + 2] && flat[i + 1] === flat[i + 3] ? w : new TimeWindow(flat[i + 2]!, flat[i + 3]!);
    out.push([w, s]);
  }
  return out;
}
