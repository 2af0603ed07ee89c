// Stand-ins for the parts around a StreamTask in unit tests of its loops.
import type { Output } from '../../taskmanager/operators/operator.js';
import type { RecordWriter } from '../../taskmanager/runtime/operator-chain.js';

/** A writer that takes every record (or, not available, never has room but is always about to). */
export function fakeRecordWriter(isAvailable = true): RecordWriter {
  return {
    isAvailable: () => isAvailable,
    getAvailableFuture: () => Promise.resolve(),
    flushAll() {},
    finish: async () => {},
    broadcastEvent() {},
    metrics: { numRecordsOut: 0, numBytesOut: 0, numBuffersOut: 0, backPressuredTimeMs: 0 },
  } as unknown as RecordWriter;
}

/** An operator output that keeps what it is given. */
export class CollectingOutput implements Output {
  readonly values: unknown[] = [];
  collect(value: unknown): void {
    this.values.push(value);
  }
  collectSide(): void {}
  emitWatermark(): void {}
}
