// The main thread's handle on one slot's thread: forwards deploy, cancel and checkpoint calls,
// keeps the last state and metrics of each task it runs (heartbeats and /metrics read them
// without waiting on a busy thread), and replaces the thread when it dies or must be
// terminated because a task does not stop on cancel. A dead thread takes only its slot's tasks down.
// A thread that ran tasks is replaced once the slot is empty: user code loads into a thread's
// module cache, and only a new thread forgets it (no module state carried into the next attempt
// or job, no memory kept for every job ever run). Loading the engine into a thread takes about half
// a second of CPU, so a slot that has run tasks keeps a spare thread loaded ahead of need: the next
// job or attempt deploys at once instead of waiting for it.
import { Worker, type MessagePort, type Transferable } from 'node:worker_threads';
import type { TaskCheckpointAck } from '../../common/checkpoint.js';
import type {
  AlignmentLimit,
  SourceSplits,
  SourceWatermarkReportRequest,
  SplitRequest,
  TaskMetrics,
} from '../../common/control.js';
import type { TaskDeploymentDescriptor } from '../../common/deployment.js';
import type { Logger } from '../../common/logging.js';
import { isExecutionTerminal, type ExecutionState } from '../../common/states.js';
import type { BarrierInfo } from '../runtime/checkpoint-barrier-handler.js';
import { taskNameOf, type TaskFailure } from '../task.js';
import type { SlotDataPorts } from './data-ports.js';
import type { FromSlot, SlotWorkerData, TaskStateUpdate, ToSlot } from './slot-messages.js';
import { AlignmentBoard } from '../runtime/alignment-board.js';

export type { TaskStateUpdate } from './slot-messages.js';

export interface TaskSlotListener {
  onTaskState(update: TaskStateUpdate): void;
  acknowledge(ack: TaskCheckpointAck): void;
  decline(jobId: string, executionId: string, checkpointId: number, reason: string): void;
  /** Watermark alignment: the group's limit, or undefined when the JobManager could not answer. */
  reportSourceWatermark(report: SourceWatermarkReportRequest): Promise<AlignmentLimit | undefined>;
  /** A source subtask asks its enumerator for splits; `stillWanted` says whether the subtask still runs here. */
  requestSplit(request: SplitRequest, stillWanted: () => boolean): void;
  /** The extracted bundle's entry module. */
  bundle(bundleId: string): Promise<string>;
  /** A consumer on this slot wants the partition served at `producerDataAddress`. */
  connect(producerDataAddress: string, port: MessagePort): void;
  /** A JSON log line of the slot's thread. */
  log(line: string): void;
}

interface SlotTask {
  jobId: string;
  name: string;
  subtaskIndex: number;
  state: ExecutionState;
  metrics: TaskMetrics | undefined;
  cancelRequested: boolean;
  cancelTimer: NodeJS.Timeout | undefined;
}

const TRIGGER_REPLY_TIMEOUT_MS = 10_000;

/** Spare threads of this TaskManager load one after another, leaving the other cores to running tasks. */
let spareLoads: Promise<void> = Promise.resolve();
/**
 * A slot loads its spare once it has been empty for a second, or once its tasks have all been
 * RUNNING for 5 s: not while a job deploys or restores there, which a load would slow down, and not
 * for a job that ends within seconds (tests, short bounded jobs), which would only pay for it.
 */
const SPARE_IDLE_MS = 1000;
const SPARE_RUNNING_MS = 5000;

/** Tags of slot threads on the alignment board: unique within the process. */
let nextBoardOwner = 1;

export class TaskSlot {
  readonly tasks = new Map<string, SlotTask>();
  /** The address announced for this slot's data server (what consumers connect to). */
  dataAddress = '';
  heapUsedBytes = 0;
  /** Port the data server is bound to; a replaced thread binds it again. */
  private boundPort = 0;
  private worker: Worker | undefined;
  private ready = false;
  private queued: { msg: ToSlot; transfer?: Transferable[] }[] = [];
  private triggerRequests = 0;
  private readonly triggers = new Map<number, (r: { ok: boolean; error: string }) => void>();
  private closing = false;
  private closed: (() => void) | undefined;
  /** Why the current thread is being terminated (a task that did not stop on cancel). */
  private terminationReason: string | undefined;
  /** The current thread ran tasks, so it holds their jobs' modules. */
  private used = false;
  private recycling: Promise<void> | undefined;
  /** The slot has run tasks, so it keeps a spare thread. */
  private hasRun = false;
  /** A thread with the engine loaded and no data server bound yet; `start` activates it. */
  private spare: { worker: Worker; release: () => void; unwatch: () => void; loaded: boolean } | undefined;
  private spareTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly index: number,
    private readonly config: Omit<SlotWorkerData, 'slotIndex' | 'announcedDataPort' | 'boardOwner'> & {
      cancellationTimeoutMs: number;
      /** taskmanager.slot.spare-thread */
      spareThread: boolean;
      dataPorts: SlotDataPorts[];
      /** The largest young generation of the thread's heap, in MB (taskmanager.memory.young-generation-size). */
      youngGenerationMb: number;
    },
    private readonly listener: TaskSlotListener,
    private readonly log: Logger,
  ) {}

  /** Starts the slot's thread (the spare, when one is loaded or loading); resolves with its data address. */
  start(): Promise<string> {
    const spare = this.takeSpare();
    if (spare) this.log.info({ slot: this.index, loaded: spare.loaded }, "the slot's spare thread takes over");
    const worker = spare?.worker ?? this.newThread();
    this.worker = worker;
    this.ready = false;
    this.used = false;
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (msg: FromSlot) => {
        if (msg.t === 'ready') {
          started = true;
          this.dataAddress = msg.dataAddress;
          this.boundPort = msg.boundPort;
          this.ready = true;
          for (const q of this.queued.splice(0)) this.post(q.msg, q.transfer);
          resolve(msg.dataAddress);
          if (this.hasRun) this.prepareSpareAfter(SPARE_IDLE_MS, () => this.tasks.size === 0);
          return;
        }
        this.onMessage(msg);
      });
      worker.on('error', (err) => {
        if (!started) {
          reject(new Error(`the thread of slot ${this.index} failed to start: ${err.message}`));
          return;
        }
        this.log.error({ err, slot: this.index }, 'the thread of a slot failed');
        this.terminationReason ??= `the thread of slot ${this.index} failed: ${err.stack ?? err.message}`;
      });
      worker.on('exit', (code) => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.ready = false;
        if (!started) reject(new Error(`the thread of slot ${this.index} exited with code ${code} before it started`));
        if (this.closing) {
          this.closed?.();
          return;
        }
        if (!started) return;
        this.onThreadGone(
          this.terminationReason ?? `the thread of slot ${this.index} exited unexpectedly (code ${code})`,
        );
        this.terminationReason = undefined;
        this.restart();
      });
      worker.postMessage({ t: 'activate', dataPort: this.boundPort || this.ports().bind } satisfies ToSlot);
    });
  }

  private ports(): SlotDataPorts {
    return this.config.dataPorts[this.index] ?? { bind: 0, announced: 0 };
  }

  private newThread(): Worker {
    const { cancellationTimeoutMs: _, dataPorts: __, spareThread: ___, youngGenerationMb, ...rest } = this.config;
    const boardOwner = nextBoardOwner++;
    const workerData: SlotWorkerData = {
      ...rest,
      slotIndex: this.index,
      announcedDataPort: this.ports().announced,
      boardOwner,
    };
    const worker = new Worker(new URL('./slot-worker.js', import.meta.url), {
      workerData,
      name: `slot-${this.index}`,
      resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb },
    });
    // However the thread ends, its sources no longer hold their alignment groups back.
    worker.once('exit', () => AlignmentBoard.clearOwner(rest.alignmentBoard, boardOwner));
    return worker;
  }

  /** The spare, no longer watched; the next spare of the TaskManager may start loading. */
  private takeSpare(): { worker: Worker; loaded: boolean } | undefined {
    const spare = this.spare;
    this.spare = undefined;
    spare?.unwatch();
    spare?.release();
    return spare;
  }

  /** Loads the spare after `ms` if `still()` holds then (one timer: a later call replaces an earlier one). */
  private prepareSpareAfter(ms: number, still: () => boolean): void {
    if (this.spare || this.closing || !this.config.spareThread) return;
    clearTimeout(this.spareTimer);
    this.spareTimer = setTimeout(() => still() && this.prepareSpare(), ms).unref();
  }

  /** Loads a spare thread after the TaskManager's other spares, unless by then the slot has one or is closing. */
  private prepareSpare(): void {
    spareLoads = spareLoads.then(
      () =>
        new Promise<void>((release) => {
          if (this.spare || this.closing) return release();
          const worker = this.newThread();
          const lost = (why: string) => {
            if (this.spare?.worker !== worker) return;
            this.spare = undefined;
            this.log.warn({ slot: this.index, why }, 'a spare thread of the slot was lost');
            release();
          };
          const onMessage = (m: FromSlot) => {
            if (m.t !== 'loaded' || this.spare?.worker !== worker) return;
            this.spare.loaded = true;
            release();
          };
          const onError = (err: Error) => lost(err.message);
          const onExit = (code: number) => lost(`exited with code ${code}`);
          worker.on('message', onMessage).on('error', onError).on('exit', onExit);
          const unwatch = () => worker.off('message', onMessage).off('error', onError).off('exit', onExit);
          this.spare = { worker, release, unwatch, loaded: false };
        }),
    );
  }

  /** The slot has run tasks and its spare thread is not loaded yet (the metric the benchmarks wait on). */
  awaitsSpare(): boolean {
    return this.config.spareThread && this.hasRun && !this.closing && !this.spare?.loaded;
  }

  private async dropSpare(): Promise<void> {
    clearTimeout(this.spareTimer);
    await this.takeSpare()?.worker.terminate();
  }

  submit(tdd: TaskDeploymentDescriptor): void {
    if (this.tasks.has(tdd.executionId)) throw new Error(`task ${tdd.executionId} is already deployed`);
    this.tasks.set(tdd.executionId, {
      jobId: tdd.jobId,
      name: taskNameOf(tdd),
      subtaskIndex: tdd.subtaskIndex,
      state: 'DEPLOYING',
      metrics: undefined,
      cancelRequested: false,
      cancelTimer: undefined,
    });
    this.post({ t: 'submit', tdd });
  }

  cancel(executionId: string): boolean {
    const task = this.tasks.get(executionId);
    if (!task) return false;
    task.cancelRequested = true;
    this.post({ t: 'cancel', executionId });
    // Flink's task cancellation watchdog: a task stuck in user code takes only its slot's thread along.
    task.cancelTimer ??= setTimeout(() => this.terminateStuck(executionId), this.config.cancellationTimeoutMs);
    return true;
  }

  cancelAll(jobId?: string): void {
    for (const [id, t] of this.tasks) if (jobId === undefined || t.jobId === jobId) this.cancel(id);
  }

  triggerCheckpoint(executionId: string, barrier: BarrierInfo): Promise<{ ok: boolean; error: string }> {
    if (!this.tasks.has(executionId)) return Promise.resolve({ ok: false, error: `no task ${executionId}` });
    const req = ++this.triggerRequests;
    return new Promise((resolve) => {
      const timer = setTimeout(
        () =>
          finish({
            ok: false,
            error: `slot ${this.index} did not answer the checkpoint trigger within ${TRIGGER_REPLY_TIMEOUT_MS} ms`,
          }),
        TRIGGER_REPLY_TIMEOUT_MS,
      );
      const finish = (r: { ok: boolean; error: string }) => {
        clearTimeout(timer);
        this.triggers.delete(req);
        resolve(r);
      };
      this.triggers.set(req, finish);
      this.post({ t: 'trigger', req, executionId, barrier });
    });
  }

  notifyCheckpoint(executionIds: string[], checkpointId: number, complete: boolean): void {
    const mine = executionIds.filter((id) => this.tasks.has(id));
    if (mine.length > 0) this.post({ t: 'notify', executionIds: mine, checkpointId, complete });
  }

  /** A source task's alignment limit, answered or pushed by the JobManager. */
  alignWatermark(executionId: string, limit: AlignmentLimit): void {
    if (this.tasks.has(executionId)) this.post({ t: 'aligned', executionId, limit });
  }

  /** Splits the JobManager's enumerator handed to a source task; false when the task is not here. */
  addSplits(executionId: string, splits: SourceSplits): boolean {
    if (!this.tasks.has(executionId)) return false;
    this.post({ t: 'splits', executionId, splits });
    return true;
  }

  /** Serves a consumer of another slot's thread. */
  serve(port: MessagePort): void {
    this.post({ t: 'serve', port }, [port]);
  }

  metrics(): TaskMetrics[] {
    return [...this.tasks.values()].flatMap((t) => (t.metrics ? [t.metrics] : []));
  }

  /** Resolves once no task runs here, or after `timeoutMs`. */
  async awaitAll(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.tasks.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** The TaskManager is shutting down: threads whose tasks end are not replaced any more. */
  beginShutdown(): void {
    this.closing = true;
    void this.dropSpare();
  }

  /** Stops the thread: its tasks are canceled first (see awaitAll). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([this.recycling, this.dropSpare()]);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((r) => (this.closed = r));
    const closedMsg = new Promise<void>((r) => worker.on('message', (m: FromSlot) => m.t === 'closed' && r()));
    worker.postMessage({ t: 'close' } satisfies ToSlot);
    await Promise.race([closedMsg, new Promise((r) => setTimeout(r, 7000))]);
    await worker.terminate();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
    for (const [id, t] of this.tasks)
      this.report(id, t, t.cancelRequested ? 'CANCELED' : 'FAILED', {
        message: 'the TaskManager shut down',
        name: 'TaskManagerShutdown',
        operatorName: '',
      });
  }

  private post(msg: ToSlot, transfer?: Transferable[]): void {
    if (!this.worker || !this.ready) {
      this.queued.push({ msg, transfer });
      return;
    }
    if (msg.t === 'submit') {
      this.used = true;
      this.hasRun = true;
    }
    this.worker.postMessage(msg, transfer);
  }

  private onMessage(msg: FromSlot): void {
    switch (msg.t) {
      case 'state': {
        const task = this.tasks.get(msg.executionId);
        if (task) this.report(msg.executionId, task, msg.state, msg.failure, msg.metrics);
        return;
      }
      case 'metrics':
        this.heapUsedBytes = msg.heapUsedBytes;
        for (const m of msg.tasks) {
          const task = this.tasks.get(m.executionId);
          if (task) task.metrics = m.metrics;
        }
        return;
      case 'ack':
        this.listener.acknowledge(msg.ack);
        return;
      case 'decline':
        this.listener.decline(msg.jobId, msg.executionId, msg.checkpointId, msg.reason);
        return;
      case 'watermark': {
        const executionId = msg.report.executionId;
        void this.listener.reportSourceWatermark(msg.report).then((limit) => {
          if (limit !== undefined) this.alignWatermark(executionId, limit);
        });
        return;
      }
      case 'split-request': {
        const executionId = msg.request.executionId;
        this.listener.requestSplit(msg.request, () => this.tasks.has(executionId));
        return;
      }
      case 'triggered':
        this.triggers.get(msg.req)?.({ ok: msg.ok, error: msg.error });
        return;
      case 'bundle':
        this.listener.bundle(msg.bundleId).then(
          (entryPath) => this.post({ t: 'bundle', req: msg.req, entryPath }),
          (e: Error) => this.post({ t: 'bundle', req: msg.req, error: e.message }),
        );
        return;
      case 'connect':
        this.listener.connect(msg.producerDataAddress, msg.port);
        return;
      case 'log':
        this.listener.log(msg.line);
        return;
      case 'loaded':
      case 'ready':
      case 'closed':
        return;
    }
  }

  private report(
    executionId: string,
    task: SlotTask,
    state: ExecutionState,
    failure?: TaskFailure,
    metrics?: TaskMetrics,
  ): void {
    task.state = state;
    if (metrics) task.metrics = metrics;
    if (isExecutionTerminal(state)) {
      if (task.cancelTimer) clearTimeout(task.cancelTimer);
      this.tasks.delete(executionId);
    }
    const allRunning = () => this.tasks.size > 0 && [...this.tasks.values()].every((t) => t.state === 'RUNNING');
    if (state === 'RUNNING' && allRunning()) this.prepareSpareAfter(SPARE_RUNNING_MS, allRunning);
    this.listener.onTaskState({
      executionId,
      jobId: task.jobId,
      name: task.name,
      state,
      ...(failure ? { failure } : {}),
      ...(task.metrics ? { metrics: task.metrics } : {}),
    });
    if (this.tasks.size === 0 && this.used && this.ready && !this.closing && !this.recycling)
      this.recycling = this.recycle().finally(() => (this.recycling = undefined));
  }

  /** Replaces a thread whose tasks all ended; deployments meanwhile wait in the queue. */
  private async recycle(): Promise<void> {
    const old = this.worker;
    if (!old) return;
    this.worker = undefined;
    this.ready = false;
    const closed = new Promise<boolean>((r) => old.on('message', (m: FromSlot) => m.t === 'closed' && r(true)));
    old.postMessage({ t: 'close' } satisfies ToSlot);
    // Once the old thread's data server is shut, its port is free and the next thread can bind it
    // while the old one is still being torn down.
    const shut = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    const terminated = old.terminate();
    if (!shut || this.closing) await terminated;
    if (this.closing) return;
    try {
      await this.start();
    } catch (e) {
      this.fatal(e as Error);
    }
    await terminated;
  }

  private fatal(e: Error): void {
    this.log.fatal({ err: e.message, slot: this.index }, 'cannot replace the thread of a slot; the TaskManager stops');
    process.exitCode = 1;
    process.kill(process.pid, 'SIGTERM');
  }

  private terminateStuck(executionId: string): void {
    const task = this.tasks.get(executionId);
    if (!task || !this.worker) return;
    this.terminationReason = `the thread of slot ${this.index} was terminated because task ${task.name} did not stop within ${this.config.cancellationTimeoutMs} ms of being canceled (task.cancellation.timeout)`;
    this.log.error(
      { slot: this.index, task: task.name, jobId: task.jobId },
      'a task did not stop on cancel: terminating its slot thread',
    );
    void this.worker.terminate();
  }

  /** Every task of a thread that is gone ends: canceled if it was being canceled, else failed. */
  private onThreadGone(reason: string): void {
    for (const r of this.triggers.values()) r({ ok: false, error: reason });
    for (const [id, t] of [...this.tasks]) {
      const canceled = t.cancelRequested;
      this.report(
        id,
        t,
        canceled ? 'CANCELED' : 'FAILED',
        canceled ? undefined : { message: reason, name: 'SlotThreadLost', operatorName: '' },
      );
    }
    this.queued = this.queued.filter((q) => q.msg.t === 'serve');
  }

  private restart(): void {
    if (this.closing) return;
    this.log.warn({ slot: this.index, dataAddress: this.dataAddress }, 'starting a new thread for the slot');
    this.start().catch((e: Error) => this.fatal(e));
  }
}
