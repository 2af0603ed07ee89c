// A plain reference for keyed event-time windows: one loop over the stream a window operator
// sees (records and watermarks in order), applying Flink's rules with an EventTimeTrigger:
//  - a window is late when maxTimestamp + allowedLateness <= watermark; an element goes to no late
//    window, and to the late-data output when it went to no window at all and
//    timestamp + allowedLateness <= watermark;
//  - a window fires when the watermark reaches its maxTimestamp, and again for every element that
//    arrives later but within the allowed lateness (with all its elements); its state is dropped
//    when the watermark reaches maxTimestamp + allowedLateness;
//  - session windows merge when they intersect (touching included), as Flink's MergingWindowSet.
import { MinHeap } from './heap.js';
import { MAX_WATERMARK, MIN_WATERMARK, type StreamEvent } from './stream.js';

export interface RefWindow {
  start: number;
  end: number;
}

export type RefAssigner =
  | { kind: 'tumbling'; size: number; offset?: number }
  | { kind: 'sliding'; size: number; slide: number; offset?: number }
  | { kind: 'session'; gap: number };

export interface WindowReferenceSpec<T, K> {
  assigner: RefAssigner;
  allowedLateness: number;
  keyOf(value: T): K;
  /** Output lines of one firing: the window's elements in arrival order, at watermark `watermark`. */
  fire(key: K, window: RefWindow, elements: readonly T[], watermark: number): string[];
}

export interface WindowReferenceResult<T> {
  /** Lines of every firing, in firing order. */
  fired: string[];
  /** Elements for the late-data side output, in arrival order. */
  late: T[];
  /** Elements dropped from some late window but kept in another (sliding windows). */
  droppedFromLateWindows: number;
  firings: number;
  lateFirings: number;
}

function windowStart(timestamp: number, offset: number, size: number): number {
  return timestamp - ((((timestamp - offset) % size) + size) % size);
}

export function assignWindows(assigner: RefAssigner, timestamp: number): RefWindow[] {
  switch (assigner.kind) {
    case 'tumbling': {
      const start = windowStart(timestamp, assigner.offset ?? 0, assigner.size);
      return [{ start, end: start + assigner.size }];
    }
    case 'sliding': {
      const out: RefWindow[] = [];
      const last = windowStart(timestamp, assigner.offset ?? 0, assigner.slide);
      for (let start = last; start > timestamp - assigner.size; start -= assigner.slide)
        out.push({ start, end: start + assigner.size });
      return out;
    }
    case 'session':
      return [{ start: timestamp, end: timestamp + assigner.gap }];
  }
}

const idOf = (w: RefWindow): string => `${w.start}:${w.end}`;
const maxTimestamp = (w: RefWindow): number => w.end - 1;

interface WindowState<T> {
  window: RefWindow;
  elements: T[];
}

interface KeyState<K, T> {
  key: K;
  windows: Map<string, WindowState<T>>;
}

interface Timer {
  keyId: string;
  windowId: string;
  time: number;
}

export function referenceWindows<T, K>(
  stream: readonly StreamEvent<T>[],
  spec: WindowReferenceSpec<T, K>,
): WindowReferenceResult<T> {
  const { assigner, allowedLateness } = spec;
  const keys = new Map<string, KeyState<K, T>>();
  const timers = new MinHeap<Timer>();
  const liveTimers = new Set<string>();
  const result: WindowReferenceResult<T> = {
    fired: [],
    late: [],
    droppedFromLateWindows: 0,
    firings: 0,
    lateFirings: 0,
  };
  let watermark = MIN_WATERMARK;

  const cleanupTime = (w: RefWindow): number => Math.min(maxTimestamp(w) + allowedLateness, MAX_WATERMARK);
  const isWindowLate = (w: RefWindow): boolean => cleanupTime(w) <= watermark;
  const timerId = (keyId: string, windowId: string, time: number): string => `${keyId}\u0000${windowId}\u0000${time}`;

  const registerTimer = (keyId: string, w: RefWindow, time: number): void => {
    const id = timerId(keyId, idOf(w), time);
    if (liveTimers.has(id)) return;
    liveTimers.add(id);
    timers.push(time, { keyId, windowId: idOf(w), time });
  };
  const deleteTimer = (keyId: string, w: RefWindow, time: number): void => {
    liveTimers.delete(timerId(keyId, idOf(w), time));
  };

  const emit = (ks: KeyState<K, T>, state: WindowState<T>, late: boolean): void => {
    if (state.elements.length === 0) return;
    result.firings++;
    if (late) result.lateFirings++;
    for (const line of spec.fire(ks.key, state.window, state.elements, watermark)) result.fired.push(line);
  };

  /** EventTimeTrigger.onElement, then the cleanup timer. */
  const onElementInWindow = (ks: KeyState<K, T>, keyId: string, state: WindowState<T>): void => {
    const w = state.window;
    if (maxTimestamp(w) <= watermark) emit(ks, state, true);
    else registerTimer(keyId, w, maxTimestamp(w));
    registerTimer(keyId, w, cleanupTime(w));
  };

  const addToSession = (ks: KeyState<K, T>, keyId: string, value: T, timestamp: number): boolean => {
    const fresh = assignWindows(assigner, timestamp)[0]!;
    // MergingWindowSet.addWindow: merge the new window with every window it (transitively) intersects.
    const existing = [...ks.windows.values()].sort(
      (a, b) => a.window.start - b.window.start || a.window.end - b.window.end,
    );
    const merged: WindowState<T>[] = [];
    let cover = { ...fresh };
    let changed = true;
    while (changed) {
      changed = false;
      for (const s of existing) {
        if (merged.includes(s)) continue;
        if (cover.start <= s.window.end && cover.end >= s.window.start) {
          merged.push(s);
          cover = { start: Math.min(cover.start, s.window.start), end: Math.max(cover.end, s.window.end) };
          changed = true;
        }
      }
    }
    let target: WindowState<T>;
    if (merged.length === 0) {
      target = { window: fresh, elements: [] };
      ks.windows.set(idOf(fresh), target);
    } else if (merged.length === 1 && idOf(merged[0]!.window) === idOf(cover)) {
      // The new window lies inside an existing one: nothing merges.
      target = merged[0]!;
    } else {
      if (cover.end - 1 + allowedLateness <= watermark)
        throw new Error(`reference: merging produced a late window ${idOf(cover)}`);
      target = { window: cover, elements: [] };
      for (const s of merged) {
        ks.windows.delete(idOf(s.window));
        deleteTimer(keyId, s.window, maxTimestamp(s.window));
        deleteTimer(keyId, s.window, cleanupTime(s.window));
        target.elements.push(...s.elements);
      }
      ks.windows.set(idOf(cover), target);
      // EventTimeTrigger.onMerge.
      if (maxTimestamp(cover) > watermark) registerTimer(keyId, cover, maxTimestamp(cover));
    }
    if (isWindowLate(target.window)) {
      ks.windows.delete(idOf(target.window));
      return false;
    }
    target.elements.push(value);
    onElementInWindow(ks, keyId, target);
    return true;
  };

  const onRecord = (value: T, timestamp: number): void => {
    const key = spec.keyOf(value);
    const keyId = JSON.stringify(key);
    let ks = keys.get(keyId);
    if (!ks) keys.set(keyId, (ks = { key, windows: new Map() }));
    let skipped = true;
    if (assigner.kind === 'session') {
      skipped = !addToSession(ks, keyId, value, timestamp);
    } else {
      let lateWindows = 0;
      for (const w of assignWindows(assigner, timestamp)) {
        if (isWindowLate(w)) {
          lateWindows++;
          continue;
        }
        skipped = false;
        let state = ks.windows.get(idOf(w));
        if (!state) ks.windows.set(idOf(w), (state = { window: w, elements: [] }));
        state.elements.push(value);
        onElementInWindow(ks, keyId, state);
      }
      if (!skipped && lateWindows > 0) result.droppedFromLateWindows++;
    }
    if (skipped && timestamp + allowedLateness <= watermark) result.late.push(value);
  };

  const onWatermark = (wm: number): void => {
    if (wm <= watermark) return;
    watermark = wm;
    while (timers.size > 0 && timers.peekPriority()! <= watermark) {
      const { value: t } = timers.pop()!;
      const id = timerId(t.keyId, t.windowId, t.time);
      if (!liveTimers.delete(id)) continue;
      const ks = keys.get(t.keyId)!;
      const state = ks.windows.get(t.windowId);
      if (!state) continue;
      if (t.time === maxTimestamp(state.window)) emit(ks, state, false);
      if (t.time === cleanupTime(state.window)) {
        ks.windows.delete(t.windowId);
        deleteTimer(t.keyId, state.window, maxTimestamp(state.window));
      }
    }
  };

  for (const ev of stream) {
    if (ev.kind === 'record') onRecord(ev.value, ev.timestamp);
    else onWatermark(ev.timestamp);
  }
  return result;
}
