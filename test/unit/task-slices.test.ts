// A task gives its thread back within a time slice even when each record takes user code a
// millisecond: a source's batches shrink to what fits a slice, and a buffer of slow records is
// interrupted between records. In between, processing-time timers fire, the asynchronous part of
// snapshots goes on and a cancel is seen. Before, a source batch of 256 such records, or a buffer
// of thousands, held the thread for a quarter of a second or for seconds.
import { describe, expect, it } from 'vitest';
import type { BufferOrEvent, InputGate } from '../../taskmanager/network/types.js';
import type { Output } from '../../taskmanager/operators/operator.js';
import type { SourceReader } from '../../taskmanager/connectors/source-readers.js';
import { Mailbox, MailboxProcessingTimeService } from '../../taskmanager/runtime/mailbox.js';
import type { OperatorChain } from '../../taskmanager/runtime/operator-chain.js';
import { CancelTaskException, clockMaskFor, nextBatchSize, StreamTask } from '../../taskmanager/runtime/stream-task.js';
import { UnionInput } from '../../taskmanager/runtime/union-input.js';
import { fakeInputGate, fakeRecordWriter } from '../helpers/task-fakes.js';
import { fakeTaskServices } from '../helpers/task-services.js';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

/** A chain whose head (or source output) spends `ms` on each record and counts them. */
function slowChain(ms: number, counter: { n: number }): OperatorChain {
  const slow = () => {
    busy(ms);
    counter.n++;
  };
  const sink: Output = { collect: slow, collectSide() {}, emitWatermark() {} };
  return {
    open: async () => {},
    finish: async () => {},
    close: async () => {},
    operators: [],
    head: {
      sourceOutput: sink,
      processElement: slow,
      processWatermark() {},
      processWatermarkStatus() {},
    },
  } as unknown as OperatorChain;
}

/** A gate holding one buffer of `n` records, then the end of its partition. */
function oneBufferGate(n: number): InputGate {
  const items: BufferOrEvent[] = [
    { kind: 'records', channel: 0, values: Array.from({ length: n }, (_, i) => i), timestamps: null, bytes: 8 * n },
    { kind: 'event', channel: 0, event: { type: 'endOfPartition' } },
  ];
  return fakeInputGate({
    pollNext: () => items.shift(),
    getAvailableFuture: () => new Promise<void>(() => {}),
    isFinished: () => items.length === 0,
  });
}

/** A timer due in `ms`, through the task's mailbox: resolves with the records processed when it fired. */
function timerAfter(time: MailboxProcessingTimeService, ms: number, counter: { n: number }): Promise<number> {
  return new Promise((resolve) => time.schedule(time.now() + ms, () => resolve(counter.n)));
}

describe('time slices of a task', () => {
  it('a buffer of slow records is interrupted for a due timer, and for a cancel', async () => {
    const mailbox = new Mailbox();
    const time = new MailboxProcessingTimeService(mailbox);
    const services = fakeTaskServices({ processingTime: time });
    const counter = { n: 0 };
    const task = new StreamTask(
      slowChain(1, counter),
      [fakeRecordWriter()],
      services,
      mailbox,
      undefined,
      new UnionInput([oneBufferGate(400)]),
    );
    const fired = timerAfter(time, 5, counter);
    const outcome = task.run().then(
      () => 'finished',
      (e: unknown) => e,
    );
    // Due after about 5 records: it fires within a slice or two of that, not after the 400.
    expect(await fired).toBeLessThan(40);
    task.cancel();
    expect(await outcome).toBeInstanceOf(CancelTaskException);
    expect(counter.n).toBeLessThan(100);
  });

  it('a source whose chained records are slow emits batches that fit a slice, and a due timer fires between them', async () => {
    const mailbox = new Mailbox();
    const time = new MailboxProcessingTimeService(mailbox);
    const services = fakeTaskServices({ processingTime: time });
    const counter = { n: 0 };
    const asked: number[] = [];
    let emitted = 0;
    const reader: SourceReader = {
      ratePerSecond: undefined,
      get finished() {
        return emitted >= 300;
      },
      emitBatch(max, out) {
        asked.push(max);
        let n = 0;
        while (n < max && emitted < 300) {
          out.collect(emitted++, undefined);
          n++;
        }
        return n;
      },
      snapshotSplits: () => [],
      restoreSplits() {},
    };
    const task = new StreamTask(slowChain(1, counter), [fakeRecordWriter()], services, mailbox, reader, undefined);
    const fired = timerAfter(time, 5, counter);
    const run = task.run();
    expect(await fired).toBeLessThan(40);
    await run;
    expect(counter.n).toBe(300);
    // At a millisecond a record, no batch asked for more than a slice's worth (4) after the first few.
    expect(Math.max(...asked)).toBeLessThanOrEqual(8);
  });

  it('sizes batches and clock reads from the cost of a record', () => {
    expect(nextBatchSize(1, 1, 0.001)).toBe(2);
    expect(nextBatchSize(256, 256, 1)).toBe(256);
    expect(nextBatchSize(256, 256, 128)).toBe(8);
    expect(nextBatchSize(4, 4, 400)).toBe(1);
    // Fast records: the clock every 256 records; a millisecond each: every other record.
    expect(clockMaskFor(0.0001)).toBe(255);
    expect(clockMaskFor(1)).toBe(1);
    expect(clockMaskFor(0.5)).toBe(3);
    expect(clockMaskFor(10)).toBe(0);
  });
});
