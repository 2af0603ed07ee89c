// Flink's CheckpointConfig and CheckpointingMode: what env.enableCheckpointing() and
// env.getCheckpointConfig() set. The settings travel as JSON in JobGraph.config.checkpointing.
import type { CheckpointingMode as Mode, CheckpointingSettings } from '../common/checkpoint.js';

export const CheckpointingMode = { EXACTLY_ONCE: 'EXACTLY_ONCE', AT_LEAST_ONCE: 'AT_LEAST_ONCE' } as const;
export type CheckpointingMode = Mode;

/**
 * What a job set. Fields it leaves unset come from the cluster's execution.checkpointing.* keys
 * (Flink's defaults: 10 minutes timeout, no pause, one checkpoint at a time, no failure tolerated).
 */
export type JobCheckpointingSettings = Partial<CheckpointingSettings>;
const DEFAULTS = {
  mode: 'EXACTLY_ONCE',
  timeout: 600_000,
  minPauseBetweenCheckpoints: 0,
  tolerableCheckpointFailureNumber: 0,
  maxConcurrentCheckpoints: 1,
} as const;

function nonNegativeMs(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new RangeError(`${what} must be a non-negative number of milliseconds, got ${String(v)}`);
  return v;
}

export function checkMode(mode: unknown): Mode {
  if (mode !== 'EXACTLY_ONCE' && mode !== 'AT_LEAST_ONCE')
    throw new RangeError(
      `checkpointing mode must be CheckpointingMode.EXACTLY_ONCE or AT_LEAST_ONCE, got ${String(mode)}`,
    );
  return mode;
}

export class CheckpointConfig {
  /** `holder.settings` is undefined until checkpointing is enabled. */
  constructor(private readonly holder: { settings: JobCheckpointingSettings | undefined }) {}

  private get s(): JobCheckpointingSettings {
    return (this.holder.settings ??= {});
  }

  isCheckpointingEnabled(): boolean {
    return (this.holder.settings?.interval ?? -1) > 0;
  }

  setCheckpointInterval(ms: number): this {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 10)
      throw new RangeError(`checkpoint interval must be at least 10 ms, got ${String(ms)}`);
    this.s.interval = ms;
    return this;
  }

  getCheckpointInterval(): number {
    return this.holder.settings?.interval ?? -1;
  }

  setCheckpointingMode(mode: Mode): this {
    this.s.mode = checkMode(mode);
    return this;
  }

  getCheckpointingMode(): Mode {
    return this.holder.settings?.mode ?? DEFAULTS.mode;
  }

  setCheckpointTimeout(ms: number): this {
    const v = nonNegativeMs(ms, 'checkpoint timeout');
    if (v === 0) throw new RangeError('checkpoint timeout must be positive');
    this.s.timeout = v;
    return this;
  }

  getCheckpointTimeout(): number {
    return this.s.timeout ?? DEFAULTS.timeout;
  }

  setMinPauseBetweenCheckpoints(ms: number): this {
    this.s.minPauseBetweenCheckpoints = nonNegativeMs(ms, 'minimum pause between checkpoints');
    return this;
  }

  getMinPauseBetweenCheckpoints(): number {
    return this.s.minPauseBetweenCheckpoints ?? DEFAULTS.minPauseBetweenCheckpoints;
  }

  /** Failed checkpoints in a row the job tolerates before it fails over; -1: any number. */
  setTolerableCheckpointFailureNumber(n: number): this {
    if (!Number.isInteger(n) || n < -1)
      throw new RangeError(`tolerable checkpoint failure number must be an integer >= -1, got ${String(n)}`);
    this.s.tolerableCheckpointFailureNumber = n;
    return this;
  }

  getTolerableCheckpointFailureNumber(): number {
    return this.s.tolerableCheckpointFailureNumber ?? DEFAULTS.tolerableCheckpointFailureNumber;
  }

  setMaxConcurrentCheckpoints(n: number): this {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`max concurrent checkpoints must be a positive integer, got ${String(n)}`);
    this.s.maxConcurrentCheckpoints = n;
    return this;
  }

  getMaxConcurrentCheckpoints(): number {
    return this.s.maxConcurrentCheckpoints ?? DEFAULTS.maxConcurrentCheckpoints;
  }

  /** Completed checkpoints kept on disk for this job (overrides state.checkpoints.num-retained). */
  setNumRetainedCheckpoints(n: number): this {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`retained checkpoints must be a positive integer, got ${String(n)}`);
    this.s.numRetained = n;
    return this;
  }
}
