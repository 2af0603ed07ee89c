// The per-record loops of an input buffer return to the task exactly when it has something to
// await: after a record that left user work pending, after a record at which the slice is over,
// or at the buffer's end; the task resumes them from the index they return.
import { describe, expect, it } from 'vitest';
import type { StreamOperator, TaskServices, TwoInputStreamOperator } from '../../taskmanager/operators/operator.js';
import { runRecords, runRecordsOfTwoInputs, TIME_SLICE_MS } from '../../taskmanager/runtime/record-loops.js';

type Seen = [input: number, value: unknown, timestamp: number | undefined];

function fakeServices(): TaskServices {
  return { pending: undefined } as unknown as TaskServices;
}

/** A head that records what it processes and runs `onRecord` after each record. */
function fakeHead(seen: Seen[], onRecord: (value: unknown) => void = () => undefined) {
  const record = (input: number) => (value: unknown, timestamp: number | undefined) => {
    seen.push([input, value, timestamp]);
    onRecord(value);
  };
  return {
    one: { processElement: record(0) } as unknown as StreamOperator,
    two: { processElement1: record(1), processElement2: record(2) } as unknown as TwoInputStreamOperator,
  };
}

describe('record loops', () => {
  it('run a whole buffer with its timestamps, or none, and return its length', () => {
    const seen: Seen[] = [];
    const { one } = fakeHead(seen);
    const services = fakeServices();
    const now = performance.now();
    expect(runRecords(one, ['a', 'b', 'c'], null, 0, 255, now, services)).toBe(3);
    expect(runRecords(one, ['d', 'e'], [10, undefined], 0, 255, now, services)).toBe(2);
    expect(seen).toEqual([
      [0, 'a', undefined],
      [0, 'b', undefined],
      [0, 'c', undefined],
      [0, 'd', 10],
      [0, 'e', undefined],
    ]);
  });

  it('stop after a record that leaves user work pending, and resume from the next', () => {
    const seen: Seen[] = [];
    const services = fakeServices();
    const { one } = fakeHead(seen, (v) => {
      if (v === 'b') services.pending = Promise.resolve();
    });
    const values = ['a', 'b', 'c', 'd'];
    const now = performance.now();
    const next = runRecords(one, values, null, 0, 255, now, services);
    expect(next).toBe(2);
    expect(seen.map((s) => s[1])).toEqual(['a', 'b']);
    services.pending = undefined; // the task drained it
    expect(runRecords(one, values, null, next, 255, now, services)).toBe(4);
    expect(seen.map((s) => s[1])).toEqual(['a', 'b', 'c', 'd']);
  });

  it('stop once the slice is over, reading the clock only where the mask allows', () => {
    const seen: Seen[] = [];
    const { one } = fakeHead(seen);
    const services = fakeServices();
    const values = Array.from({ length: 10 }, (_, i) => i);
    const longAgo = performance.now() - 10 * TIME_SLICE_MS;
    // Every record reads the clock: the slice is over after the first.
    expect(runRecords(one, values, null, 0, 0, longAgo, services)).toBe(1);
    // Every fourth record reads it (indexes 0, 4, 8): from 1 the next read is after record 4.
    expect(runRecords(one, values, null, 1, 3, longAgo, services)).toBe(5);
    // A slice that has just begun runs to the end.
    expect(runRecords(one, values, null, 5, 0, performance.now(), services)).toBe(10);
    expect(seen.map((s) => s[1])).toEqual(values);
  });

  it('give a two-input operator the buffer on the input it came from, with the same stops', () => {
    const seen: Seen[] = [];
    const services = fakeServices();
    const { two } = fakeHead(seen, (v) => {
      if (v === 'y') services.pending = Promise.resolve();
    });
    const now = performance.now();
    expect(runRecordsOfTwoInputs(two, true, ['x'], [5], 0, 255, now, services)).toBe(1);
    expect(runRecordsOfTwoInputs(two, false, ['y', 'z'], null, 0, 255, now, services)).toBe(1);
    services.pending = undefined;
    expect(runRecordsOfTwoInputs(two, false, ['y', 'z'], null, 1, 255, now, services)).toBe(2);
    expect(seen).toEqual([
      [1, 'x', 5],
      [2, 'y', undefined],
      [2, 'z', undefined],
    ]);
  });
});
