// The operator contract inside a task. Chained operators call each other directly through
// Outputs; only the chain's ends touch the network.
import type { RuntimeContext } from '../../api/functions.js';
import type {
  CheckpointedFunction,
  CheckpointListener,
  FunctionInitializationContext,
  FunctionSnapshotContext,
  KeyedStateStore,
  OperatorStateStore,
} from '../../api/state.js';
import type { CheckpointOptions, TaskCheckpointSettings } from '../../common/checkpoint.js';
import { keyRefsOf, type OperatorDescriptor } from '../../common/jobgraph.js';
import type { Logger } from '../../common/logging.js';
import type { LagTracker } from '../runtime/lag-tracker.js';
import type { ProcessingTimeService } from '../runtime/timer-service.js';
import { KeyedStateStoreImpl } from '../state/state-objects.js';
import type { KeyedEntry, KeyedStateBackend, StateMeta } from '../state/types.js';

export interface Output {
  /** Hot path: one call per record, no allocation. */
  collect(value: unknown, timestamp: number | undefined): void;
  /** A record for the side output named by an OutputTag id; dropped when nothing consumes that tag. */
  collectSide(tag: string, value: unknown, timestamp: number | undefined): void;
  emitWatermark(timestamp: number): void;
}

/** Per-task facilities operators share. */
export interface TaskServices {
  readonly jobId: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly taskName: string;
  readonly attempt: number;
  readonly log: Logger;
  /**
   * Set by an operator whose user code returned a promise (an async sink, say): the task awaits
   * it before handing over the next record, so async work is backpressure, not a queue.
   */
  pending: Promise<unknown> | undefined;
  /** Records the sinks of this chain received (a metric). */
  sinkRecords: number;
  /** Event-time lag of the records the sinks of this chain received. */
  readonly sinkLag: LagTracker;
  /** Awaits and clears `pending`. */
  drainPending(): Promise<void>;
  /** Processing time and callbacks run inside this task (its mailbox). */
  processingTime: ProcessingTimeService;
  /** Milliseconds between periodic watermarks (ExecutionConfig.setAutoWatermarkInterval). */
  readonly autoWatermarkInterval: number;
  /** Tells downstream tasks this task's output is idle (or active again), so it does not hold back their watermark. */
  setIdle(idle: boolean): void;
  /** Set when the job checkpoints: operators with two-phase commits then commit on checkpoint completion only. */
  readonly checkpointing?: TaskCheckpointSettings;
}

/** What an operator gets before open(): its state, restored when the task starts from a checkpoint. */
export interface StateInitializationContext {
  isRestored(): boolean;
  /** Non-keyed list state of this operator subtask (Flink's OperatorStateStore). */
  getOperatorStateStore(): OperatorStateStore;
  /** Keyed state of this operator; undefined for operators on non-keyed streams. */
  readonly keyedStateBackend: KeyedStateBackend | undefined;
  /** Broadcast state (a map per name, the same in every subtask), kept in operator state. */
  getBroadcastState(name: string): Map<unknown, unknown>;
}

/** Keyed entries an operator keeps outside its backend (timers), written into the same snapshot file. */
export interface RawKeyedState {
  states: StateMeta[];
  entries: KeyedEntry[];
}

export interface SnapshotContext {
  readonly checkpointId: number;
  readonly timestamp: number;
  /** What kind of snapshot (a savepoint, a stop-with-savepoint); absent for a plain checkpoint. */
  readonly options?: CheckpointOptions;
}

export interface OperatorSetup {
  descriptor: OperatorDescriptor;
  /** The user object from the bundle (function, function object, source or sink descriptor). */
  userCode: unknown;
  /** Key selector of keyed operators (of input 1 for two-input operators). */
  keySelector?: (value: unknown) => unknown;
  /** Key selector of input 2 of keyed two-input operators. */
  keySelector2?: (value: unknown) => unknown;
  output: Output;
  services: TaskServices;
}

/**
 * Whether the task must give this operator a keyed state backend: operators on a keyed stream
 * (config.keyRef, or keyRef1 for two-input operators) and every window operator (windowAll keeps
 * its windows under one implicit key, as Flink's NullByteKeySelector).
 */
export function needsKeyedStateBackend(descriptor: OperatorDescriptor): boolean {
  return keyRefsOf(descriptor).keyRef1 !== undefined || descriptor.kind === 'window';
}

const NOT_KEYED = "Keyed state can only be used on a 'keyed stream', i.e., after a 'keyBy()' operation.";

function isCheckpointedFunction(fn: unknown): fn is CheckpointedFunction {
  const f = fn as Partial<CheckpointedFunction> | null;
  return (
    typeof f === 'object' &&
    f !== null &&
    typeof f.initializeState === 'function' &&
    typeof f.snapshotState === 'function'
  );
}

/** Error raised by user code, tagged with the operator it came from. */
export class UserCodeError extends Error {
  constructor(
    readonly operatorName: string,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = cause instanceof Error ? cause.name : 'Error';
    this.stack = cause instanceof Error ? cause.stack : undefined;
  }
}

export abstract class StreamOperator {
  readonly name: string;
  /** Public for the process functions' contexts (process-contexts.ts). */
  readonly output: Output;
  protected readonly services: TaskServices;
  /** This operator's keyed state (set by initializeState on keyed streams). */
  protected keyedStateBackend: KeyedStateBackend | undefined;
  private stateContext: StateInitializationContext | undefined;
  private keyedStateStore: KeyedStateStore | undefined;

  constructor(protected readonly setup: OperatorSetup) {
    this.name = setup.descriptor.name;
    this.output = setup.output;
    this.services = setup.services;
  }

  /** The user object whose open/close this operator calls (its function, unless it says otherwise). */
  protected lifecycleObject(): unknown {
    return this.setup.userCode;
  }

  /** Opens the user function (Flink's RichFunction.open) with a RuntimeContext. */
  async open(): Promise<void> {
    const fn = this.lifecycleObject() as
      { open?: (ctx: RuntimeContext) => unknown; setRuntimeContext?: (ctx: RuntimeContext) => void } | undefined;
    if (!fn || typeof fn !== 'object') return;
    const ctx = this.runtimeContext();
    try {
      fn.setRuntimeContext?.(ctx);
      if (typeof fn.open === 'function') await fn.open(ctx);
    } catch (e) {
      throw new UserCodeError(this.name, e);
    }
  }

  abstract processElement(value: unknown, timestamp: number | undefined): void;

  /**
   * Called before open(): take state handles, read restored state (Flink's initializeState). The
   * base keeps the keyed backend and lets a CheckpointedFunction initialize its state; operators
   * that override it call super first.
   */
  async initializeState(context: StateInitializationContext): Promise<void> {
    this.stateContext = context;
    this.keyedStateBackend = context.keyedStateBackend;
    const fn = this.lifecycleObject();
    if (!isCheckpointedFunction(fn)) return;
    const fic: FunctionInitializationContext = {
      isRestored: () => context.isRestored(),
      getOperatorStateStore: () => context.getOperatorStateStore(),
      getKeyedStateStore: () => this.keyedState(),
    };
    try {
      await fn.initializeState(fic);
    } catch (e) {
      throw new UserCodeError(this.name, e);
    }
  }

  /**
   * Called at a checkpoint barrier, for every operator of the chain before any snapshots its state:
   * the last moment to emit records that must precede the barrier (Flink's prepareSnapshotPreBarrier).
   */
  prepareSnapshotPreBarrier(_checkpointId: number): void {}

  /**
   * Called at a checkpoint barrier, before the barrier is forwarded: copy in-flight work into
   * operator state (keyed state is snapshotted by the backend). Keep it short. The base asks a
   * CheckpointedFunction to snapshot; operators that override it call super.
   */
  async snapshotState(context: SnapshotContext): Promise<void> {
    const fn = this.lifecycleObject();
    if (!isCheckpointedFunction(fn)) return;
    const fsc: FunctionSnapshotContext = {
      getCheckpointId: () => context.checkpointId,
      getCheckpointTimestamp: () => context.timestamp,
    };
    try {
      await fn.snapshotState(fsc);
    } catch (e) {
      throw new UserCodeError(this.name, e);
    }
  }

  /** The checkpoint completed everywhere: publish what it covers (two-phase commit). Tells a CheckpointListener function. */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await this.tellCheckpointListener('notifyCheckpointComplete', checkpointId);
  }

  async notifyCheckpointAborted(checkpointId: number): Promise<void> {
    await this.tellCheckpointListener('notifyCheckpointAborted', checkpointId);
  }

  private async tellCheckpointListener(method: keyof CheckpointListener, checkpointId: number): Promise<void> {
    const fn = this.lifecycleObject() as Partial<CheckpointListener> | null | undefined;
    const hook = fn && typeof fn === 'object' ? fn[method] : undefined;
    if (typeof hook !== 'function') return;
    try {
      await hook.call(fn, checkpointId);
    } catch (e) {
      throw new UserCodeError(this.name, e);
    }
  }

  /** The user's keyed state of the current key (the RuntimeContext getters and getKeyedStateStore()). */
  protected keyedState(): KeyedStateStore {
    if (this.keyedStateStore) return this.keyedStateStore;
    const backend = this.keyedStateBackend;
    if (!backend) {
      if (this.setup.keySelector && !this.stateContext) {
        throw new Error(
          `operator '${this.name}': keyed state is only available once the operator's state is initialized (initializeState() runs before open())`,
        );
      }
      throw new Error(NOT_KEYED);
    }
    this.keyedStateStore = new KeyedStateStoreImpl(backend, this.services.processingTime);
    this.keyedStateUsed(backend);
    return this.keyedStateStore;
  }

  /** The user function asked for keyed state for the first time (operators that set keys lazily start now). */
  protected keyedStateUsed(_backend: KeyedStateBackend): void {}

  /** The operator's keyed backend, for operators that keep their own state in it. */
  protected requireKeyedStateBackend(): KeyedStateBackend {
    const b = this.keyedStateBackend;
    if (!b)
      throw new Error(
        `operator '${this.name}' keeps keyed state but was given no keyed state backend (initializeState() with a backend must run before open())`,
      );
    return b;
  }

  /** Timers and other keyed entries outside the backend, taken in the synchronous part of a checkpoint. */
  snapshotRawKeyedState(): RawKeyedState | undefined {
    return undefined;
  }

  /** Puts back one restored entry of snapshotRawKeyedState() (state names start with '_timer'). Before open(). */
  restoreRawKeyedState(meta: StateMeta, _entry: KeyedEntry): void {
    throw new Error(`operator '${this.name}' cannot restore keyed state '${meta.name}': it keeps no such state`);
  }

  processWatermark(timestamp: number): void {
    this.output.emitWatermark(timestamp);
  }

  /** End of input (bounded streams): emit what is buffered. */
  async finish(): Promise<void> {}

  /** Metrics of a connector operator (a sink), by Flink's names; undefined for the others. */
  connectorMetrics(): Record<string, number> | undefined {
    return undefined;
  }

  /** Entries this operator holds in state (keys, windows, buffered rows), reported as a task metric. */
  stateEntries(): number {
    return this.keyedStateBackend?.numEntries() ?? 0;
  }

  async close(): Promise<void> {
    const fn = this.lifecycleObject() as { close?: () => unknown } | undefined;
    if (fn && typeof fn === 'object' && typeof fn.close === 'function') {
      try {
        await fn.close();
      } catch (e) {
        throw new UserCodeError(this.name, e);
      }
    }
  }

  protected runtimeContext(): RuntimeContext {
    const s = this.services;
    return {
      getJobId: () => s.jobId,
      getTaskName: () => s.taskName,
      getIndexOfThisSubtask: () => s.subtaskIndex,
      getNumberOfParallelSubtasks: () => s.parallelism,
      getMaxNumberOfParallelSubtasks: () => s.maxParallelism,
      getAttemptNumber: () => s.attempt,
      getState: (d) => this.keyedState().getState(d),
      getListState: (d) => this.keyedState().getListState(d),
      getMapState: (d) => this.keyedState().getMapState(d),
      getReducingState: (d) => this.keyedState().getReducingState(d),
      getAggregatingState: (d) => this.keyedState().getAggregatingState(d),
    };
  }

  /** Resolves a plain function or a function object's method into one callable. */
  protected userFunction<F extends (...args: never[]) => unknown>(method: string): F {
    const u = this.setup.userCode as Record<string, unknown> | ((...a: unknown[]) => unknown);
    if (typeof u === 'function') return u as unknown as F;
    const m = u && (u as Record<string, unknown>)[method];
    if (typeof m !== 'function') throw new Error(`operator '${this.name}': user code has no ${method}() method`);
    return (m as F).bind(u) as F;
  }

  protected fail(e: unknown): never {
    throw e instanceof UserCodeError ? e : new UserCodeError(this.name, e);
  }
}

/**
 * An operator with two inputs (Flink's TwoInputStreamOperator): always the head of its chain.
 * The task feeds each input's records and each input's own watermark (the minimum over that
 * input's channels); the operator's event time is the minimum of the two.
 */
export abstract class TwoInputStreamOperator extends StreamOperator {
  private watermark1 = Number.MIN_SAFE_INTEGER;
  private watermark2 = Number.MIN_SAFE_INTEGER;
  private idle1 = false;
  private idle2 = false;
  private combinedWatermark = Number.MIN_SAFE_INTEGER;

  abstract processElement1(value: unknown, timestamp: number | undefined): void;
  abstract processElement2(value: unknown, timestamp: number | undefined): void;

  processElement(): void {
    throw new Error(`operator '${this.name}' has two inputs: records go to processElement1/processElement2`);
  }

  processWatermark1(timestamp: number): void {
    this.watermark1 = timestamp;
    this.combine();
  }

  processWatermark2(timestamp: number): void {
    this.watermark2 = timestamp;
    this.combine();
  }

  /** An input that went idle (all its channels idle) no longer holds the other one back. */
  processWatermarkStatus1(idle: boolean): void {
    this.idle1 = idle;
    this.combine();
  }

  processWatermarkStatus2(idle: boolean): void {
    this.idle2 = idle;
    this.combine();
  }

  private combine(): void {
    let wm: number;
    if (this.idle1 && !this.idle2) wm = this.watermark2;
    else if (this.idle2 && !this.idle1) wm = this.watermark1;
    else if (this.idle1 && this.idle2) return;
    else wm = Math.min(this.watermark1, this.watermark2);
    if (wm <= this.combinedWatermark) return;
    this.combinedWatermark = wm;
    // Keyed two-input operators override processWatermark to fire their timers first.
    this.processWatermark(wm);
  }

  /** The operator's event time: the minimum of both inputs' watermarks. */
  protected currentWatermark(): number {
    return this.combinedWatermark;
  }
}
