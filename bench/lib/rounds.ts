// Variants of a benchmark measured in rounds: each round runs every variant once, in turn, each on
// a cluster started for it and stopped after. The machine's speed drifts by a fifth or more over
// minutes; measured in blocks (all of b, then all of c, ...), a ratio between variants mostly
// measured that drift. In rounds it lands on every variant alike, and no idle cluster runs beside
// the measured one (three idle clusters take about a tenth of a core from the variants that need
// both). A ratio is then taken within each round, and the median over the rounds reported.
import type { BenchOptions, Figure } from './benchmark.js';
import { BenchCluster, type BenchClusterOptions } from './cluster.js';
import { median } from './stats.js';

/** A round's fresh cluster, with the benchmark's job uploaded and its TaskManagers' process ids. */
export interface RoundCluster {
  cluster: BenchCluster;
  jarId: string;
  pids: number[];
}

export interface RoundVariant<R> {
  label: string;
  shape: Pick<BenchClusterOptions, 'taskManagers' | 'slots'>;
  /** One round's measurement, its warm-up included. */
  measure(round: RoundCluster): Promise<R>;
}

/**
 * Runs `options.repetitions` rounds of `job` (a bundle's source file); `beforeRound` runs first in
 * each (with no cluster up), for a baseline measured in this process. Returns each variant's
 * results in round order.
 */
export async function measureInRounds<K extends string, R>(
  options: BenchOptions,
  job: string,
  variants: Record<K, RoundVariant<R>>,
  beforeRound: () => void | Promise<void> = () => {},
): Promise<Record<K, R[]>> {
  const keys = Object.keys(variants) as K[];
  const results = Object.fromEntries(keys.map((k) => [k, [] as R[]])) as Record<K, R[]>;
  for (let round = 0; round < options.repetitions; round++) {
    await beforeRound();
    for (const k of keys) {
      const v = variants[k];
      options.log(
        `round ${round + 1}: ${v.label} on ${v.shape.taskManagers} TaskManager(s) × ${v.shape.slots} slot(s)`,
      );
      const cluster = await BenchCluster.start(v.shape);
      try {
        const jarId = await cluster.upload(await cluster.bundle(job));
        results[k].push(await v.measure({ cluster, jarId, pids: await cluster.taskManagerPids() }));
      } finally {
        await cluster.stop();
      }
    }
  }
  return results;
}

/** The median over rounds of `x[i] / y[i]`. */
export function medianRatio(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new RangeError(`ratio of ${x.length} and ${y.length} rounds`);
  return median(x.map((v, i) => v / y[i]!));
}

/** "median of 3 rounds: 0.91, 0.85, 1.02", the note beside a same-round ratio. */
export function ratioNote(x: readonly number[], y: readonly number[], aim?: string): string {
  const each = x.map((v, i) => (v / y[i]!).toFixed(2)).join(', ');
  return `${aim ? `${aim}; ` : ''}median of ${x.length} rounds: ${each}`;
}

/** The same-round ratio `x / y` as a figure: `medianRatio` noted with `ratioNote`. */
export function ratioFigure(name: string, x: readonly number[], y: readonly number[], aim?: string): Figure {
  return { name, value: medianRatio(x, y), unit: 'ratio', note: ratioNote(x, y, aim) };
}
