// JobManager failover (issue 12's benchmark), in two parts (one file each):
//   1. jobmanager-failover-file.ts — `file` HA: SIGKILL of the only JobManager, started again at once;
//   2. jobmanager-failover-etcd.ts — `etcd` HA: SIGKILL of the leader, a standby already running.
// Each measures, from the kill, the time until every subtask is RUNNING in a new attempt and until
// the output caught up, as checkpoint-recovery.ts does for a lost TaskManager.
import type { Benchmark, BenchOptions, BenchmarkResult } from '../lib/benchmark.js';
import { measureEtcdFailover } from './jobmanager-failover-etcd.js';
import { measureFileFailover } from './jobmanager-failover-file.js';

export const jobManagerFailover: Benchmark = {
  name: 'jobmanager-failover',
  description:
    'recovery job at parallelism 2 on two TaskManagers, checkpoints every 1 s: SIGKILL of the JobManager with file HA (restarted at once) and of the etcd leader (standby running); time to all tasks RUNNING and to caught-up output',
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const file = await measureFileFailover(options);
    const etcd = await measureEtcdFailover(options);
    return {
      benchmark: this.name,
      description: this.description,
      figures: [...file.figures, ...etcd.figures],
      details: { file: file.details, etcd: etcd.details },
    };
  },
};
