// Checkpoints, state size and recovery, in three parts (one file each):
//   1. checkpoint-overhead.ts — throughput with checkpoints every second against none: heap, level
//                               with full and with incremental checkpoints;
//   2. checkpoint-size.ts     — checkpoint durations and alignment for ~1 MB and ~200 MB × scale
//                               of keyed state, per backend (full checkpoints); then what an
//                               incremental level checkpoint writes after 1% of the keys changed,
//                               against the full size;
//   3. checkpoint-recovery.ts — time from SIGKILL of a TaskManager to RUNNING and to caught-up
//                               output, on the engine's default heartbeat settings.
import type { Benchmark, BenchOptions, BenchmarkResult } from '../lib/benchmark.js';
import { measureOverhead } from './checkpoint-overhead.js';
import { measureRecovery } from './checkpoint-recovery.js';
import { measureStateSize } from './checkpoint-size.js';

export const checkpointing: Benchmark = {
  name: 'checkpointing',
  description:
    'keyed ValueState at parallelism 2 on two TaskManagers: throughput with checkpoints every 1 s vs none (heap, level full, level incremental), checkpoint times for ~1 MB and ~200 MB of state (heap, level), incremental checkpoint size after 1% of the keys changed vs full size, recovery after SIGKILL of a TaskManager',
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const overhead = await measureOverhead(options);
    const size = await measureStateSize(options);
    const recovery = await measureRecovery(options);
    return {
      benchmark: this.name,
      description: this.description,
      figures: [...overhead.figures, ...size.figures, ...recovery.figures],
      details: {
        scale: options.scale,
        overhead: overhead.details,
        stateSize: size.details,
        recovery: recovery.details,
      },
    };
  },
};
