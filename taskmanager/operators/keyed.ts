// Keyed operators: reduce (and the field aggregations built on it) and KeyedProcessFunction.
// Keyed state is held per key in this subtask; the key-group layout comes from the hash
// partitioner upstream, so each key lives in exactly one subtask.
import type { Collector, KeyedProcessContext, ProcessContext, TimerService } from '../../api/functions.js';
import { TimestampedCollector } from './basic.js';
import { StreamOperator, type OperatorSetup } from './operator.js';

export class StreamGroupedReduce extends StreamOperator {
  private readonly fn: (a: unknown, b: unknown) => unknown;
  private readonly keyOf: (v: unknown) => unknown;
  private readonly state = new Map<unknown, unknown>();

  constructor(setup: OperatorSetup) {
    super(setup);
    this.fn = this.userFunction('reduce');
    if (!setup.keySelector) throw new Error(`operator '${this.name}' is keyed but has no key selector`);
    this.keyOf = setup.keySelector;
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    let result: unknown;
    try {
      const key = this.keyOf(value);
      const current = this.state.get(key);
      result = current === undefined ? value : this.fn(current, value);
      this.state.set(key, result);
    } catch (e) {
      this.fail(e);
    }
    this.output.collect(result, timestamp);
  }

  /** Number of keys held, for tests and metrics. */
  get numKeys(): number {
    return this.state.size;
  }
}

class UnsupportedTimers implements TimerService {
  constructor(private readonly operatorName: string) {}
  currentProcessingTime(): number {
    return Date.now();
  }
  currentWatermark(): number {
    return Number.MIN_SAFE_INTEGER;
  }
  private unsupported(): never {
    throw new Error(`operator '${this.operatorName}': timers are not available in this version of Weir`);
  }
  registerEventTimeTimer(): void {
    this.unsupported();
  }
  registerProcessingTimeTimer(): void {
    this.unsupported();
  }
  deleteEventTimeTimer(): void {
    this.unsupported();
  }
  deleteProcessingTimeTimer(): void {
    this.unsupported();
  }
}

/** ProcessFunction (non-keyed) and KeyedProcessFunction share everything but the key. */
export class ProcessOperator extends StreamOperator implements KeyedProcessContext<unknown> {
  private readonly fn: (v: unknown, ctx: ProcessContext, out: Collector<unknown>) => void;
  private readonly keyOf: ((v: unknown) => unknown) | undefined;
  private readonly collector: TimestampedCollector;
  private readonly timers: TimerService;
  private currentKey: unknown;
  private currentTimestamp: number | undefined;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.fn = this.userFunction('processElement');
    this.keyOf = setup.keySelector;
    this.collector = new TimestampedCollector(this.output);
    this.timers = new UnsupportedTimers(this.name);
  }

  timestamp(): number | null {
    return this.currentTimestamp ?? null;
  }

  timerService(): TimerService {
    return this.timers;
  }

  getCurrentKey(): unknown {
    if (!this.keyOf) throw new Error(`operator '${this.name}' is not keyed: getCurrentKey() needs keyBy() before process()`);
    return this.currentKey;
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.currentTimestamp = timestamp;
    this.collector.timestamp = timestamp;
    try {
      if (this.keyOf) this.currentKey = this.keyOf(value);
      this.fn(value, this, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }
}
