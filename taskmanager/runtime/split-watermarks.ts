// Watermarks per source split (Flink's per-split watermark generation, e.g. per Kafka partition):
// each split has its own generator, and the source's watermark is the minimum over its active
// splits. A split idle for the strategy's idleness is left out; a reader with no active split at
// all marks the source idle, so a subtask without partitions never holds the job back.
import type { Output, TaskServices } from '../operators/operator.js';
import { MAX_WATERMARK, MIN_WATERMARK } from './timer-service.js';
import { recordIntervalFor, type StrategyLike } from './watermark-emitter.js';

type Generator = NonNullable<ReturnType<NonNullable<StrategyLike['createWatermarkGenerator']>>>;

/** What a split-aware reader writes its records to. */
export interface SplitOutput {
  collect(split: string, value: unknown, recordTimestamp: number | undefined): void;
  addSplit(split: string): void;
  /** The split ended (a bounded partition read to its stopping offset): it no longer holds the watermark. */
  removeSplit(split: string): void;
}

class SplitState {
  watermark = MIN_WATERMARK;
  idle = false;
  /** Records with a timestamp since the split's last periodic emission. */
  sincePeriodic = 0;
  lastRecordAt: number;
  readonly output;

  constructor(
    readonly generator: Generator | undefined,
    now: number,
    onWatermark: (s: SplitState, wm: number) => void,
    onIdle: (s: SplitState, idle: boolean) => void,
  ) {
    this.lastRecordAt = now;
    this.output = {
      emitWatermark: (wm: number) => onWatermark(this, wm),
      markIdle: () => onIdle(this, true),
      markActive: () => onIdle(this, false),
    };
  }
}

export class SplitWatermarks implements SplitOutput {
  private readonly splits = new Map<string, SplitState>();
  private readonly assigner: ((e: unknown, t: number | null) => number) | undefined;
  private readonly idleness: number | undefined;
  private current = MIN_WATERMARK;
  private sourceIdle = false;
  private cancelTick: (() => void) | undefined;
  private stopped = false;
  private readonly recordInterval: number;

  constructor(
    private readonly strategy: StrategyLike | undefined,
    private readonly downstream: Output,
    private readonly services: TaskServices,
    private readonly intervalMs: number,
    private readonly setIdle: (idle: boolean) => void,
  ) {
    this.assigner = strategy?.timestampAssigner;
    this.idleness = strategy?.idleness;
    this.recordInterval = recordIntervalFor(intervalMs);
  }

  private get generates(): boolean {
    return this.strategy?.createWatermarkGenerator !== undefined && this.strategy.kind !== 'noWatermarks';
  }

  start(): void {
    if (this.intervalMs > 0 && (this.generates || this.idleness !== undefined)) this.scheduleTick();
    this.update();
  }

  private scheduleTick(): void {
    const pt = this.services.processingTime;
    this.cancelTick = pt.schedule(pt.now() + this.intervalMs, () => {
      if (this.stopped) return;
      const now = pt.now();
      for (const s of this.splits.values()) {
        if (this.idleness !== undefined && !s.idle && now - s.lastRecordAt >= this.idleness) s.idle = true;
        if (!s.idle) this.periodicEmit(s);
      }
      this.update();
      this.scheduleTick();
    });
  }

  addSplit(split: string): void {
    if (this.splits.has(split)) return;
    const gen = this.generates ? this.strategy!.createWatermarkGenerator!() : undefined;
    this.splits.set(
      split,
      new SplitState(
        gen,
        this.services.processingTime.now(),
        (s, wm) => this.onSplitWatermark(s, wm),
        (s, idle) => this.onSplitIdle(s, idle),
      ),
    );
    this.update();
  }

  removeSplit(split: string): void {
    if (this.splits.delete(split)) this.update();
  }

  collect(split: string, value: unknown, recordTimestamp: number | undefined): void {
    const ts = this.assigner ? this.assigner(value, recordTimestamp ?? null) : recordTimestamp;
    const s = this.splits.get(split);
    this.downstream.collect(value, ts);
    if (!s) return;
    if (this.idleness !== undefined) s.lastRecordAt = this.services.processingTime.now();
    if (s.idle) {
      s.idle = false;
      this.update();
    }
    if (s.generator && ts !== undefined) {
      s.generator.onEvent(value, ts, s.output);
      if (++s.sincePeriodic >= this.recordInterval) this.periodicEmit(s);
    }
  }

  private periodicEmit(s: SplitState): void {
    s.sincePeriodic = 0;
    s.generator?.onPeriodicEmit(s.output);
  }

  private onSplitWatermark(s: SplitState, wm: number): void {
    if (wm <= s.watermark) return;
    s.watermark = wm;
    this.update();
  }

  private onSplitIdle(s: SplitState, idle: boolean): void {
    if (s.idle === idle) return;
    s.idle = idle;
    this.update();
  }

  /** Emits the minimum over active splits when it advanced; idle when no split is active. */
  private update(): void {
    if (this.stopped) return;
    let min = Infinity;
    for (const s of this.splits.values()) if (!s.idle && s.watermark < min) min = s.watermark;
    const idle = min === Infinity;
    if (idle !== this.sourceIdle && (this.generates || this.idleness !== undefined)) {
      this.sourceIdle = idle;
      this.setIdle(idle);
    }
    if (min !== Infinity && min > this.current) {
      this.current = min;
      this.downstream.emitWatermark(min);
    }
  }

  /** End of a bounded input: everything is complete. */
  endOfInput(): void {
    this.stop();
    if (this.sourceIdle) this.setIdle(false);
    this.current = MAX_WATERMARK;
    this.downstream.emitWatermark(MAX_WATERMARK);
  }

  stop(): void {
    this.stopped = true;
    this.cancelTick?.();
  }
}
