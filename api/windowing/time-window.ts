// Flink's TimeWindow: the half-open interval [start, end) of event or processing time.
import type { Window } from './types.js';

export class TimeWindow implements Window {
  /** Computed once (state and timers look windows up by id per element); #private, so it never shows when a window is serialized. */
  #id: string | undefined;

  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  maxTimestamp(): number {
    return this.end - 1;
  }

  id(): string {
    return (this.#id ??= `${this.start}:${this.end}`);
  }

  equals(other: TimeWindow): boolean {
    return this.start === other.start && this.end === other.end;
  }

  /** Touching counts: [0, 5) and [5, 10) intersect, so adjacent sessions merge, as in Flink. */
  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start;
  }

  /** The smallest window containing both. */
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end));
  }

  toString(): string {
    return `TimeWindow{start=${this.start}, end=${this.end}}`;
  }

  /** Start of the window of `size` (shifted by `offset`) containing `timestamp`; exact for negative timestamps too. */
  static getWindowStartWithOffset(timestamp: number, offset: number, size: number): number {
    return timestamp - ((((timestamp - offset) % size) + size) % size);
  }

  /**
   * Flink's TimeWindow.mergeWindows: sorts by start, merges each run of intersecting windows and
   * calls `merge` for every run of more than one window.
   */
  static mergeWindows(
    windows: readonly TimeWindow[],
    merge: (toMerge: TimeWindow[], mergeResult: TimeWindow) => void,
  ): void {
    const sorted = [...windows].sort((a, b) => a.start - b.start || a.end - b.end);
    let cover: TimeWindow | undefined;
    let group = new Map<string, TimeWindow>();
    const flush = (): void => {
      if (cover && group.size > 1) merge([...group.values()], cover);
    };
    for (const w of sorted) {
      if (cover && cover.intersects(w)) {
        cover = cover.cover(w);
      } else {
        flush();
        cover = w;
        group = new Map();
      }
      group.set(w.id(), w);
    }
    flush();
  }
}
