// Buffer debloating (Flink's FLIP-183): a task measures how fast it consumes its input gates and
// tells its producers the buffer size at which everything in flight to it (every credit it grants,
// a buffer each) takes about the target time to consume. A barrier waits behind what is in flight,
// so behind a slow operator it no longer waits for thousands of records per buffer; a fast
// consumer keeps full segments. Sizes move by an exponential moving average, as Flink's do.
import type { Configuration } from '../../common/config.js';
import type { InputGate } from '../network/types.js';
import type { TaskTimeTotals } from './task-time-meter.js';

export interface BufferDebloatConfig {
  /** taskmanager.network.memory.buffer-debloat.target */
  targetMs: number;
  /** taskmanager.network.memory.buffer-debloat.period */
  periodMs: number;
  /** taskmanager.network.memory.buffer-debloat.samples */
  samples: number;
  /** taskmanager.network.memory.buffer-debloat.threshold-percentages */
  thresholdPercent: number;
  /** taskmanager.memory.min-segment-size */
  minBufferSize: number;
  /** taskmanager.memory.segment-size: what producers use before any announcement. */
  maxBufferSize: number;
}

/** The configuration of buffer debloating, or null when it is disabled. */
export function bufferDebloatConfigOf(conf: Configuration): BufferDebloatConfig | null {
  if (!conf.getBoolean('taskmanager.network.memory.buffer-debloat.enabled')) return null;
  const maxBufferSize = conf.getMemorySize('taskmanager.memory.segment-size');
  const targetMs = conf.getDuration('taskmanager.network.memory.buffer-debloat.target');
  const periodMs = conf.getDuration('taskmanager.network.memory.buffer-debloat.period');
  if (!(targetMs > 0)) throw new Error(`taskmanager.network.memory.buffer-debloat.target must be positive`);
  if (!(periodMs > 0)) throw new Error(`taskmanager.network.memory.buffer-debloat.period must be positive`);
  return {
    targetMs,
    periodMs,
    samples: conf.getInt('taskmanager.network.memory.buffer-debloat.samples'),
    thresholdPercent: conf.getInt('taskmanager.network.memory.buffer-debloat.threshold-percentages'),
    minBufferSize: Math.max(1, Math.min(maxBufferSize, conf.getMemorySize('taskmanager.memory.min-segment-size'))),
    maxBufferSize,
  };
}

/** What the debloater reads of its task: the time it spent waiting for input. */
export interface TaskTimes {
  totals(): Pick<TaskTimeTotals, 'idleMs'>;
}

export class BufferDebloater {
  private readonly alpha: number;
  /** The moving average of the desired size (bytes). */
  private average: number;
  private announced: number;
  private lastAt: number;
  private lastIdleMs: number;
  private lastBytes: number;
  /** Bytes polled and active milliseconds of the last periods, oldest first (see recalculate). */
  private readonly window: { bytes: number; activeMs: number }[] = [];
  private readonly windowPeriods: number;
  private timer: NodeJS.Timeout | null = null;
  /** Flink's estimatedTimeToConsumeBuffersMs: what the announced size means at the measured throughput. */
  estimatedTimeToConsumeBuffersMs = 0;

  constructor(
    private readonly gates: readonly Pick<InputGate, 'numBytesPolled' | 'numCredits' | 'announceBufferSize'>[],
    private readonly time: TaskTimes,
    private readonly config: BufferDebloatConfig,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.alpha = 2 / (config.samples + 1);
    this.windowPeriods = Math.max(1, Math.ceil(config.targetMs / config.periodMs));
    this.average = this.announced = config.maxBufferSize;
    this.lastAt = this.lastIdleMs = this.lastBytes = 0;
  }

  /** Flink's debloatedBufferSize: the size the producers were last told. */
  get bufferSize(): number {
    return this.announced;
  }

  /** Measures from now on (the task's set-up and restore before its input loop do not count). */
  start(): void {
    if (this.timer !== null) return;
    this.lastAt = this.now();
    this.lastIdleMs = this.time.totals().idleMs;
    this.lastBytes = this.bytesPolled();
    this.timer = setInterval(() => this.recalculate(), this.config.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * One period. Throughput is the bytes polled over the time the task did not wait for input (as
   * Flink's ThroughputCalculator pauses while the task is idle), so a consumer that keeps up is
   * judged by what it could take, and one that waits for its own output by what it drains. A
   * buffer's bytes count when it is polled, and a large buffer of slow records takes several
   * periods: measured over one period, throughput would jump between nothing and several times its
   * rate, and the growth cap below would keep the high samples from balancing the empty ones, so
   * the size would shrink far below its aim. It is measured over the last target's worth of periods.
   */
  recalculate(): void {
    const at = this.now();
    const idleMs = this.time.totals().idleMs;
    const bytes = this.bytesPolled();
    const activeMs = at - this.lastAt - (idleMs - this.lastIdleMs);
    this.window.push({ bytes: bytes - this.lastBytes, activeMs: Math.max(0, activeMs) });
    if (this.window.length > this.windowPeriods) this.window.shift();
    this.lastAt = at;
    this.lastIdleMs = idleMs;
    this.lastBytes = bytes;
    let windowBytes = 0;
    let windowMs = 0;
    for (const p of this.window) {
      windowBytes += p.bytes;
      windowMs += p.activeMs;
    }
    // Periods spent waiting for input say nothing of how fast the task consumes.
    if (activeMs < 1 || windowMs < 1) return;
    const throughput = (windowBytes * 1000) / windowMs;
    const buffers = Math.max(1, this.credits());
    const desired = (throughput * this.config.targetMs) / 1000 / buffers;
    // Growth is capped at twice the current size per period, so growing and shrinking take about
    // as many periods (Flink's BufferSizeEMA).
    this.average += this.alpha * (Math.min(desired, 2 * this.average) - this.average);
    const { minBufferSize, maxBufferSize } = this.config;
    this.average = Math.max(minBufferSize, Math.min(maxBufferSize, this.average));
    const size = Math.round(this.average);
    this.estimatedTimeToConsumeBuffersMs = throughput > 0 ? Math.round((size * buffers * 1000) / throughput) : 0;
    if (Math.abs(1 - this.announced / size) * 100 < this.config.thresholdPercent) return;
    this.announced = size;
    for (const g of this.gates) g.announceBufferSize(size);
  }

  private bytesPolled(): number {
    let n = 0;
    for (const g of this.gates) n += g.numBytesPolled;
    return n;
  }

  private credits(): number {
    let n = 0;
    for (const g of this.gates) n += g.numCredits;
    return n;
  }
}
