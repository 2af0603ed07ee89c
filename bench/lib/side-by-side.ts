// Clusters of several benchmark variants up at once, so that each repetition can run every
// variant back to back: this machine's speed drifts by a third over minutes, which would land on
// one variant and not the others if each ran its repetitions in a block of its own, and skew the
// ratios between them.
import type { BenchOptions } from './benchmark.js';
import { BenchCluster } from './cluster.js';

export interface ClusterShape {
  taskManagers: number;
  slots: number;
}

export interface VariantCluster<V> {
  variant: V;
  cluster: BenchCluster;
  jarId: string;
  /** The TaskManagers' process ids, for their CPU time. */
  pids: number[];
}

/** Starts a cluster per variant with `job` uploaded, runs `measure` on them, and stops them all. */
export async function withClustersSideBySide<V extends { label: string; shape: ClusterShape }, T>(
  options: BenchOptions,
  variants: readonly V[],
  job: string,
  measure: (clusters: VariantCluster<V>[]) => Promise<T>,
): Promise<T> {
  const started: VariantCluster<V>[] = [];
  try {
    for (const variant of variants) {
      const { taskManagers, slots } = variant.shape;
      options.log(`${variant.label}: starting ${taskManagers} TaskManager(s) with ${slots} slot(s) each`);
      // Listed before anything else can fail, so that the finally below stops it.
      const s: VariantCluster<V> = { variant, cluster: await BenchCluster.start(variant.shape), jarId: '', pids: [] };
      started.push(s);
      s.jarId = await s.cluster.upload(await s.cluster.bundle(job));
      s.pids = await s.cluster.taskManagerPids();
    }
    return await measure(started);
  } finally {
    for (const s of started) await s.cluster.stop();
  }
}
