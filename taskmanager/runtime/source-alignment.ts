// Watermark alignment on a source subtask's side (Flink's FLIP-182 reader side): every update
// interval the subtask reports the watermark it last emitted, and whether it is idle, to the
// JobManager, which answers with the most its group may advance to. The source loop pauses reading
// while its watermark is past that limit; mail and checkpoints go on meanwhile.
import type { SourceWatermarkReport } from '../../common/control.js';
import type { WatermarkAlignmentConfig } from '../../common/jobgraph.js';
import { WakeSignal } from './wake-signal.js';

/** Sends a report; the task adds which execution it is. */
export type AlignmentReporter = (report: Omit<SourceWatermarkReport, 'executionId'>) => void;

export class SourceWatermarkAlignment {
  private maxAllowed = Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly answered = new WakeSignal();

  constructor(
    private readonly config: WatermarkAlignmentConfig,
    private readonly reporter: AlignmentReporter,
  ) {}

  /** Reports now and then every update interval, reading the subtask's state when it does. */
  start(watermark: () => number, idle: () => boolean): void {
    const report = () =>
      this.reporter({
        group: this.config.group,
        watermark: watermark(),
        idle: idle(),
        maxDrift: this.config.maxDrift,
      });
    report();
    this.timer = setInterval(report, this.config.updateInterval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.answered.signal();
  }

  /** The JobManager's answer to a report. */
  setMaxAllowedWatermark(limit: number): void {
    this.maxAllowed = limit;
    this.answered.signal();
  }

  /** Whether a source that emitted `watermark` must wait before it reads on. */
  mustPause(watermark: number): boolean {
    return watermark > this.maxAllowed;
  }

  /** Resolves at the next answer (or stop()). */
  nextAnswer(): Promise<void> {
    return this.answered.wait();
  }
}
