// Timestamps and watermarks for one stream, from a WatermarkStrategy: at a source (wrapping the
// reader's output) or in the assignTimestampsAndWatermarks operator. The generator sees every
// record; periodic emission and idleness detection run from the task's mailbox, and under load
// periodic emission also follows the record count.
import type { WatermarkAlignmentConfig } from '../../common/jobgraph.js';
import type { Output, TaskServices } from '../operators/operator.js';
import { MAX_WATERMARK, MIN_WATERMARK } from './timer-service.js';

/**
 * Records after which the periodic watermark is emitted even before the interval is up. Window
 * state waits for the watermark: at a million records a second per subtask, 200 ms would hold
 * 200 000 records' worth of it, long enough to outlive a few young-generation collections, be
 * copied each time and then promoted. A source slower than this many records per interval is
 * not affected. No effect when periodic watermarks are off (interval 0).
 */
export const WATERMARK_RECORD_INTERVAL = 10_000;

/** How many records may pass between two periodic emissions, for an interval of `intervalMs`. */
export function recordIntervalFor(intervalMs: number): number {
  return intervalMs > 0 ? WATERMARK_RECORD_INTERVAL : Infinity;
}

interface WatermarkOutputLike {
  emitWatermark(watermark: number): void;
  markIdle(): void;
  markActive(): void;
}

interface GeneratorLike {
  onEvent(event: unknown, timestamp: number, output: WatermarkOutputLike): void;
  onPeriodicEmit(output: WatermarkOutputLike): void;
}

/** The parts of the API's WatermarkStrategy the runtime reads. */
export interface StrategyLike {
  kind?: string;
  idleness?: number;
  timestampAssigner?: (element: unknown, recordTimestamp: number | null) => number;
  createWatermarkGenerator?: () => GeneratorLike;
  /** Watermark alignment: only a source's strategy has it (the API refuses it elsewhere). */
  alignment?: WatermarkAlignmentConfig;
}

export function hasWatermarks(strategy: StrategyLike | undefined): strategy is StrategyLike {
  return !!strategy && (strategy.kind !== 'noWatermarks' || strategy.timestampAssigner !== undefined);
}

export class WatermarkEmitter implements Output, WatermarkOutputLike {
  private readonly assigner: ((e: unknown, t: number | null) => number) | undefined;
  private readonly generator: GeneratorLike | undefined;
  private readonly idleTimeout: number | undefined;
  private current = MIN_WATERMARK;
  private idle = false;
  private lastRecordAt: number;
  private cancelTick: (() => void) | undefined;
  private stopped = false;
  private readonly recordInterval: number;
  /** Records with a timestamp since the last periodic emission. */
  private sincePeriodic = 0;

  constructor(
    strategy: StrategyLike,
    private readonly downstream: Output,
    private readonly services: TaskServices,
    private readonly intervalMs: number,
    /** Idle status goes to the task's network outputs (downstream valves). */
    private readonly setIdle: (idle: boolean) => void,
  ) {
    this.assigner = strategy.timestampAssigner;
    this.generator = strategy.createWatermarkGenerator?.();
    this.idleTimeout = strategy.idleness;
    this.lastRecordAt = services.processingTime.now();
    this.recordInterval = recordIntervalFor(intervalMs);
  }

  start(): void {
    if ((this.generator || this.idleTimeout !== undefined) && this.intervalMs > 0) this.scheduleTick();
  }

  private scheduleTick(): void {
    const pt = this.services.processingTime;
    this.cancelTick = pt.schedule(pt.now() + this.intervalMs, () => {
      if (this.stopped) return;
      if (this.idleTimeout !== undefined && !this.idle && pt.now() - this.lastRecordAt >= this.idleTimeout)
        this.markIdle();
      else if (!this.idle) this.periodicEmit();
      this.scheduleTick();
    });
  }

  collect(value: unknown, timestamp: number | undefined): void {
    let ts = timestamp;
    if (this.assigner) ts = this.assigner(value, timestamp ?? null);
    if (this.idleTimeout !== undefined) this.lastRecordAt = this.services.processingTime.now();
    if (this.idle) this.markActive();
    // Forward first: a watermark the generator emits for this event must follow it.
    this.downstream.collect(value, ts);
    if (this.generator && ts !== undefined) {
      this.generator.onEvent(value, ts, this);
      if (++this.sincePeriodic >= this.recordInterval) this.periodicEmit();
    }
  }

  private periodicEmit(): void {
    this.sincePeriodic = 0;
    this.generator?.onPeriodicEmit(this);
  }

  collectSide(tag: string, value: unknown, timestamp: number | undefined): void {
    this.downstream.collectSide(tag, value, timestamp);
  }

  emitWatermark(watermark: number): void {
    if (watermark <= this.current) return;
    this.current = watermark;
    if (this.idle) this.markActive();
    this.downstream.emitWatermark(watermark);
  }

  markIdle(): void {
    if (this.idle) return;
    this.idle = true;
    this.setIdle(true);
  }

  markActive(): void {
    if (!this.idle) return;
    this.idle = false;
    this.setIdle(false);
  }

  /** End of a bounded input: everything is complete, every event-time window may fire. */
  endOfInput(): void {
    this.emitWatermark(MAX_WATERMARK);
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTick?.();
  }
}
