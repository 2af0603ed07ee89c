// Flink's IntervalJoinOperator: a.keyBy(k).intervalJoin(b.keyBy(k)).between(lower, upper).
// A left row at t joins right rows of the same key at t + lower <= t' <= t + upper. Both sides
// are buffered per key by timestamp in the keyed state backend; each buffered bucket gets an
// event-time cleanup timer for the moment no future row can join it any more, so state stays
// bounded on an endless stream.
import type { IntervalJoinConfig } from '../../common/jobgraph.js';
import type { Collector } from '../../api/functions.js';
import {
  InternalTimerService,
  MIN_WATERMARK,
  type InternalTimer,
  type KeyContext,
  type Triggerable,
} from '../runtime/timer-service.js';
import type { KeyedEntry, KeyedStateBackend, StateMeta } from '../state/types.js';
import { IntervalJoinBuffer, type JoinSide } from './interval-join-buffer.js';
import {
  TwoInputStreamOperator,
  type OperatorSetup,
  type RawKeyedState,
  type StateInitializationContext,
} from './operator.js';
import { uninitializedKeyedState } from './uninitialized-state.js';

/** The context of ProcessJoinFunction.processElement. */
export interface IntervalJoinContext {
  getLeftTimestamp(): number;
  getRightTimestamp(): number;
  /** The result's timestamp: the larger of the two. */
  getTimestamp(): number;
  output(tag: { id: string }, value: unknown): void;
}

type JoinFn = (left: unknown, right: unknown, ctx: IntervalJoinContext, out: Collector<unknown>) => void;

/** Timer namespaces: which side's bucket a cleanup timer drops. */
const CLEANUP_LEFT = 'L';
const CLEANUP_RIGHT = 'R';
type CleanupNamespace = typeof CLEANUP_LEFT | typeof CLEANUP_RIGHT;

export interface IntervalJoinBounds {
  /** Inclusive bounds, after applying exclusivity (+1 / -1 as Flink does). */
  lowerBound: number;
  upperBound: number;
}

/** What the bounds need from the operator's config (the inclusive flags default to true). */
export type IntervalJoinBoundsConfig = Pick<IntervalJoinConfig, 'lowerBound' | 'upperBound'> &
  Partial<Pick<IntervalJoinConfig, 'lowerBoundInclusive' | 'upperBoundInclusive'>>;

/** Checks the bounds' meaning (the descriptor's schema checked their types); exclusive bounds become inclusive ones a millisecond inside. */
export function intervalJoinBounds(config: IntervalJoinBoundsConfig, operatorName: string): IntervalJoinBounds {
  const lower = config.lowerBound;
  const upper = config.upperBound;
  if (!Number.isFinite(lower) || !Number.isFinite(upper)) {
    throw new Error(
      `interval join '${operatorName}': lowerBound and upperBound must be finite numbers of milliseconds`,
    );
  }
  if (lower > upper)
    throw new Error(`interval join '${operatorName}': lowerBound (${lower}) must be <= upperBound (${upper})`);
  const lowerInclusive = config.lowerBoundInclusive !== false;
  const upperInclusive = config.upperBoundInclusive !== false;
  return { lowerBound: lowerInclusive ? lower : lower + 1, upperBound: upperInclusive ? upper : upper - 1 };
}

export class IntervalJoinOperator extends TwoInputStreamOperator implements KeyContext, Triggerable<CleanupNamespace> {
  readonly lowerBound: number;
  readonly upperBound: number;
  /** Rows that arrived behind the watermark (Flink's numLateRecordsDropped), side-output or not. */
  numLateRecordsDropped = 0;
  /** Side outputs for late rows of each input (Flink's sideOutputLeftLateData/sideOutputRightLateData). */
  private readonly lateDataTags: [string | undefined, string | undefined];
  private readonly fn: JoinFn;
  private readonly keyOf1: (v: unknown) => unknown;
  private readonly keyOf2: (v: unknown) => unknown;
  private backend: KeyedStateBackend;
  private buffer!: IntervalJoinBuffer;
  private readonly timers: InternalTimerService<CleanupNamespace>;
  private currentKey: unknown;
  /** The row being joined, read by `joinBucket` (bound once, so joining allocates no closure per row). */
  private joinSide: JoinSide = 0;
  private joinValue: unknown;
  private joinTimestamp = 0;
  private readonly joinBucket: (timestamp: number, rows: readonly unknown[]) => void;
  private leftTimestamp = 0;
  private rightTimestamp = 0;
  private resultTimestamp = 0;
  private readonly context: IntervalJoinContext;
  private readonly collector: Collector<unknown>;

  constructor(setup: OperatorSetup) {
    super(setup);
    const d = setup.descriptor;
    if (d.kind !== 'intervalJoin') throw new Error(`operator '${this.name}' of kind '${d.kind}' is no interval join`);
    ({ lowerBound: this.lowerBound, upperBound: this.upperBound } = intervalJoinBounds(d.config, this.name));
    if (!setup.keySelector || !setup.keySelector2) {
      throw new Error(
        `interval join '${this.name}' needs key selectors for both inputs (keyBy() each stream before intervalJoin())`,
      );
    }
    this.keyOf1 = setup.keySelector;
    this.keyOf2 = setup.keySelector2;
    this.fn = this.userFunction('processElement');
    const tag = (name: 'leftLateDataTag' | 'rightLateDataTag') => {
      const t = d.config[name];
      if (t !== undefined && (typeof t !== 'string' || t.length === 0))
        throw new Error(`interval join '${this.name}': config.${name} must be an output tag id`);
      return t;
    };
    this.lateDataTags = [tag('leftLateDataTag'), tag('rightLateDataTag')];
    this.timers = new InternalTimerService<CleanupNamespace>(
      this,
      this,
      setup.services.processingTime,
      (ns) => ns,
      'cleanup-timers',
    );
    this.backend = uninitializedKeyedState(this.name);
    this.context = {
      getLeftTimestamp: () => this.leftTimestamp,
      getRightTimestamp: () => this.rightTimestamp,
      getTimestamp: () => this.resultTimestamp,
      output: (tag, value) => this.output.collectSide(tag.id, value, this.resultTimestamp),
    };
    this.collector = { collect: (value) => this.output.collect(value, this.resultTimestamp) };
    this.joinBucket = (ts, rows) => {
      for (let i = 0; i < rows.length; i++) {
        if (this.joinSide === 0) this.emit(this.joinValue, rows[i], this.joinTimestamp, ts);
        else this.emit(rows[i], this.joinValue, ts, this.joinTimestamp);
      }
    };
  }

  override async initializeState(context: StateInitializationContext): Promise<void> {
    await super.initializeState(context);
    this.backend = this.requireKeyedStateBackend();
    this.buffer = new IntervalJoinBuffer(this.backend);
  }

  getCurrentKey(): unknown {
    return this.currentKey;
  }

  setCurrentKey(key: unknown): void {
    this.currentKey = key;
    this.backend.setCurrentKey(key);
  }

  processElement1(value: unknown, timestamp: number | undefined): void {
    this.processSide(0, value, timestamp);
  }

  processElement2(value: unknown, timestamp: number | undefined): void {
    this.processSide(1, value, timestamp);
  }

  /**
   * Buffers the row and joins it with the other side's buffered rows. For the right side the
   * relative bounds mirror: a right row at t joins left rows at t - upper <= t' <= t - lower.
   */
  private processSide(side: JoinSide, value: unknown, timestamp: number | undefined): void {
    if (timestamp === undefined) {
      throw new Error(
        `interval join '${this.name}': an element has no timestamp; interval joins run in event time (use assignTimestampsAndWatermarks() on both inputs)`,
      );
    }
    const wm = this.timers.currentWatermark();
    // Behind the watermark the partners it needs may already be cleaned up: drop it (or send it to
    // the input's late-data side output), as Flink does.
    if (wm !== MIN_WATERMARK && timestamp < wm) {
      this.numLateRecordsDropped++;
      const lateTag = this.lateDataTags[side];
      if (lateTag !== undefined) this.output.collectSide(lateTag, value, timestamp);
      return;
    }
    const relLower = side === 0 ? this.lowerBound : -this.upperBound;
    const relUpper = side === 0 ? this.upperBound : -this.lowerBound;
    let key: unknown;
    try {
      key = side === 0 ? this.keyOf1(value) : this.keyOf2(value);
    } catch (e) {
      this.fail(e);
    }
    this.setCurrentKey(key);
    this.buffer.add(side, timestamp, value);
    this.joinSide = side;
    this.joinValue = value;
    this.joinTimestamp = timestamp;
    this.buffer.forEachBucket(side === 0 ? 1 : 0, timestamp + relLower, timestamp + relUpper, this.joinBucket);

    // The last watermark at which a future (non-late, so at or after the watermark) row of the
    // other side can still join this bucket is t + relUpper, or t itself when that is earlier
    // (Flink's choice); one past it the bucket is unjoinable.
    const cleanupTime = (relUpper > 0 ? timestamp + relUpper : timestamp) + 1;
    this.timers.registerEventTimeTimer(side === 0 ? CLEANUP_LEFT : CLEANUP_RIGHT, cleanupTime);
  }

  private emit(left: unknown, right: unknown, leftTs: number, rightTs: number): void {
    this.leftTimestamp = leftTs;
    this.rightTimestamp = rightTs;
    this.resultTimestamp = Math.max(leftTs, rightTs);
    try {
      this.fn(left, right, this.context, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }

  /** The timer service has set the timer's key. */
  onEventTime(timer: InternalTimer<CleanupNamespace>): void {
    const t = timer.timestamp - 1;
    if (timer.namespace === CLEANUP_LEFT) this.buffer.removeBucket(0, this.upperBound > 0 ? t - this.upperBound : t);
    else this.buffer.removeBucket(1, this.lowerBound < 0 ? t + this.lowerBound : t);
  }

  onProcessingTime(): void {}

  override processWatermark(timestamp: number): void {
    // Cleanup first: nothing it drops could join a row that is not late at this watermark.
    this.timers.advanceWatermark(timestamp);
    this.output.emitWatermark(timestamp);
  }

  /** Rows buffered on both sides over all keys (bounded while the watermark advances). Reads the whole state: for tests. */
  async bufferedRows(): Promise<number> {
    return (await this.buffer.contents()).rows;
  }

  /** Keyed state entries (buckets and their indexes) plus cleanup timers: the state-entries metric. */
  override stateEntries(): number {
    return this.backend.numEntries() + this.timers.numEventTimeTimers();
  }

  /** Keys with buffered rows. Reads the whole state: for tests. */
  async bufferedKeys(): Promise<number> {
    return (await this.buffer.contents()).keys;
  }

  override snapshotRawKeyedState(): RawKeyedState {
    return this.timers.snapshot();
  }

  override restoreRawKeyedState(meta: StateMeta, entry: KeyedEntry): void {
    if (this.timers.ownsState(meta.name)) this.timers.restore(entry);
    else super.restoreRawKeyedState(meta, entry);
  }

  /** Pending cleanup timers. */
  numTimers(): number {
    return this.timers.numEventTimeTimers();
  }

  override async close(): Promise<void> {
    this.timers.close();
    await super.close();
  }
}
