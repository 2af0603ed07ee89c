// Keyed operators: reduce (and the field aggregations built on it) and KeyedProcessFunction.
// Keyed state lives in the operator's keyed state backend; the key-group layout comes from the
// hash partitioner upstream, so each key lives in exactly one subtask.
import { onTimerContext, processContext } from './process-contexts.js';
import type {
  Collector,
  KeyedProcessContext,
  OnTimerContext,
  ProcessContext,
  TimeDomain,
} from '../../api/functions.js';
import {
  InternalTimerService,
  MIN_WATERMARK,
  type InternalTimer,
  type KeyContext,
  type Triggerable,
} from '../runtime/timer-service.js';
import {
  VOID_NAMESPACE,
  type KeyedEntry,
  type KeyedStateBackend,
  type StateMeta,
  type StateTable,
} from '../state/types.js';
import { processFunctionTimers, type ProcessTimerService } from './process-timers.js';
import { TimestampedCollector } from './basic.js';
import { StreamOperator, type OperatorSetup, type RawKeyedState, type StateInitializationContext } from './operator.js';
import { keyedEntries } from './state-inspection.js';
import { uninitializedKeyedState } from './uninitialized-state.js';

/** The reduced value per key (Flink's StreamGroupedReduceOperator keeps it under this name). */
const REDUCE_STATE: StateMeta = { name: '_op_state', kind: 'value' };

export class StreamGroupedReduce extends StreamOperator {
  private readonly fn: (a: unknown, b: unknown) => unknown;
  private readonly keyOf: (v: unknown) => unknown;
  private backend: KeyedStateBackend;
  private values: StateTable;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.fn = this.userFunction('reduce');
    if (!setup.keySelector) throw new Error(`operator '${this.name}' is keyed but has no key selector`);
    this.keyOf = setup.keySelector;
    this.backend = this.values = uninitializedKeyedState(this.name);
  }

  override async initializeState(context: StateInitializationContext): Promise<void> {
    await super.initializeState(context);
    this.backend = this.requireKeyedStateBackend();
    this.values = this.backend.getTable(REDUCE_STATE);
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    let result: unknown;
    try {
      this.backend.setCurrentKey(this.keyOf(value));
      const current = this.values.get(VOID_NAMESPACE);
      result = current === undefined ? value : this.fn(current, value);
      this.values.put(VOID_NAMESPACE, result);
    } catch (e) {
      this.fail(e);
    }
    this.output.collect(result, timestamp);
  }

  /** Number of keys held. Reads the whole state: for tests. */
  async numKeys(): Promise<number> {
    return (await keyedEntries(this.backend, (name) => name === REDUCE_STATE.name)).length;
  }

  override stateEntries(): number {
    return this.backend.numEntries();
  }
}

/**
 * ProcessFunction (non-keyed) and KeyedProcessFunction share everything but the key; only the
 * keyed one may set timers, which are per key and fire through onTimer.
 */
export class ProcessOperator extends StreamOperator implements KeyContext, Triggerable<null> {
  private readonly fn: (v: unknown, ctx: ProcessContext, out: Collector<unknown>) => void;
  private readonly onTimerFn: ((t: number, ctx: OnTimerContext<unknown>, out: Collector<unknown>) => void) | undefined;
  private readonly keyOf: ((v: unknown) => unknown) | undefined;
  private readonly collector: TimestampedCollector;
  private readonly timers: InternalTimerService<null> | undefined;
  private currentKey: unknown;
  currentTimestamp: number | undefined;
  private watermark = MIN_WATERMARK;
  timerDomain: TimeDomain = 'EVENT_TIME';
  timerTime = 0;
  private readonly onTimerContext: OnTimerContext<unknown>;
  private readonly processContext: KeyedProcessContext<unknown>;
  readonly timerService: ProcessTimerService;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.fn = this.userFunction('processElement');
    const u = setup.userCode as { onTimer?: (...a: never[]) => void };
    this.onTimerFn =
      u && typeof u === 'object' && typeof u.onTimer === 'function' ? (u.onTimer.bind(u) as never) : undefined;
    this.keyOf = setup.keySelector;
    this.collector = new TimestampedCollector(this.output);
    ({ timers: this.timers, timerService: this.timerService } = processFunctionTimers(
      this,
      Boolean(this.keyOf),
      setup.services.processingTime,
      () => this.watermark,
      'use keyBy() before process()',
    ));
    this.processContext = processContext(this);
    this.onTimerContext = onTimerContext(this);
  }

  getCurrentKey(): unknown {
    if (!this.keyOf)
      throw new Error(`operator '${this.name}' is not keyed: getCurrentKey() needs keyBy() before process()`);
    return this.currentKey;
  }

  setCurrentKey(key: unknown): void {
    this.currentKey = key;
    this.keyedStateBackend?.setCurrentKey(key);
  }

  // --- Triggerable ---
  onEventTime(timer: InternalTimer<null>): void {
    this.fireTimer(timer.timestamp, 'EVENT_TIME', timer.timestamp);
  }

  onProcessingTime(timer: InternalTimer<null>): void {
    this.fireTimer(timer.timestamp, 'PROCESSING_TIME', undefined);
  }

  private fireTimer(time: number, domain: TimeDomain, recordTimestamp: number | undefined): void {
    if (!this.onTimerFn) return;
    this.timerDomain = domain;
    this.timerTime = time;
    this.currentTimestamp = recordTimestamp;
    this.collector.timestamp = recordTimestamp;
    try {
      this.onTimerFn(time, this.onTimerContext, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.currentTimestamp = timestamp;
    this.collector.timestamp = timestamp;
    try {
      if (this.keyOf) this.setCurrentKey(this.keyOf(value));
      this.fn(value, this.processContext, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }

  override processWatermark(timestamp: number): void {
    this.watermark = timestamp;
    // Timers first, so their output precedes the watermark that made them fire.
    this.timers?.advanceWatermark(timestamp);
    this.output.emitWatermark(timestamp);
  }

  override snapshotRawKeyedState(): RawKeyedState | undefined {
    return this.timers?.snapshot();
  }

  override restoreRawKeyedState(meta: StateMeta, entry: KeyedEntry): void {
    if (this.timers?.ownsState(meta.name)) this.timers.restore(entry);
    else super.restoreRawKeyedState(meta, entry);
  }

  /** Keyed state entries plus live timers (the state-entries metric). */
  override stateEntries(): number {
    const timers = this.timers ? this.timers.numEventTimeTimers() + this.timers.numProcessingTimeTimers() : 0;
    return (this.keyedStateBackend?.numEntries() ?? 0) + timers;
  }

  override async close(): Promise<void> {
    this.timers?.close();
    await super.close();
  }
}
