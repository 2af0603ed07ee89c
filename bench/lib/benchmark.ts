// The shape of one benchmark module: bench/run.ts runs a list of them and merges their results.

export interface BenchOptions {
  /** Scales every benchmark's record counts (1 = the default size). */
  scale: number;
  /** Measured repetitions per figure; the median is reported. */
  repetitions: number;
  /** How long a soak benchmark runs (--minutes); its own default when absent. */
  minutes?: number;
  log(message: string): void;
}

/** One line of the final table. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** How the figure was obtained (e.g. "median of 3: 1.1 M, 1.2 M, 1.3 M"). */
  note?: string;
}

export interface BenchmarkResult {
  benchmark: string;
  description: string;
  figures: Figure[];
  /** Everything else worth keeping in the JSON: raw runs, record counts, job ids. */
  details: Record<string, unknown>;
}

/** What one part of a module returns; the module merges its parts into one BenchmarkResult. */
export type PartResult = Pick<BenchmarkResult, 'figures' | 'details'>;

export interface Benchmark {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<BenchmarkResult>;
}
