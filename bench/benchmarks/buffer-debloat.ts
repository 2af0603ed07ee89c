// Buffer debloating: how long a checkpoint waits behind the records in flight to a slow operator.
// The job (test/jobs/slow-map.ts) rebalances a fast unbounded source into a map of 500 µs a record
// at parallelism 2 on two TaskManagers, checkpointing every 300 ms; it runs for a while with
// debloating on and with it off (clusters alternating), and the figures are the end-to-end
// durations of the checkpoints that completed after a warm-up, and the map's records/s over the
// same stretch. Segments of 4 KiB and 4 remote credits keep the whole-segment start short (the
// default's 32 KiB and 16 credits hold about 50 s of this map's work: see the README).
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';
import { median } from '../lib/stats.js';

const JOB = 'test/jobs/slow-map.ts';
const MAP_US = 500;
const CHECKPOINT_INTERVAL_MS = 300;
const WARMUP_SECONDS = 10;
const MEASURED_SECONDS = 15;
const CONFIG = {
  'taskmanager.memory.segment-size': '4 kb',
  'taskmanager.network.memory.buffers-per-remote-channel': '4',
  'execution.checkpointing.timeout': '10 min',
};

interface Run {
  /** End-to-end durations (ms) of the checkpoints triggered in the measured stretch. */
  durations: number[];
  /** The map's records/s over the measured stretch. */
  mapRate: number;
}

async function runOnce(debloat: boolean, seconds: number): Promise<Run> {
  const config = { ...CONFIG, 'taskmanager.network.memory.buffer-debloat.enabled': String(debloat) };
  const cluster = await BenchCluster.start({ taskManagers: 2, slots: 1, config });
  try {
    const jarId = await cluster.upload(await cluster.bundle(JOB));
    const jobId = await cluster.run(jarId, [String(MAP_US), String(CHECKPOINT_INTERVAL_MS)], 2);
    const mapRecords = async () => (await cluster.job(jobId)).vertices[1]!.metrics['read-records']!;
    await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
    const from = Date.now();
    const before = await mapRecords();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = await mapRecords();
    const to = Date.now();
    // A checkpoint still in flight at the end counts as long as it has waited so far.
    const stats = await cluster.checkpoints(jobId);
    const measured = stats.history.filter((h) => h.trigger_timestamp >= from && h.status !== 'FAILED');
    const durations = measured.map((h) =>
      h.status === 'COMPLETED' ? h.end_to_end_duration : to - h.trigger_timestamp,
    );
    await cluster.cancel(jobId);
    return { durations, mapRate: ((after - before) * 1000) / (to - from) };
  } finally {
    await cluster.stop();
  }
}

export const bufferDebloat: Benchmark = {
  name: 'buffer-debloat',
  description: `checkpoints behind a map of ${MAP_US} µs a record (rebalance, parallelism 2 on 2 TaskManagers, a checkpoint every ${CHECKPOINT_INTERVAL_MS} ms, 4 KiB segments): buffer debloating on vs off`,
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const seconds = Math.round(MEASURED_SECONDS * options.scale);
    const runs: { on: Run[]; off: Run[] } = { on: [], off: [] };
    for (let round = 0; round < options.repetitions; round++) {
      for (const debloat of round % 2 === 0 ? [true, false] : [false, true]) {
        const run = await runOnce(debloat, seconds);
        runs[debloat ? 'on' : 'off'].push(run);
        options.log(
          `round ${round + 1}, debloating ${debloat ? 'on' : 'off'}: ${run.durations.length} checkpoints in ${seconds} s, median ${run.durations.length ? Math.round(median(run.durations)) : '-'} ms; map ${Math.round(run.mapRate)} records/s`,
        );
      }
    }
    const all = (rs: Run[]) => rs.flatMap((r) => r.durations);
    const on = all(runs.on);
    const off = all(runs.off);
    const rate = (rs: Run[]) => median(rs.map((r) => r.mapRate));
    const range = (xs: number[]) => `${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))} ms`;
    const figures: Figure[] = [
      {
        name: 'checkpoint end to end, debloating on',
        value: median(on),
        unit: 'ms',
        note: `median of ${on.length} checkpoints in ${options.repetitions} runs of ${seconds} s: ${range(on)}`,
      },
      {
        name: 'checkpoint end to end, debloating off',
        value: median(off),
        unit: 'ms',
        note: `median of ${off.length} checkpoints in ${options.repetitions} runs of ${seconds} s: ${range(off)}`,
      },
      { name: 'off/on', value: median(off) / median(on), unit: 'ratio', note: 'how much longer a barrier waits' },
      {
        name: 'map records/s, on/off',
        value: rate(runs.on) / rate(runs.off),
        unit: 'ratio',
        note: `medians ${Math.round(rate(runs.on))} and ${Math.round(rate(runs.off))} records/s: what debloating costs`,
      },
    ];
    return { benchmark: 'buffer-debloat', description: this.description, figures, details: { runs } };
  },
};
