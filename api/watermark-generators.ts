// Flink's built-in WatermarkGenerators. A generator sees every event of one source split (or one
// assignTimestampsAndWatermarks subtask) and emits watermarks through a WatermarkOutput; the
// runtime calls onPeriodicEmit every autoWatermarkInterval milliseconds, and sooner under load:
// after every WATERMARK_RECORD_INTERVAL records (taskmanager/runtime/watermark-emitter.ts).

export interface WatermarkOutput {
  /** Watermark w: no more records with timestamp <= w are expected. Lower ones are ignored. */
  emitWatermark(watermark: number): void;
  /** This input has no data for now; downstream does not wait for it. */
  markIdle(): void;
  markActive(): void;
}

export interface WatermarkGenerator<T> {
  /** A watermark emitted here follows the event. */
  onEvent(event: T, eventTimestamp: number, output: WatermarkOutput): void;
  onPeriodicEmit(output: WatermarkOutput): void;
}

/** Never emits a watermark (WatermarkStrategy.noWatermarks). */
export class NoWatermarksGenerator<T> implements WatermarkGenerator<T> {
  onEvent(): void {}
  onPeriodicEmit(): void {}
}

/**
 * Periodically emits maxTimestampSeen - outOfOrderness - 1: a record that far behind the newest
 * one is still on time, as Flink's BoundedOutOfOrdernessWatermarks. Nothing before the first event.
 */
export class BoundedOutOfOrdernessWatermarks<T> implements WatermarkGenerator<T> {
  private maxTimestamp = -Infinity;

  constructor(private readonly outOfOrdernessMillis: number) {
    if (!(outOfOrdernessMillis >= 0))
      throw new RangeError(`the out-of-orderness bound must be non-negative, got ${String(outOfOrdernessMillis)}`);
  }

  onEvent(_event: T, eventTimestamp: number): void {
    if (eventTimestamp > this.maxTimestamp) this.maxTimestamp = eventTimestamp;
  }

  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.maxTimestamp !== -Infinity) output.emitWatermark(this.maxTimestamp - this.outOfOrdernessMillis - 1);
  }
}

/** Timestamps never decrease (forMonotonousTimestamps): no out-of-orderness to wait for. */
export class AscendingTimestampsWatermarks<T> extends BoundedOutOfOrdernessWatermarks<T> {
  constructor() {
    super(0);
  }
}
