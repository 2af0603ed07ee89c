// The context a Trigger sees: timers and partitioned state scoped to the current key (set on the
// WindowOperator) and the window being evaluated. One instance is reused by moving `window`.
import type { OnMergeContext, Trigger, TriggerResult, TriggerState, Window } from '../../api/windowing/types.js';
import type { InternalTimerService } from '../runtime/timer-service.js';
import type { WindowKey, WindowStateStore } from './window-state.js';

export class WindowTriggerContext implements OnMergeContext {
  window!: Window;
  /** Windows whose state onMerge folds into `window`. */
  mergedWindows: Window[] = [];
  /** The operator's window state, set once its state is initialized. */
  state!: WindowStateStore;

  constructor(
    private readonly trigger: Trigger<unknown, Window>,
    private readonly timers: InternalTimerService<Window>,
    private readonly windowKey: (w: Window) => WindowKey,
  ) {}

  // --- calls into the trigger for the current window ---
  onElement(value: unknown, timestamp: number | undefined): TriggerResult {
    return this.trigger.onElement(value, timestamp, this.window, this);
  }

  onEventTime(time: number): TriggerResult {
    return this.trigger.onEventTime(time, this.window, this);
  }

  onProcessingTime(time: number): TriggerResult {
    return this.trigger.onProcessingTime(time, this.window, this);
  }

  onMerge(mergedWindows: Window[]): void {
    this.mergedWindows = mergedWindows;
    try {
      this.trigger.onMerge(this.window, this);
    } finally {
      this.mergedWindows = [];
    }
  }

  clear(): void {
    this.trigger.clear(this.window, this);
  }

  // --- TriggerContext ---
  getCurrentProcessingTime(): number {
    return this.timers.currentProcessingTime();
  }

  getCurrentWatermark(): number {
    return this.timers.currentWatermark();
  }

  registerEventTimeTimer(time: number): void {
    this.timers.registerEventTimeTimer(this.window, time);
  }

  deleteEventTimeTimer(time: number): void {
    this.timers.deleteEventTimeTimer(this.window, time);
  }

  registerProcessingTimeTimer(time: number): void {
    this.timers.registerProcessingTimeTimer(this.window, time);
  }

  deleteProcessingTimeTimer(time: number): void {
    this.timers.deleteProcessingTimeTimer(this.window, time);
  }

  getPartitionedState<V>(name: string): TriggerState<V> {
    // Bound to the window at the time of the call, like Flink's per-namespace state.
    const id = this.windowKey(this.window);
    const table = this.state.triggerTable(name);
    return {
      value: () => table.get(id) as V | undefined,
      // Values must be plain data: the backend snapshots them.
      update: (value: V) => table.put(id, value),
      clear: () => table.remove(id),
    };
  }

  mergePartitionedState<V>(name: string, merge: (a: V, b: V) => V): void {
    const targetId = this.windowKey(this.window);
    let acc: V | undefined;
    const seen = new Set<WindowKey>();
    for (const w of [...this.mergedWindows, this.window]) {
      const id = this.windowKey(w);
      if (seen.has(id)) continue;
      seen.add(id);
      const v = this.state.getTriggerState(id, name) as V | undefined;
      if (v === undefined) continue;
      this.state.clearTriggerState(id, name);
      acc = acc === undefined ? v : merge(acc, v);
    }
    if (acc !== undefined) this.state.setTriggerState(targetId, name, acc);
  }
}
