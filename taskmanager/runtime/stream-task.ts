// The run loop of one subtask (Flink's StreamTask with its mailbox): a source task pulls batches
// from its reader, an input task drains buffers from its gates. Both wait whenever an output
// partition is out of credit (backpressure) and give the event loop back regularly so network
// I/O and the other tasks of this TaskManager make progress.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { FINAL_CHECKPOINT_ID, type CheckpointingMode } from '../../common/checkpoint.js';
import type { AlignmentLimit, SourceSplits } from '../../common/control.js';
import type { SourceReader } from '../connectors/source-readers.js';
import { SplitWatermarks } from './split-watermarks.js';
import type { NetworkEvent } from '../network/types.js';
import { TwoInputStreamOperator, type Output, type StreamOperator, type TaskServices } from '../operators/operator.js';
import { CheckpointBarrierHandler, type BarrierInfo } from './checkpoint-barrier-handler.js';
import type { Mailbox } from './mailbox.js';
import type { OperatorChain, RecordWriter } from './operator-chain.js';
import { MAX_WATERMARK, MIN_WATERMARK } from './timer-service.js';
import type { UnionInput } from './union-input.js';
import { hasWatermarks, WatermarkEmitter, type StrategyLike } from './watermark-emitter.js';
import type { SubtaskCheckpointCoordinator } from './subtask-checkpoint.js';
import type { StatusWatermarkValve } from './watermark-valve.js';
import { InputChannelLayout } from './input-channel-layout.js';
import { createInputValves } from './input-valves.js';
import { WakeSignal } from './wake-signal.js';
import { SourceWatermarkAlignment, type AlignmentReporter, type LocalAlignment } from './source-alignment.js';
import { TaskTimeMeter, type TaskWait } from './task-time-meter.js';
import { BufferDebloater, type BufferDebloatConfig } from './buffer-debloater.js';
import { runRecords, runRecordsOfTwoInputs, sliceOverAt, TIME_SLICE_MS } from './record-loops.js';

/** What an input task reads its gates with: the channel numbering, barrier handler and watermark valves. */
interface InputProcessing {
  layout: InputChannelLayout;
  barriers: CheckpointBarrierHandler | undefined;
  valves: StatusWatermarkValve[];
}

/** The most records a source emits between two looks at the clock; fewer when records are slow. */
const SOURCE_BATCH = 256;
/**
 * Within a buffer the clock is read at most every this many records (a power of two): a read per
 * 256 fast records costs nothing measurable, and records that turn slow (a millisecond each) hold
 * the thread for at most this many of them.
 */
const MAX_RECORDS_BETWEEN_CLOCK_READS = 256;

export class CancelTaskException extends Error {
  constructor() {
    super('task canceled');
    this.name = 'CancelTaskException';
  }
}

export interface TaskIOMetrics {
  recordsIn: number;
  bytesIn: number;
  sourceRecords: number;
  /** Input watermark (sources: the last one emitted). */
  watermark: number;
}

export class StreamTask {
  private canceled = false;
  /** Wakes the loop while it waits: mail, an action, cancellation, or what it waits for settled. */
  private readonly wakeUp = new WakeSignal();
  readonly io: TaskIOMetrics = { recordsIn: 0, bytesIn: 0, sourceRecords: 0, watermark: MIN_WATERMARK };
  /** Idle, backpressured and busy time (Flink's *TimeMsPerSecond): the loop's sleeps are timed by kind. */
  readonly time = new TaskTimeMeter();
  /** Work from outside the record path that must run between records: checkpoint triggers and notifications. */
  private readonly actions: (() => Promise<void>)[] = [];
  private checkpoints:
    | {
        coordinator: SubtaskCheckpointCoordinator;
        mode: CheckpointingMode;
        periodic: boolean;
        afterTasksFinish: boolean;
      }
    | undefined;
  private sourceDone = false;
  /** Set when on-disk state backends may fall behind: returns a promise to wait on while they catch up. */
  stateBackpressure: (() => Promise<void> | undefined) | undefined;
  private finalCommitted = false;
  /** End of input: the operators finished and prepared their last commit (checkpoints after tasks finished). */
  private finalPrepared = false;
  /**
   * The first checkpoint this task took after finalPrepared (Flink's final checkpoint): once it, or
   * a later one, completed, the task commits what it prepared and finishes.
   */
  private finalCheckpointId: number | undefined;
  private barrierHandler: CheckpointBarrierHandler | undefined;
  /**
   * The barrier of stop-with-savepoint `suspendedFor` passed this task: nothing is processed and no
   * timer fires until its outcome is known (Flink's synchronous savepoint).
   */
  private suspendedFor: number | undefined;
  /** That savepoint completed: the task ends without end-of-input work, so nothing after it is emitted. */
  private stopped = false;
  /** Every output partition got its end-of-partition: checkpoints send no barrier on. */
  private outputsEnded = false;
  /** The source's watermark output, for the maximum watermark of a drained stop. */
  private sourceWatermarks: { emitter: WatermarkEmitter | SplitWatermarks | undefined; out: Output } | undefined;
  private drained = false;
  /** Watermark alignment of a source whose strategy asks for it (see attachWatermarkAlignment). */
  private alignment: SourceWatermarkAlignment | undefined;
  /** Sizes the buffers of this task's input while its input loop runs (see attachBufferDebloating). */
  private debloater: BufferDebloater | undefined;

  constructor(
    readonly chain: OperatorChain,
    private readonly writers: RecordWriter[],
    private readonly services: TaskServices,
    private readonly mailbox: Mailbox,
    private readonly source: SourceReader | undefined,
    private readonly input: UnionInput | undefined,
    private readonly watermarkStrategy?: StrategyLike,
    /** Logical input (0 or 1) of each input gate. */
    private readonly gateInputs: number[] = [],
  ) {
    mailbox.onMail = () => this.wakeUp.signal();
  }

  cancel(): void {
    this.canceled = true;
    this.wakeUp.signal();
  }

  /**
   * The job checkpoints: barriers are aligned (or tracked) and snapshots taken through `coordinator`.
   * `afterTasksFinish`: past the end of its input the task waits for a checkpoint to complete, not
   * for every task of the job to get there.
   */
  attachCheckpointing(
    coordinator: SubtaskCheckpointCoordinator,
    mode: CheckpointingMode,
    periodic = true,
    afterTasksFinish = true,
  ): void {
    this.checkpoints = { coordinator, mode, periodic, afterTasksFinish };
  }

  /**
   * A source whose strategy aligns watermarks reports them through `reporter` while it runs, and
   * aligns with the group's subtasks in this TaskManager on its board (`local`, given the group).
   */
  attachWatermarkAlignment(reporter: AlignmentReporter, local?: (group: string) => LocalAlignment | undefined): void {
    const config = this.watermarkStrategy?.alignment;
    if (this.source && config) this.alignment = new SourceWatermarkAlignment(config, reporter, local?.(config.group));
  }

  /** An input task has its producers size their buffers to its throughput (buffer-debloater.ts). */
  attachBufferDebloating(config: BufferDebloatConfig): void {
    if (this.input) this.debloater = new BufferDebloater(this.input.gates, this.time, config);
  }

  /** Flink's debloatedBufferSize and estimatedTimeToConsumeBuffersMs, while the task debloats. */
  debloatMetrics(): Record<string, number> | undefined {
    const d = this.debloater;
    return (
      d && { debloatedBufferSize: d.bufferSize, estimatedTimeToConsumeBuffersMs: d.estimatedTimeToConsumeBuffersMs }
    );
  }

  /** Source metrics of watermark alignment (Flink's names), when the source is aligned. */
  alignmentMetrics(): Record<string, number> | undefined {
    return this.alignment && { watermarkAlignmentDrift: this.alignment.currentDrift(this.io.watermark) };
  }

  /** The JobManager's limit for this source's alignment group. */
  alignWatermark(limit: AlignmentLimit): void {
    this.alignment?.setMaxAllowedWatermark(limit.maxAllowedWatermark, limit.sequence);
  }

  /**
   * Splits from the source's enumerator, taken in the task loop like a barrier: a barrier triggered
   * before they were sent is injected before the reader sees them, which keeps them out of its snapshot.
   */
  addSplits(splits: SourceSplits): void {
    const source = this.source;
    if (source?.addSplits) this.enqueue(async () => source.addSplits!(splits));
  }

  /** Runs `action` in the task loop at the next point between records. */
  private enqueue(action: () => Promise<void>): void {
    this.actions.push(action);
    this.wakeUp.signal();
    const waiters = this.actionWaiters;
    this.actionWaiters = [];
    for (const w of waiters) w();
  }

  private actionWaiters: (() => void)[] = [];

  /**
   * Waits until the reader has data or an action (a barrier, a stop) arrives: the loop must see a
   * stop even while no data comes. The waiter is removed either way, so idle waits leave nothing behind.
   */
  private async awaitSourceData(reader: SourceReader): Promise<void> {
    let wake!: () => void;
    const action = new Promise<void>((r) => (wake = r));
    this.actionWaiters.push(wake);
    try {
      await this.waitFor(Promise.race([reader.available!(), action]), true, 'idle');
    } finally {
      const i = this.actionWaiters.indexOf(wake);
      if (i >= 0) this.actionWaiters.splice(i, 1);
    }
  }

  /** Sleeps until an action arrives or the task is canceled (mail alone does not end the wait). */
  private async awaitAction(): Promise<void> {
    while (this.actions.length === 0 && !this.canceled) await this.sleep('idle');
  }

  /** Suspended for a stop-with-savepoint, or stopped by it: timers must not fire. */
  private get quiesced(): boolean {
    return this.suspendedFor !== undefined || this.stopped;
  }

  private async runActions(): Promise<void> {
    while (this.actions.length > 0) await this.untilCanceled(this.actions.shift()!());
  }

  /**
   * Settles with `p`, or throws CancelTaskException as soon as the task is canceled: an action
   * awaiting something that hangs (a sink's flush to an unreachable broker, say) must not hold a
   * cancel until task.cancellation.timeout. `p` goes on; its outcome is ignored. Unlike waitFor,
   * runs no mail meanwhile: a snapshot in progress must not see timers change the state under it.
   */
  private async untilCanceled(p: Promise<void>): Promise<void> {
    const outcome = this.follow(p);
    for (;;) {
      if (!outcome.settled && !this.canceled) await this.wakeUp.wait();
      this.checkCanceled();
      if (outcome.failure) throw outcome.failure.error;
      if (outcome.settled) return;
    }
  }

  /** What became of `p` so far; its settling wakes the task. The only reaction added is to `p`, and it ends with `p`. */
  private follow(p: Promise<unknown>): { settled: boolean; failure?: { error: unknown } } {
    const outcome: { settled: boolean; failure?: { error: unknown } } = { settled: false };
    p.then(
      () => {
        outcome.settled = true;
        this.wakeUp.signal();
      },
      (error: unknown) => {
        outcome.settled = true;
        outcome.failure = { error };
        this.wakeUp.signal();
      },
    );
    return outcome;
  }

  /**
   * Source tasks: inject barrier `barrier` into the stream. A task that reached the end of its input
   * (and waits for the commit of its last output) is triggered directly too: it gets no more
   * barriers, but its state still belongs in every checkpoint (Flink's checkpoints after tasks
   * finished, FLIP-147). False when this task cannot take part.
   */
  triggerCheckpoint(barrier: BarrierInfo): boolean {
    const cp = this.checkpoints;
    if (!cp || this.canceled || this.stopped || (!this.source && !this.sourceDone)) return false;
    this.enqueue(async () => {
      if (this.stopped) {
        cp.coordinator.abort(barrier.checkpointId, 'the task stopped before the barrier could be injected');
        return;
      }
      if (this.sourceDone) {
        const taken = await cp.coordinator.checkpoint(barrier, 0, this.outputsEnded);
        if (taken && this.finalPrepared && cp.afterTasksFinish) this.finalCheckpointId ??= barrier.checkpointId;
        if (barrier.stop) this.suspendedFor = barrier.checkpointId;
        return;
      }
      if (barrier.stop && barrier.drain) this.emitMaxWatermark();
      await cp.coordinator.checkpoint(barrier, 0);
      if (barrier.stop) this.suspendedFor = barrier.checkpointId;
    });
    return true;
  }

  /** A drained stop: every event-time window and timer downstream fires before the savepoint's barrier. */
  private emitMaxWatermark(): void {
    const w = this.sourceWatermarks;
    if (!w) return;
    this.drained = true;
    w.emitter?.stop();
    w.out.emitWatermark(MAX_WATERMARK);
  }

  /** Non-source tasks: a stop-with-savepoint's barrier was aligned and snapshotted here. */
  private async checkpointAtBarrier(
    cp: { coordinator: SubtaskCheckpointCoordinator },
    barrier: BarrierInfo,
    alignmentMs: number,
  ): Promise<void> {
    await cp.coordinator.checkpoint(barrier, alignmentMs);
    if (barrier.stop) this.suspendedFor = barrier.checkpointId;
  }

  /** Waits, processing nothing but checkpoint notifications, until the stop-with-savepoint completes or fails. */
  private async awaitStopOutcome(): Promise<void> {
    while (this.suspendedFor !== undefined) {
      await this.awaitAction();
      this.checkCanceled();
      await this.runActions();
    }
  }

  notifyCheckpoint(checkpointId: number, complete: boolean): void {
    const cp = this.checkpoints;
    if (!cp) return;
    this.enqueue(async () => {
      if (!complete) {
        // Channels held for an aborted checkpoint must not wait for barriers that may never come.
        this.barrierHandler?.processCancelBarrier(checkpointId);
        await cp.coordinator.notifyAborted(checkpointId);
        if (checkpointId === this.suspendedFor) {
          this.suspendedFor = undefined;
          // A drained source already sent the maximum watermark: its windows fired, so carrying on would be wrong.
          if (this.drained)
            throw new Error(
              `stop-with-savepoint ${checkpointId} with drain failed after the maximum watermark was sent; the job restarts from its latest checkpoint`,
            );
        }
        return;
      }
      await cp.coordinator.notifyComplete(checkpointId);
      this.source?.notifyCheckpointComplete?.(checkpointId);
      if (checkpointId === FINAL_CHECKPOINT_ID) this.finalCommitted = true;
      else if (this.finalCheckpointId !== undefined && checkpointId >= this.finalCheckpointId && !this.finalCommitted) {
        // A checkpoint holding this task's state past the end of its input completed: what the end
        // of input prepared (the last part files, transactions) is safe to publish, and the task may end.
        await cp.coordinator.notifyComplete(FINAL_CHECKPOINT_ID);
        this.finalCommitted = true;
      }
      if (checkpointId === this.suspendedFor) {
        this.suspendedFor = undefined;
        this.stopped = true;
      }
    });
  }

  private checkCanceled(): void {
    if (this.canceled) throw new CancelTaskException();
  }

  /**
   * Waits until `p` settles or the task is canceled; runs mail (timers) that arrives meanwhile, and
   * checkpoint actions when `betweenRecords` (never while a record's async work is pending).
   */
  private async waitFor(p: Promise<unknown>, betweenRecords = false, wait?: TaskWait): Promise<void> {
    const outcome = this.follow(p);
    for (;;) {
      // While quiesced, pending timer mail stays queued: only actions end the sleep.
      const work = (!this.quiesced && this.mailbox.size > 0) || (betweenRecords && this.actions.length > 0);
      if (!outcome.settled && !this.canceled && !work) await this.sleep(wait);
      if (outcome.failure) throw outcome.failure.error;
      this.checkCanceled();
      if (!this.quiesced && this.mailbox.size > 0) this.mailbox.runAll();
      if (betweenRecords && this.actions.length > 0) await this.runActions();
      if (outcome.settled) return;
    }
  }

  /**
   * Sleeps until woken; the sleep counts as `wait` (idle or backpressured time). Without a kind the
   * task is busy: it waits inside its own work (an async sink, a checkpoint), as a blocked Flink task thread.
   */
  private async sleep(wait: TaskWait | undefined): Promise<void> {
    if (!wait) return this.wakeUp.wait();
    this.time.startWait(wait);
    try {
      await this.wakeUp.wait();
    } finally {
      this.time.endWait();
    }
  }

  /** Waits while any output partition lacks credit, or on-disk state has too many writes pending. */
  private async awaitOutputs(): Promise<void> {
    const state = this.stateBackpressure?.();
    if (state) await this.waitFor(state, true, 'backPressured');
    for (const w of this.writers) {
      if (w.isAvailable()) continue;
      await this.waitFor(w.getAvailableFuture(), true, 'backPressured');
    }
  }

  private async drainPending(): Promise<void> {
    if (this.services.pending !== undefined) await this.waitFor(this.services.drainPending());
  }

  async run(): Promise<void> {
    await this.chain.open();
    this.checkCanceled();
    if (this.source) await this.runSource(this.source);
    else if (this.input) await this.runInput(this.input);
    this.checkCanceled();
    this.sourceDone = true;
    await this.runActions();
    if (this.stopped) {
      // Stopped with a savepoint: what the operators hold stays in the savepoint; only the partitions end.
      for (const w of this.writers) w.flushAll();
      await this.waitFor(Promise.all(this.writers.map((w) => w.finish())), true);
      this.mailbox.close();
      return;
    }
    // End of input: let operators emit what they hold, then end every output partition.
    await this.chain.finish();
    await this.drainPending();
    // Only a job that checkpoints periodically commits in two phases; savepoints alone need no final commit.
    const cp = this.checkpoints?.periodic ? this.checkpoints : undefined;
    // With checkpoints, two-phase-commit operators prepare their last commit at the end of input and
    // publish it once a checkpoint taken after it completed (or, without checkpoints after tasks
    // finish, once every task of the job got here).
    if (cp) await cp.coordinator.finalCheckpoint();
    this.finalPrepared = true;
    for (const w of this.writers) w.flushAll();
    this.outputsEnded = true;
    await this.waitFor(Promise.all(this.writers.map((w) => w.finish())), true);
    if (cp) {
      // Input and output have ended: timers no longer fire, only checkpoints and their
      // notifications run, until the job's end commits (or a stop-with-savepoint ends the task).
      this.mailbox.close();
      while (!this.finalCommitted && !this.stopped) {
        if (this.actions.length === 0) {
          await this.awaitAction();
          this.checkCanceled();
        }
        await this.runActions();
      }
    }
  }

  /**
   * A task restored as finished (its operators had all finished in the checkpoint): it ends its
   * outputs at once and reads its inputs only to their end, which upstream tasks, finished too,
   * send at once as well.
   */
  async runFinishedOnRestore(): Promise<void> {
    this.sourceDone = true;
    for (const w of this.writers) w.flushAll();
    this.outputsEnded = true;
    const input = this.input;
    const drained = input ? this.drainFinishedInput(input) : Promise.resolve();
    await this.waitFor(Promise.all([...this.writers.map((w) => w.finish()), drained]));
    this.mailbox.close();
  }

  private async drainFinishedInput(input: UnionInput): Promise<void> {
    for (;;) {
      this.checkCanceled();
      const boe = input.pollNext();
      if (boe === undefined) {
        if (input.isFinished()) return;
        await input.getAvailableFuture();
        continue;
      }
      // Only a graph whose upstream runs again could send records here; the JobManager refuses such a restore.
      if (boe.kind === 'records') throw new Error('a task restored as finished received records');
    }
  }

  private async runSource(reader: SourceReader): Promise<void> {
    const headOut = (this.chain.head as unknown as { sourceOutput: Output }).sourceOutput;
    const io = this.io;
    // Watermarks pass through here so the task can report the one it emitted last.
    const watched: Output = {
      collect: (v, t) => headOut.collect(v, t),
      collectSide: (tag, v, t) => headOut.collectSide(tag, v, t),
      emitWatermark: (wm) => {
        io.watermark = wm;
        headOut.emitWatermark(wm);
        this.alignment?.watermarkEmitted();
      },
    };
    let idle = false;
    const setIdle = (v: boolean) => {
      idle = v;
      this.services.setIdle(v);
      this.alignment?.idleChanged(v, io.watermark);
    };
    const interval = this.services.autoWatermarkInterval;
    // A reader with splits of its own (Kafka partitions) gets watermarks per split.
    const emitter = reader.perSplitOutput
      ? new SplitWatermarks(
          hasWatermarks(this.watermarkStrategy) ? this.watermarkStrategy : undefined,
          watched,
          this.services,
          interval,
          setIdle,
        )
      : hasWatermarks(this.watermarkStrategy)
        ? new WatermarkEmitter(this.watermarkStrategy, watched, this.services, interval, setIdle)
        : undefined;
    this.sourceWatermarks = { emitter, out: watched };
    try {
      if (reader.start) await this.waitFor(reader.start(emitter as SplitWatermarks), true);
      emitter?.start();
      this.alignment?.start(
        () => io.watermark,
        () => idle,
      );
      // A reader that emits watermarks of its own (a SourceFunction) goes through `watched`, so the metric sees them.
      await this.sourceLoop(
        reader,
        emitter instanceof WatermarkEmitter ? emitter : reader.emitsWatermarks ? watched : headOut,
      );
      if (!this.stopped) this.alignment?.endOfInput();
    } finally {
      this.alignment?.stop();
      emitter?.stop();
      await reader.close?.();
    }
    if (this.stopped) return;
    // A bounded source is complete: the maximum watermark lets every event-time window fire downstream.
    if (emitter) emitter.endOfInput();
    else watched.emitWatermark(MAX_WATERMARK);
  }

  private async sourceLoop(reader: SourceReader, out: Output): Promise<void> {
    const rate = reader.ratePerSecond;
    let started = performance.now();
    let emitted = 0;
    let sliceStart = performance.now();
    // Sized so that a batch of slow records (a chained function of a millisecond) ends within a
    // slice: between batches the task runs its mail and the asynchronous part of its snapshots. It
    // starts at one record and doubles while batches are quick.
    let batch = 1;
    while (!reader.finished) {
      this.checkCanceled();
      if (this.mailbox.size > 0) this.mailbox.runAll();
      if (this.actions.length > 0) await this.runActions();
      if (this.suspendedFor !== undefined) await this.awaitStopOutcome();
      if (this.stopped) return;
      await this.awaitOutputs();
      if (this.alignment?.mustPause(this.io.watermark)) {
        // Ahead of its alignment group by more than the allowed drift: read on at the next answer.
        await this.waitFor(this.alignment.nextAnswer(), true, 'idle');
        // The pause earns no burst from the rate limit: the schedule goes on from now.
        if (rate !== undefined) started = performance.now() - (emitted * 1000) / rate;
        sliceStart = performance.now();
        continue;
      }
      let max = batch;
      if (rate !== undefined) {
        const allowed = Math.floor((rate * (performance.now() - started)) / 1000) - emitted;
        if (allowed <= 0) {
          // Sleep until the next record is due; flush so a slow source's records do not wait for a full buffer.
          const waitMs = Math.max(1, Math.ceil(((emitted + 1) * 1000) / rate - (performance.now() - started)));
          await this.waitFor(new Promise((r) => setTimeout(r, Math.min(waitMs, 100))), true, 'idle');
          sliceStart = performance.now();
          continue;
        }
        max = Math.min(max, allowed);
      }
      const batchStart = performance.now();
      const n = reader.emitBatch(max, out);
      if (n === 0 && reader.available && !reader.finished) {
        await this.awaitSourceData(reader);
        sliceStart = performance.now();
        continue;
      }
      emitted += n;
      this.io.sourceRecords += n;
      await this.drainPending();
      const now = performance.now();
      if (n > 0) batch = nextBatchSize(batch, n, now - batchStart);
      if (now - sliceStart >= TIME_SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  }

  /** Runs the input loop, its buffer debloating alongside. */
  private async runInput(input: UnionInput): Promise<void> {
    this.debloater?.start();
    try {
      await this.processInput(input);
    } finally {
      this.debloater?.stop();
    }
  }

  /**
   * The input loop: drains buffers and events from the input gates into the head operator, between
   * them runs mail and checkpoint actions, and waits for credit (backpressure) after each one.
   * A buffer's records go through the synchronous loops of record-loops.ts: a call per buffer, and
   * no closure or await per record beyond pending user work.
   */
  private async processInput(input: UnionInput): Promise<void> {
    const head = this.chain.head;
    const services = this.services;
    const twoInput = head instanceof TwoInputStreamOperator ? head : undefined;
    const inputs = this.setUpInputProcessing(input, head, twoInput);
    const valveOfGate = inputs.layout.inputOfGate;
    let sliceStart = performance.now();
    // Records between two reads of the clock within a buffer, less one: set from the last buffer's
    // cost per record, so fast records rarely read it and slow ones (user code of a millisecond)
    // yield within a slice or two. The first buffer reads it at every record.
    let clockMask = 0;
    for (;;) {
      this.checkCanceled();
      if (this.suspendedFor !== undefined) await this.awaitStopOutcome();
      if (!this.stopped && this.mailbox.size > 0) this.mailbox.runAll();
      if (this.actions.length > 0) await this.runActions();
      const boe = input.pollNext();
      if (boe === undefined) {
        if (input.isFinished()) return;
        await this.waitFor(input.getAvailableFuture(), true, 'idle');
        sliceStart = performance.now();
        continue;
      }
      const bufferStart = performance.now();
      if (boe.kind === 'records') {
        const { values, timestamps } = boe;
        const n = values.length;
        this.io.recordsIn += n;
        this.io.bytesIn += boe.bytes;
        const first = twoInput !== undefined && valveOfGate[input.lastGate] === 0;
        for (let i = 0; i < n;) {
          i =
            twoInput === undefined
              ? runRecords(head, values, timestamps, i, clockMask, sliceStart, services)
              : runRecordsOfTwoInputs(twoInput, first, values, timestamps, i, clockMask, sliceStart, services);
          if (services.pending !== undefined) await this.drainPending();
          if (i < n && sliceOverAt(i - 1, clockMask, sliceStart)) sliceStart = await this.yieldWithinBuffer();
        }
      } else {
        // Only barriers and ends of partitions take asynchronous work: watermarks add no await.
        const eventDone = this.processEvent(boe.event, input.lastGate, boe.channel, inputs);
        if (eventDone !== undefined) await eventDone;
      }
      if (boe.kind === 'records' && boe.values.length > 0)
        clockMask = clockMaskFor((performance.now() - bufferStart) / boe.values.length);
      await this.awaitOutputs();
      if (performance.now() - sliceStart >= TIME_SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  }

  /**
   * A buffer of slow records (thousands of them, each a millisecond of user code) must not hold the
   * thread for seconds: between two of its records the task lets the event loop run (the
   * asynchronous part of its snapshots, messages such as a cancel) and runs its mail (processing-time
   * timers), as Flink's mailbox does between records. Checkpoint actions wait for the buffer's end.
   * Returns the new slice's start.
   */
  private async yieldWithinBuffer(): Promise<number> {
    await yieldToEventLoop();
    this.checkCanceled();
    if (!this.stopped && this.mailbox.size > 0) this.mailbox.runAll();
    return performance.now();
  }

  /** Numbers the input channels and creates the barrier handler and the watermark valves over them. */
  private setUpInputProcessing(
    input: UnionInput,
    head: StreamOperator,
    twoInput: TwoInputStreamOperator | undefined,
  ): InputProcessing {
    // One valve per logical input: a two-input operator sees each input's own watermark.
    const layout = new InputChannelLayout(input.gates, this.gateInputs, twoInput ? 2 : 1);
    const barriers = this.createBarrierHandler(input, layout);
    this.barrierHandler = barriers;
    const valves = createInputValves(layout.channelsPerInput, head, twoInput, this.io, this.services);
    return { layout, barriers, valves };
  }

  /** Barrier alignment (or tracking, at least once) over the channels of all gates; none without checkpoints. */
  private createBarrierHandler(input: UnionInput, layout: InputChannelLayout): CheckpointBarrierHandler | undefined {
    const cp = this.checkpoints;
    if (!cp) return undefined;
    return new CheckpointBarrierHandler(layout.totalChannels, cp.mode, {
      blockChannel: (c) => {
        const [g, ch] = layout.locate(c);
        input.gates[g]!.blockChannel(ch);
      },
      resumeChannel: (c) => {
        const [g, ch] = layout.locate(c);
        input.gates[g]!.resumeChannel(ch);
      },
      triggerCheckpoint: (b, alignmentMs) => this.checkpointAtBarrier(cp, b, alignmentMs),
      abortCheckpoint: (id, reason) => cp.coordinator.abort(id, reason),
    });
  }

  /**
   * An in-band event from `channel` of gate `gate`. Returns a promise only when the event needs
   * asynchronous work (a barrier, an end of partition), so watermarks cost no await.
   */
  private processEvent(
    ev: NetworkEvent,
    gate: number,
    channel: number,
    { layout, barriers, valves }: InputProcessing,
  ): Promise<void> | undefined {
    const valve = valves[layout.inputOfGate[gate]!]!;
    const valveChannel = layout.offsetInInput[gate]! + channel;
    if (ev.type === 'watermark') valve.inputWatermark(valveChannel, ev.timestamp);
    else if (ev.type === 'idle') valve.inputIdle(valveChannel, ev.idle);
    else if (ev.type === 'barrier') {
      if (!barriers)
        throw new Error(`received a checkpoint barrier (${ev.checkpointId}) but this job does not checkpoint`);
      return barriers.processBarrier(layout.offsetOverall[gate]! + channel, ev);
    } else if (ev.type === 'cancelBarrier') barriers?.processCancelBarrier(ev.checkpointId);
    else if (ev.type === 'endOfPartition') {
      // A finished channel must not hold the watermark back, nor an alignment. After a stop
      // (not drained) it must not fire anything either: that stays in the savepoint.
      if (!this.stopped) valve.inputWatermark(valveChannel, MAX_WATERMARK);
      // Awaited even without checkpoints, as an end of partition always was.
      return barriers ? barriers.processEndOfPartition(layout.offsetOverall[gate]! + channel) : Promise.resolve();
    }
    return undefined;
  }
}

/** The next source batch: as many records as took about a slice in this one, at most SOURCE_BATCH. */
export function nextBatchSize(batch: number, emitted: number, ms: number): number {
  if (ms > TIME_SLICE_MS) return Math.max(1, Math.floor((emitted * TIME_SLICE_MS) / ms));
  return Math.min(SOURCE_BATCH, batch * 2);
}

/** The clock mask for records of `msPerRecord`: reads about twice per slice, at most every MAX_RECORDS_BETWEEN_CLOCK_READS records. */
export function clockMaskFor(msPerRecord: number): number {
  const perSlice = TIME_SLICE_MS / Math.max(msPerRecord, 1e-9);
  const between = Math.min(MAX_RECORDS_BETWEEN_CLOCK_READS, 2 ** Math.max(0, Math.floor(Math.log2(perSlice)) - 1));
  return between - 1;
}
