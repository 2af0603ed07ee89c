// Waiting in a task loop must not leave anything behind (issue 16, "memory stays flat"): a task
// that waits thousands of times a second (a rate-limited source, a consumer of a slow input, an
// output short of credit) once raced every wait against promises that outlive it (its own
// cancellation, the mailbox), each race leaving a reaction on them until the task ended. And a
// cancel must end every wait, a checkpoint action's included.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Output } from '../../taskmanager/operators/operator.js';
import type { SourceReader } from '../../taskmanager/connectors/source-readers.js';
import type { InputGate } from '../../taskmanager/network/types.js';
import { Mailbox, MailboxProcessingTimeService } from '../../taskmanager/runtime/mailbox.js';
import type { OperatorChain } from '../../taskmanager/runtime/operator-chain.js';
import { CancelTaskException, StreamTask } from '../../taskmanager/runtime/stream-task.js';
import type { SubtaskCheckpointCoordinator } from '../../taskmanager/runtime/subtask-checkpoint.js';
import { UnionInput } from '../../taskmanager/runtime/union-input.js';
import { WakeSignal } from '../../taskmanager/runtime/wake-signal.js';
import { fakeInputGate, fakeRecordWriter } from '../helpers/task-fakes.js';
import { fakeTaskServices } from '../helpers/task-services.js';

/** A pending promise that counts the reactions attached to it (Promise.race attaches through then()). */
class CountingPromise extends Promise<void> {
  static attached = 0;
  static override get [Symbol.species]() {
    return Promise;
  }
  override then<A = void, B = never>(
    onFulfilled?: ((v: void) => A | PromiseLike<A>) | null,
    onRejected?: ((e: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    CountingPromise.attached++;
    return super.then(onFulfilled, onRejected);
  }
}

function idleGate(future: Promise<void>): InputGate {
  return fakeInputGate({ pollNext: () => undefined, getAvailableFuture: () => future, isFinished: () => false });
}

/** A chain of no operators whose source output discards records. */
function discardingChain(): OperatorChain {
  const sink: Output = { collect() {}, collectSide() {}, emitWatermark() {} };
  return {
    open: async () => {},
    finish: async () => {},
    close: async () => {},
    operators: [],
    head: { sourceOutput: sink },
  } as unknown as OperatorChain;
}

function gc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('task waits', () => {
  it('a union of inputs listens to an idle gate once, however often it is asked', async () => {
    CountingPromise.attached = 0;
    let wakeBusy!: () => void;
    const idle = new CountingPromise(() => {});
    let busy = new Promise<void>((r) => (wakeBusy = r));
    const union = new UnionInput([idleGate(idle), { ...idleGate(busy), getAvailableFuture: () => busy }]);
    for (let i = 0; i < 1000; i++) {
      const f = union.getAvailableFuture();
      wakeBusy();
      await f;
      busy = new Promise<void>((r) => (wakeBusy = r));
    }
    expect(CountingPromise.attached).toBe(1);
  });

  it('a wake signal hands out one promise per sleep and settles it on the next signal', async () => {
    const s = new WakeSignal();
    const a = s.wait();
    expect(s.wait()).toBe(a);
    s.signal();
    await a;
    expect(s.wait()).not.toBe(a);
  });

  it('a source task short of credit waits 50 000 times without its heap growing', async () => {
    const collect = gc();
    const services = fakeTaskServices({ processingTime: new MailboxProcessingTimeService(new Mailbox()) });
    // Never available, always about to be: the task waits once per record.
    const writer = fakeRecordWriter(false);
    const WARM_UP = 2_000;
    const WAITS = 50_000;
    const heap: number[] = [];
    let emitted = 0;
    const reader: SourceReader = {
      ratePerSecond: undefined,
      get finished() {
        return emitted >= WARM_UP + WAITS;
      },
      emitBatch(_max, out) {
        if (emitted === WARM_UP || emitted === WARM_UP + WAITS - 1) {
          collect();
          heap.push(process.memoryUsage().heapUsed);
        }
        out.collect(emitted++, undefined);
        return 1;
      },
      snapshotSplits: () => [],
      restoreSplits() {},
    };
    const task = new StreamTask(discardingChain(), [writer], services, new Mailbox(), reader, undefined);
    await task.run();
    expect(emitted).toBe(WARM_UP + WAITS);
    // Racing each wait against the task's cancellation kept ≥ 100 bytes per wait (≥ 5 MB here).
    expect(heap[1]! - heap[0]!).toBeLessThan(2 * 1024 * 1024);
  }, 60_000);

  it('a cancel ends a checkpoint action that never settles at once', async () => {
    const services = fakeTaskServices({ processingTime: new MailboxProcessingTimeService(new Mailbox()) });
    let emitted = 0;
    const reader: SourceReader = {
      ratePerSecond: undefined,
      finished: false,
      emitBatch(_max, out) {
        out.collect(emitted++, undefined);
        return 1;
      },
      snapshotSplits: () => [],
      restoreSplits() {},
    };
    let snapshotStarted!: () => void;
    const started = new Promise<void>((r) => (snapshotStarted = r));
    // A snapshot whose asynchronous part hangs, as a sink's flush to a broker that stopped answering.
    const coordinator = {
      checkpoint: () => {
        snapshotStarted();
        return new Promise<boolean>(() => {});
      },
    } as unknown as SubtaskCheckpointCoordinator;
    const task = new StreamTask(
      discardingChain(),
      [fakeRecordWriter(true)],
      services,
      new Mailbox(),
      reader,
      undefined,
    );
    task.attachCheckpointing(coordinator, 'EXACTLY_ONCE');
    const run = task.run();
    const outcome = run.then(
      () => 'finished',
      (e: unknown) => e,
    );
    expect(task.triggerCheckpoint({ checkpointId: 1, timestamp: Date.now() })).toBe(true);
    await started;
    const recordsBefore = emitted;
    const t0 = performance.now();
    task.cancel();
    expect(await outcome).toBeInstanceOf(CancelTaskException);
    expect(performance.now() - t0).toBeLessThan(1000);
    // The source stopped at the barrier: no record after the snapshot began.
    expect(emitted).toBe(recordsBefore);
  });
});
