// What keyed two-input process operators share (KeyedCoProcessFunction,
// KeyedBroadcastProcessFunction): the current key, per-key timers on the operator's combined
// watermark, and onTimer dispatch. Non-keyed variants get the same TimerService, whose reads
// work and whose timer registration fails clearly, as in Flink.
import type { TimeDomain } from '../../api/functions.js';
import {
  InternalTimerService,
  type InternalTimer,
  type KeyContext,
  type Triggerable,
} from '../runtime/timer-service.js';
import type { KeyedEntry, StateMeta } from '../state/types.js';
import { TimestampedCollector } from './basic.js';
import { TwoInputStreamOperator, type OperatorSetup, type RawKeyedState } from './operator.js';
import { processFunctionTimers, type ProcessTimerService } from './process-timers.js';

/** The user's onTimer, when the function object has one. */
export function optionalMethod<F extends (...args: never[]) => unknown>(
  userCode: unknown,
  method: string,
): F | undefined {
  const m =
    userCode !== null && typeof userCode === 'object' ? (userCode as Record<string, unknown>)[method] : undefined;
  return typeof m === 'function' ? ((m as F).bind(userCode) as F) : undefined;
}

export abstract class CoTimerOperator extends TwoInputStreamOperator implements KeyContext, Triggerable<null> {
  protected readonly timers: InternalTimerService<null> | undefined;
  /** What the user's context returns from timerService(). */
  readonly timerService: ProcessTimerService;
  /** Stamps results with the current record's timestamp (or the event-time timer's time). */
  protected readonly collector: TimestampedCollector;
  protected currentKey: unknown;
  currentTimestamp: number | undefined;
  /** Set while onTimer runs: the timer's time and domain. */
  timerTime = 0;
  timerDomain: TimeDomain = 'EVENT_TIME';

  /**
   * @param keyed whether records carry a key (timers and getCurrentKey need one)
   * @param notKeyedHint how the user makes the stream keyed, for error messages
   */
  constructor(
    setup: OperatorSetup,
    readonly keyed: boolean,
    private readonly notKeyedHint: string,
  ) {
    super(setup);
    this.collector = new TimestampedCollector(this.output);
    ({ timers: this.timers, timerService: this.timerService } = processFunctionTimers(
      this,
      keyed,
      setup.services.processingTime,
      () => this.currentWatermark(),
      notKeyedHint,
    ));
  }

  // --- KeyContext ---
  getCurrentKey(): unknown {
    if (!this.keyed)
      throw new Error(`operator '${this.name}' is not keyed: getCurrentKey() needs ${this.notKeyedHint}`);
    return this.currentKey;
  }

  /** Also the key of the user's keyed state: called for every keyed record and timer. */
  setCurrentKey(key: unknown): void {
    this.currentKey = key;
    this.keyedStateBackend?.setCurrentKey(key);
  }

  /** The combined watermark of both inputs. */
  override currentWatermark(): number {
    return super.currentWatermark();
  }

  // --- Triggerable ---
  onEventTime(timer: InternalTimer<null>): void {
    this.fireTimer(timer.timestamp, 'EVENT_TIME', timer.timestamp);
  }

  onProcessingTime(timer: InternalTimer<null>): void {
    // As Flink: processing-time timers' output has no event timestamp.
    this.fireTimer(timer.timestamp, 'PROCESSING_TIME', undefined);
  }

  private fireTimer(time: number, domain: TimeDomain, recordTimestamp: number | undefined): void {
    this.timerDomain = domain;
    this.timerTime = time;
    this.currentTimestamp = recordTimestamp;
    this.collector.timestamp = recordTimestamp;
    try {
      this.invokeOnTimer(time);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Calls the user's onTimer (if any) with the operator's OnTimerContext. */
  protected abstract invokeOnTimer(time: number): void;

  /** Sets the per-record fields user code reads through its context. */
  protected enterRecord(timestamp: number | undefined): void {
    this.currentTimestamp = timestamp;
    this.collector.timestamp = timestamp;
  }

  override processWatermark(timestamp: number): void {
    // Timers first, so their output precedes the watermark that made them fire.
    this.timers?.advanceWatermark(timestamp);
    this.output.emitWatermark(timestamp);
  }

  /** Live timers (event time + processing time), for tests and metrics. */
  numTimers(): number {
    return this.timers ? this.timers.numEventTimeTimers() + this.timers.numProcessingTimeTimers() : 0;
  }

  /** Keyed state entries plus live timers (the state-entries metric). */
  override stateEntries(): number {
    return (this.keyedStateBackend?.numEntries() ?? 0) + this.numTimers();
  }

  override snapshotRawKeyedState(): RawKeyedState | undefined {
    return this.timers?.snapshot();
  }

  override restoreRawKeyedState(meta: StateMeta, entry: KeyedEntry): void {
    if (this.timers?.ownsState(meta.name)) this.timers.restore(entry);
    else super.restoreRawKeyedState(meta, entry);
  }

  override async close(): Promise<void> {
    this.timers?.close();
    await super.close();
  }
}
