// A plain reference for a KeyedProcessFunction with event-time timers: per key, at most one timer
// per timestamp; a watermark w fires every timer <= w in timestamp order (one registered at or
// below the current watermark fires with the next rise); deleting removes a pending timer.
import { MinHeap } from './heap.js';
import { MIN_WATERMARK, type StreamEvent } from './stream.js';

export interface TimerReferenceSpec<T, K> {
  keyOf(value: T): K;
  /** What processElement does: the timers it registers and deletes, in that order. */
  onElement(value: T, timestamp: number, watermark: number): { register: number[]; delete: number[] };
  /** Output lines of onTimer for `key` at `time`, with the watermark that fired it. */
  onTimer(key: K, time: number, watermark: number): string[];
}

export function referenceTimers<T, K>(stream: readonly StreamEvent<T>[], spec: TimerReferenceSpec<T, K>): string[] {
  const out: string[] = [];
  const heap = new MinHeap<{ keyId: string; key: K; time: number }>();
  const live = new Set<string>();
  let watermark = MIN_WATERMARK;
  for (const ev of stream) {
    if (ev.kind === 'record') {
      const key = spec.keyOf(ev.value);
      const keyId = JSON.stringify(key);
      const { register, delete: del } = spec.onElement(ev.value, ev.timestamp, watermark);
      for (const time of register) {
        const id = `${keyId}\u0000${time}`;
        if (live.has(id)) continue;
        live.add(id);
        heap.push(time, { keyId, key, time });
      }
      for (const time of del) live.delete(`${keyId}\u0000${time}`);
    } else if (ev.timestamp > watermark) {
      watermark = ev.timestamp;
      while (heap.size > 0 && heap.peekPriority()! <= watermark) {
        const t = heap.pop()!.value;
        // A deleted timer (or one deleted and registered again, which is pushed anew) fires once.
        if (!live.delete(`${t.keyId}\u0000${t.time}`)) continue;
        out.push(...spec.onTimer(t.key, t.time, watermark));
      }
    }
  }
  return out;
}
