// Flink's CountEvictor: keeps only the last `maxCount` elements of a window, before the window
// function runs (or after it, with doEvictAfter).
import type { Evictor, TimestampedValue, Window } from './types.js';

type EvictorContext = { getCurrentWatermark(): number };

export class CountEvictor implements Evictor<unknown, Window> {
  private constructor(
    readonly maxCount: number,
    readonly doEvictAfter: boolean,
  ) {}

  static of(maxCount: number, doEvictAfter = false): CountEvictor {
    if (!Number.isSafeInteger(maxCount) || maxCount < 1)
      throw new RangeError(`CountEvictor.of() needs a positive integer, got ${String(maxCount)}`);
    return new CountEvictor(maxCount, doEvictAfter === true);
  }

  evictBefore<T>(
    elements: TimestampedValue<T>[],
    size: number,
    _window?: Window,
    _ctx?: EvictorContext,
  ): TimestampedValue<T>[] {
    return this.doEvictAfter ? elements : this.evict(elements, size);
  }

  evictAfter<T>(
    elements: TimestampedValue<T>[],
    size: number,
    _window?: Window,
    _ctx?: EvictorContext,
  ): TimestampedValue<T>[] {
    return this.doEvictAfter ? this.evict(elements, size) : elements;
  }

  private evict<T>(elements: TimestampedValue<T>[], size: number): TimestampedValue<T>[] {
    const n = Math.min(size, elements.length);
    if (n <= this.maxCount) return elements;
    return elements.slice(n - this.maxCount);
  }

  describe(): Record<string, unknown> {
    return { kind: 'count', maxCount: this.maxCount, doEvictAfter: this.doEvictAfter };
  }

  toString(): string {
    return `CountEvictor(${this.maxCount})`;
  }
}
