// Flink's interval join: a.keyBy(k).intervalJoin(b.keyBy(k)).between(lower, upper).process(fn)
// pairs each left element at time t with the right elements of the same key at times in
// [t + lower, t + upper] (either bound exclusive on request). The 'intervalJoin' operator buffers
// both sides and drops rows once the watermark makes them unjoinable, so state stays bounded.
import type { IntervalJoinConfig } from '../common/jobgraph.js';
import type { KeyedStream, SingleOutputStreamOperator } from './datastream.js';
import { AbstractRichFunction, type Collector, type Lifecycle } from './functions.js';
import { keyPartitionOf } from './datastream.js';
import { checkUserFunction } from './function-utils.js';
import type { OutputTag } from './output-tag.js';
import { addTwoInputOperator } from './two-input.js';
import { offsetMs, type Duration } from './windowing/durations.js';

/** Context of ProcessJoinFunction.processElement. */
export interface ProcessJoinContext {
  getLeftTimestamp(): number;
  getRightTimestamp(): number;
  /** The result's timestamp: the larger of the two. */
  getTimestamp(): number;
  output<X>(tag: OutputTag<X>, value: X): void;
}

export type ProcessJoinFunctionLike<IN1, IN2, R> =
  | ((left: IN1, right: IN2, ctx: ProcessJoinContext, out: Collector<R>) => void)
  | ({ processElement(left: IN1, right: IN2, ctx: ProcessJoinContext, out: Collector<R>): void } & Lifecycle);

export abstract class ProcessJoinFunction<IN1, IN2, R> extends AbstractRichFunction {
  abstract processElement(left: IN1, right: IN2, ctx: ProcessJoinContext, out: Collector<R>): void;
}

/** What the 'intervalJoin' operator's config holds, bounds in milliseconds relative to the left element. */
export type { IntervalJoinConfig };

export class IntervalJoin<IN1, IN2, K> {
  constructor(
    private readonly left: KeyedStream<IN1, K>,
    private readonly right: KeyedStream<IN2, K>,
  ) {}

  /** Right elements with timestamps in [left + lower, left + upper] join; both inclusive unless changed. */
  between(lowerBound: Duration, upperBound: Duration): IntervalJoined<IN1, IN2, K> {
    const lower = offsetMs(lowerBound, 'intervalJoin between() lower bound');
    const upper = offsetMs(upperBound, 'intervalJoin between() upper bound');
    if (lower > upper)
      throw new RangeError(
        `intervalJoin between(): the lower bound (${lower} ms) must not be larger than the upper bound (${upper} ms)`,
      );
    return new IntervalJoined<IN1, IN2, K>(this.left, this.right, lower, upper);
  }
}

export class IntervalJoined<IN1, IN2, K> {
  private lowerInclusive = true;
  private upperInclusive = true;

  constructor(
    private readonly left: KeyedStream<IN1, K>,
    private readonly right: KeyedStream<IN2, K>,
    private readonly lower: number,
    private readonly upper: number,
  ) {}

  lowerBoundExclusive(): this {
    this.lowerInclusive = false;
    return this;
  }

  upperBoundExclusive(): this {
    this.upperInclusive = false;
    return this;
  }

  /** Calls `fn` once per joined pair; a plain function or an object with processElement(). */
  process<R>(fn: ProcessJoinFunctionLike<IN1, IN2, R>): SingleOutputStreamOperator<R> {
    checkUserFunction(fn, 'processElement', 'process');
    // Timestamps are whole milliseconds, so an exclusive bound is the inclusive one moved by 1 ms (as in Flink).
    const lowest = this.lowerInclusive ? this.lower : this.lower + 1;
    const highest = this.upperInclusive ? this.upper : this.upper - 1;
    if (lowest > highest) {
      throw new RangeError(
        `intervalJoin between(${this.lower}, ${this.upper}) with its exclusive bounds is empty and can never join anything`,
      );
    }
    const config: Omit<IntervalJoinConfig, 'keyRef1' | 'keyRef2'> = {
      lowerBound: this.lower,
      upperBound: this.upper,
      lowerBoundInclusive: this.lowerInclusive,
      upperBoundInclusive: this.upperInclusive,
    };
    return addTwoInputOperator<R, IN1, IN2>(this.left, this.right, {
      kind: 'intervalJoin',
      name: 'Interval Join',
      config: { ...config },
      userFunction: fn,
      keyedBy: keyPartitionOf(this.left),
      keyedBy2: keyPartitionOf(this.right),
      stateful: true,
    });
  }
}
