// Stand-ins for the parts around a StreamTask in unit tests of its loops.
import type { InputGate } from '../../taskmanager/network/types.js';
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

/** A gate of one channel: `pollNext` and the others as given, the rest of its contract doing nothing. */
export function fakeInputGate(parts: Pick<InputGate, 'pollNext' | 'getAvailableFuture' | 'isFinished'>): InputGate {
  return {
    numChannels: 1,
    numBytesPolled: 0,
    numCredits: 1,
    announceBufferSize() {},
    blockChannel() {},
    resumeChannel() {},
    close() {},
    ...parts,
  };
}
