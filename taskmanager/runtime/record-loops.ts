// The per-record loops of an input buffer, synchronous and apart from the task's input loop. The
// input loop is an async function full of rarely taken paths (events, barriers, mail); with the
// record loops inside it, each new path deoptimized them and V8 compiled the whole loop again
// (about 50 ms of a core each time, several times a task), and every job starts on a fresh thread.
// A loop returns to the task whenever there is something to await.
import type { StreamOperator, TaskServices, TwoInputStreamOperator } from '../operators/operator.js';

/** Longest a task keeps the event loop before yielding, in milliseconds. */
export const TIME_SLICE_MS = 4;

/**
 * Runs records `from`.. of a buffer through `head`. Stops after a record that leaves user work
 * pending, or at which the slice is over (the clock is read when `(i & clockMask) === 0`), or at the
 * end. Returns the index of the next record.
 */
export function runRecords(
  head: StreamOperator,
  values: unknown[],
  timestamps: (number | undefined)[] | null,
  from: number,
  clockMask: number,
  sliceStart: number,
  services: TaskServices,
): number {
  const n = values.length;
  if (timestamps === null) {
    for (let i = from; i < n; i++) {
      head.processElement(values[i], undefined);
      if (services.pending !== undefined || sliceOverAt(i, clockMask, sliceStart)) return i + 1;
    }
  } else {
    for (let i = from; i < n; i++) {
      head.processElement(values[i], timestamps[i]);
      if (services.pending !== undefined || sliceOverAt(i, clockMask, sliceStart)) return i + 1;
    }
  }
  return n;
}

/** runRecords for a two-input operator: the buffer's records are all of its first or all of its second input. */
export function runRecordsOfTwoInputs(
  head: TwoInputStreamOperator,
  first: boolean,
  values: unknown[],
  timestamps: (number | undefined)[] | null,
  from: number,
  clockMask: number,
  sliceStart: number,
  services: TaskServices,
): number {
  const n = values.length;
  for (let i = from; i < n; i++) {
    const t = timestamps === null ? undefined : timestamps[i];
    if (first) head.processElement1(values[i], t);
    else head.processElement2(values[i], t);
    if (services.pending !== undefined || sliceOverAt(i, clockMask, sliceStart)) return i + 1;
  }
  return n;
}

/** Whether the slice is over after record `i`: the clock is read only when `(i & clockMask) === 0`. */
export function sliceOverAt(i: number, clockMask: number, sliceStart: number): boolean {
  return (i & clockMask) === 0 && performance.now() - sliceStart >= TIME_SLICE_MS;
}
