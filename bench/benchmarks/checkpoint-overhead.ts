// Part 1 of `checkpointing`: what checkpoints every second cost in throughput. The same keyed job
// (bench/jobs/checkpointed-count.ts: unthrottled source → keyBy → running count in ValueState →
// no-op sink) at parallelism 2 on two TaskManagers, with and without enableCheckpointing(1000),
// on heap and on level with incremental checkpoints (state.backend.incremental: true, the default)
// and without (full checkpoints). A warm-up and a calibration run without checkpoints size the measured
// runs to last about TARGET_SECONDS × scale; the two variants then alternate, so drift of the
// shared machine hits both alike. Rates are records / running window (lib/timing.ts).
import type { BenchOptions, PartResult } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';
import { DEFAULT_KEYS } from '../lib/keyed-records.js';
import { formatCount, median, medianFigure } from '../lib/stats.js';
import { runCounted, type WeirRun } from '../lib/weir-run.js';

const JOB = 'bench/jobs/checkpointed-count.ts';
const TARGET_SECONDS = 12;
const WARMUP_RECORDS = 2_000_000;
const CALIBRATION_SECONDS = 3;
const CHECKPOINT_INTERVAL_MS = 1000;
const AIM_RATIO = 0.9;

interface CheckpointedRun extends WeirRun {
  completedCheckpoints: number;
  failedCheckpoints: number;
  /** Completed checkpoints that wrote less than their full size (incremental ones with a delta). */
  incrementalCheckpoints: number;
}

/** A backend and its settings, as one measured variant. */
interface Variant {
  label: string;
  config: Record<string, string>;
}

const VARIANTS: Variant[] = [
  { label: 'heap', config: { 'state.backend': 'heap' } },
  { label: 'level incremental', config: { 'state.backend': 'level', 'state.backend.incremental': 'true' } },
  { label: 'level full', config: { 'state.backend': 'level', 'state.backend.incremental': 'false' } },
];

async function runOnce(
  cluster: BenchCluster,
  jarId: string,
  records: number,
  intervalMs: number,
  label: string,
): Promise<CheckpointedRun> {
  const run = await runCounted(
    cluster,
    jarId,
    [String(records), String(DEFAULT_KEYS), String(intervalMs)],
    2,
    records,
    records,
    label,
  );
  const job = await cluster.job(run.jobId);
  for (const v of job.vertices) {
    const tms = new Set(v.subtasks.map((s) => s['taskmanager-id']));
    if (tms.size !== 2) throw new Error(`${label}: vertex '${v.name}' ran on ${tms.size} TaskManager(s), expected 2`);
  }
  const cp = await cluster.checkpoints(run.jobId);
  if (intervalMs > 0 && cp.counts.completed === 0)
    throw new Error(`${label}: job ${run.jobId} completed no checkpoint in ${(run.durationMs / 1000).toFixed(1)} s`);
  const incremental = cp.history.filter(
    (c) => c.status === 'COMPLETED' && (c as { checkpointed_size?: number }).checkpointed_size! < c.state_size,
  ).length;
  return {
    ...run,
    completedCheckpoints: cp.counts.completed,
    failedCheckpoints: cp.counts.failed,
    incrementalCheckpoints: incremental,
  };
}

async function measureBackend(options: BenchOptions, variant: Variant): Promise<PartResult> {
  const backend = variant.label;
  options.log(`overhead ${backend}: starting 2 TaskManagers with 1 slot each`);
  const cluster = await BenchCluster.start({ taskManagers: 2, slots: 1, config: variant.config });
  try {
    const jarId = await cluster.upload(await cluster.bundle(JOB));
    // A warm-up run, then a calibration run of about CALIBRATION_SECONDS: a cold run underestimates the rate.
    const warmup = await runOnce(
      cluster,
      jarId,
      Math.max(100_000, Math.round(WARMUP_RECORDS * Math.min(1, options.scale))),
      0,
      `${backend} warm-up`,
    );
    const calibration = await runOnce(
      cluster,
      jarId,
      Math.max(100_000, Math.round(warmup.eventsPerSecond * CALIBRATION_SECONDS * Math.min(1, options.scale))),
      0,
      `${backend} calibration`,
    );
    const records = Math.max(100_000, Math.round(calibration.eventsPerSecond * TARGET_SECONDS * options.scale));
    options.log(
      `overhead ${backend}: calibration ${formatCount(calibration.eventsPerSecond)} records/s → ${formatCount(records)} records per run`,
    );
    const off: CheckpointedRun[] = [];
    const on: CheckpointedRun[] = [];
    for (let r = 0; r < options.repetitions; r++) {
      // Alternate which variant goes first.
      for (const checkpoints of r % 2 === 0 ? [false, true] : [true, false]) {
        const run = await runOnce(
          cluster,
          jarId,
          records,
          checkpoints ? CHECKPOINT_INTERVAL_MS : 0,
          `${backend} ${checkpoints ? 'with' : 'without'} checkpoints`,
        );
        (checkpoints ? on : off).push(run);
        if (checkpoints && variant.config['state.backend.incremental'] === 'false' && run.incrementalCheckpoints > 0) {
          options.log(
            `overhead ${backend}: WARNING checkpoints wrote deltas although state.backend.incremental is false (the setting did not reach the tasks)`,
          );
        }
        options.log(
          `overhead ${backend}: run ${r + 1} ${checkpoints ? 'with' : 'without'} checkpoints: ${formatCount(run.eventsPerSecond)} records/s over ${(run.durationMs / 1000).toFixed(1)} s` +
            (checkpoints
              ? `, ${run.completedCheckpoints} checkpoints completed (${run.incrementalCheckpoints} of the last ones with deltas), ${run.failedCheckpoints} failed`
              : ''),
        );
      }
    }
    const offRates = off.map((r) => r.eventsPerSecond);
    const onRates = on.map((r) => r.eventsPerSecond);
    const ratio = median(onRates) / median(offRates);
    const completed = on.map((r) => r.completedCheckpoints);
    return {
      figures: [
        medianFigure(`overhead ${backend}: no checkpoints`, offRates, 'records/s'),
        medianFigure(`overhead ${backend}: checkpoint every 1 s`, onRates, 'records/s'),
        { name: `overhead ${backend}: with / without`, value: ratio, unit: 'ratio', note: `aim ≥ ${AIM_RATIO}` },
        {
          name: `overhead ${backend}: checkpoints completed`,
          value: median(completed),
          unit: 'per run',
          note:
            `${completed.join(', ')} in runs of ${on.map((r) => (r.durationMs / 1000).toFixed(1)).join(', ')} s` +
            (backend.startsWith('level') ? `; with deltas: ${on.map((r) => r.incrementalCheckpoints).join(', ')}` : ''),
        },
      ],
      details: {
        records,
        keys: DEFAULT_KEYS,
        calibration: {
          records: calibration.results,
          recordsPerSecond: calibration.eventsPerSecond,
          warmupRecordsPerSecond: warmup.eventsPerSecond,
        },
        ratio,
        aim: { ratio: AIM_RATIO, met: ratio >= AIM_RATIO },
        runs: {
          without: off.map(({ jobId, durationMs, eventsPerSecond }) => ({ jobId, durationMs, eventsPerSecond })),
          with: on.map(
            ({
              jobId,
              durationMs,
              eventsPerSecond,
              completedCheckpoints,
              failedCheckpoints,
              incrementalCheckpoints,
            }) => ({
              jobId,
              durationMs,
              eventsPerSecond,
              completedCheckpoints,
              failedCheckpoints,
              incrementalCheckpoints,
            }),
          ),
        },
      },
    };
  } finally {
    await cluster.stop();
  }
}

export async function measureOverhead(options: BenchOptions): Promise<PartResult> {
  const parts: PartResult[] = [];
  for (const v of VARIANTS) parts.push(await measureBackend(options, v));
  const details: Record<string, unknown> = { checkpointIntervalMs: CHECKPOINT_INTERVAL_MS };
  VARIANTS.forEach((v, i) => (details[v.label] = parts[i]!.details));
  return { figures: parts.flatMap((p) => p.figures), details };
}
