// Part 2 of `checkpointing`: checkpoint times against state size. The state-fill job
// (bench/jobs/state-fill.ts) fills N keys of ValueState with 1000-byte values at full speed, then
// keeps updating them at a moderate paced rate while checkpoints are taken every 2 s; parallelism
// 2 on two TaskManagers, so the keyed tasks align barriers from a local and a remote channel.
// After the fill (the keyed vertex's state-entries reached N) the first few completed
// checkpoints give the medians of end-to-end duration, the synchronous and asynchronous parts
// and alignment (each the slowest subtask's), and the state size (bytes of the canonical state
// files), which confirms what was measured. About 1 MB and 200 MB × scale, on each backend.
// Then incremental checkpoints (level, state.backend.incremental: true): the same job filled to
// 200 MB × scale, updated at a rate that changes 1% of the keys between two checkpoints; what such
// a checkpoint writes (Flink's checkpointed size) against the full size, a savepoint's of the
// same state taken right after.
import { freemem } from 'node:os';
import type { BenchOptions, Figure, PartResult } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';
import type { CheckpointStatistics } from '../lib/rest-types.js';
import { median } from '../lib/stats.js';

export const STATE_FILL_JOB = 'bench/jobs/state-fill.ts';
export const VALUE_BYTES = 1000;
const SMALL_MB = 1;
const LARGE_MB = 200;
const RATE = 10_000;
const CHECKPOINT_INTERVAL_MS = 2000;
const MEASURED_CHECKPOINTS = 3;
/** Share of the keys changed between two checkpoints in the incremental part, and its aim. */
const CHANGED_SHARE = 0.01;
const INCREMENTAL_AIM = 0.1;
/** Checkpoints after the fill left out of the incremental figures (the fill's tail, a new full file). */
const SETTLE_CHECKPOINTS = 2;
const FILL_TIMEOUT_MS = 180_000;
const CHECKPOINTS_TIMEOUT_MS = 180_000;
/** TaskManager memory per MB of state: two TaskManagers peaked at 1.2 GB RSS in all for 200 MB. */
const MEMORY_PER_STATE_MB = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => bytes / 1e6;
const formatMs = (ms: number) => ms.toFixed(ms < 10 ? 1 : 0);

interface SizeRun {
  backend: string;
  targetMB: number;
  keys: number;
  jobId: string;
  fillMs: number;
  checkpoints: CheckpointStatistics[];
}

/** Runs the state-fill job (bench/jobs/state-fill.ts) and waits until it holds ~`targetMB` of keyed state. */
export async function fillState(
  cluster: BenchCluster,
  jarId: string,
  targetMB: number,
  checkpointIntervalMs: number,
  parallelism = 2,
  rate = RATE,
): Promise<{ jobId: string; keys: number; submitted: number; filledAt: number }> {
  const keys = Math.round((targetMB * 1e6) / VALUE_BYTES);
  const jobId = await cluster.run(
    jarId,
    [String(keys), String(VALUE_BYTES), String(rate), String(checkpointIntervalMs)],
    parallelism,
  );
  const submitted = Date.now();
  // The fill: one entry per key in the keyed vertex (its state-entries, reported with heartbeats).
  for (;;) {
    const job = await cluster.job(jobId);
    if (job.state !== 'RUNNING' && job.state !== 'CREATED' && job.state !== 'INITIALIZING')
      throw new Error(`state-fill job ${jobId} is ${job.state} during the fill`);
    const keyed = job.vertices.find((v) => v.operators.some((o) => o.name === 'Fixed-size value'));
    if ((keyed?.metrics['state-entries'] ?? 0) >= keys) return { jobId, keys, submitted, filledAt: Date.now() };
    if (Date.now() - submitted > FILL_TIMEOUT_MS) {
      await cluster.cancel(jobId);
      throw new Error(`state-fill job ${jobId} did not fill ${keys} keys within ${FILL_TIMEOUT_MS / 1000} s`);
    }
    await sleep(200);
  }
}

async function runSize(cluster: BenchCluster, jarId: string, backend: string, targetMB: number): Promise<SizeRun> {
  const { jobId, keys, submitted, filledAt } = await fillState(cluster, jarId, targetMB, CHECKPOINT_INTERVAL_MS);
  try {
    // Checkpoints triggered after the fill was seen, collected from the history as they complete.
    const measured = new Map<number, CheckpointStatistics>();
    while (measured.size < MEASURED_CHECKPOINTS) {
      const stats = await cluster.checkpoints(jobId);
      for (const c of stats.history) {
        if (c.trigger_timestamp < filledAt) continue;
        if (c.status === 'FAILED')
          throw new Error(`checkpoint ${c.id} of job ${jobId} failed: ${c.failure_message ?? 'no message'}`);
        if (c.status === 'COMPLETED') measured.set(c.id, c);
      }
      if (Date.now() - filledAt > CHECKPOINTS_TIMEOUT_MS)
        throw new Error(
          `job ${jobId}: only ${measured.size} checkpoints completed within ${CHECKPOINTS_TIMEOUT_MS / 1000} s after the fill`,
        );
      if (measured.size < MEASURED_CHECKPOINTS) await sleep(500);
    }
    const checkpoints = [...measured.values()].sort((a, b) => a.id - b.id).slice(0, MEASURED_CHECKPOINTS);
    for (const c of checkpoints) {
      if (c.state_size < keys * VALUE_BYTES)
        throw new Error(
          `checkpoint ${c.id} of job ${jobId} holds ${c.state_size} bytes, less than the ${keys} × ${VALUE_BYTES} bytes filled`,
        );
    }
    return { backend, targetMB, keys, jobId, fillMs: filledAt - submitted, checkpoints };
  } finally {
    await cluster.cancel(jobId);
  }
}

function figuresOf(run: SizeRun): Figure[] {
  const label = `state ${run.backend} ${run.targetMB} MB`;
  const cps = run.checkpoints;
  const pick = (f: (c: CheckpointStatistics) => number) => median(cps.map(f));
  const list = (f: (c: CheckpointStatistics) => number) => cps.map((c) => formatMs(f(c))).join(', ');
  const mbOf = (c: CheckpointStatistics) => mb(c.state_size);
  const of = `median of checkpoints ${cps.map((c) => c.id).join(', ')}`;
  return [
    {
      name: `${label}: end-to-end`,
      value: pick((c) => c.end_to_end_duration),
      unit: 'ms',
      note: `${of}: ${list((c) => c.end_to_end_duration)}`,
    },
    {
      name: `${label}: sync part`,
      value: pick((c) => c.sync_duration),
      unit: 'ms',
      note: `slowest subtask: ${list((c) => c.sync_duration)}`,
    },
    {
      name: `${label}: async part`,
      value: pick((c) => c.async_duration),
      unit: 'ms',
      note: `slowest subtask: ${list((c) => c.async_duration)}`,
    },
    {
      name: `${label}: alignment`,
      value: pick((c) => c.alignment_duration),
      unit: 'ms',
      note: `slowest subtask: ${list((c) => c.alignment_duration)}`,
    },
    {
      name: `${label}: state size`,
      value: pick(mbOf),
      unit: 'MB',
      note: `${run.keys} keys × ${VALUE_BYTES} B values; filled in ${(run.fillMs / 1000).toFixed(1)} s after submission`,
    },
  ];
}

type WithCheckpointedSize = CheckpointStatistics & { checkpointed_size?: number };

interface IncrementalRun {
  targetMB: number;
  keys: number;
  rate: number;
  jobId: string;
  checkpoints: WithCheckpointedSize[];
  savepointBytes: number;
}

/** Incremental checkpoints of the level backend after CHANGED_SHARE of the keys changed, against a savepoint's (full) size. */
async function runIncremental(options: BenchOptions, targetMB: number): Promise<IncrementalRun> {
  options.log(`incremental level ${targetMB} MB: starting 2 TaskManagers with 1 slot each`);
  const cluster = await BenchCluster.start({
    taskManagers: 2,
    slots: 1,
    config: { 'state.backend': 'level', 'state.backend.incremental': 'true' },
  });
  try {
    const jarId = await cluster.upload(await cluster.bundle(STATE_FILL_JOB));
    const keys = Math.round((targetMB * 1e6) / VALUE_BYTES);
    const rate = Math.max(1, Math.round((keys * CHANGED_SHARE) / (CHECKPOINT_INTERVAL_MS / 1000)));
    const { jobId, filledAt } = await fillState(cluster, jarId, targetMB, CHECKPOINT_INTERVAL_MS, 2, rate);
    try {
      const measured = new Map<number, WithCheckpointedSize>();
      let settled = 0;
      const seen = new Set<number>();
      for (;;) {
        const stats = await cluster.checkpoints(jobId);
        for (const c of [...stats.history].sort((a, b) => a.id - b.id)) {
          if (c.trigger_timestamp < filledAt || seen.has(c.id)) continue;
          if (c.status === 'FAILED')
            throw new Error(`checkpoint ${c.id} of job ${jobId} failed: ${c.failure_message ?? 'no message'}`);
          if (c.status !== 'COMPLETED') continue;
          seen.add(c.id);
          if (settled++ < SETTLE_CHECKPOINTS) continue;
          measured.set(c.id, c);
        }
        if (measured.size >= MEASURED_CHECKPOINTS) break;
        if (Date.now() - filledAt > CHECKPOINTS_TIMEOUT_MS)
          throw new Error(
            `job ${jobId}: only ${measured.size} checkpoints completed within ${CHECKPOINTS_TIMEOUT_MS / 1000} s after the fill`,
          );
        await sleep(500);
      }
      const checkpoints = [...measured.values()].sort((a, b) => a.id - b.id).slice(0, MEASURED_CHECKPOINTS);
      // A savepoint is always full and canonical: the full size of the same state.
      const target = `${cluster.dir}/savepoints`;
      const { 'request-id': id } = await cluster.client.post<{ 'request-id': string }>(`/jobs/${jobId}/savepoints`, {
        'target-directory': target,
      });
      await cluster.poll(
        'the savepoint',
        async () => {
          const s = await cluster.client.get<{ status: { id: string }; operation?: { 'failure-cause'?: unknown } }>(
            `/jobs/${jobId}/savepoints/${id}`,
          );
          if (s.operation?.['failure-cause']) throw new Error(`savepoint of job ${jobId} failed`);
          return s.status.id === 'COMPLETED' ? s : undefined;
        },
        120_000,
        50,
      );
      const after = (await cluster.checkpoints(jobId)) as { latest: { savepoint: CheckpointStatistics | null } };
      const savepointBytes = after.latest.savepoint?.state_size ?? NaN;
      return { targetMB, keys, rate, jobId, checkpoints, savepointBytes };
    } finally {
      await cluster.cancel(jobId);
    }
  } finally {
    await cluster.stop();
  }
}

function incrementalFigures(run: IncrementalRun): Figure[] {
  const label = `incremental level ${run.targetMB} MB, ${CHANGED_SHARE * 100}% of keys changed`;
  const written = median(run.checkpoints.map((c) => c.checkpointed_size ?? c.state_size));
  const ids = run.checkpoints.map((c) => c.id).join(', ');
  return [
    {
      name: `${label}: checkpoint writes`,
      value: mb(written),
      unit: 'MB',
      note: `median of checkpoints ${ids}: ${run.checkpoints.map((c) => mb(c.checkpointed_size ?? c.state_size).toFixed(2)).join(', ')}`,
    },
    {
      name: `${label}: full size`,
      value: mb(run.savepointBytes),
      unit: 'MB',
      note: 'a savepoint of the same state (always full)',
    },
    {
      name: `${label}: written / full`,
      value: written / run.savepointBytes,
      unit: 'ratio',
      note: `aim < ${INCREMENTAL_AIM}; ${run.keys} keys, ${run.rate} updates/s, a checkpoint every ${CHECKPOINT_INTERVAL_MS / 1000} s`,
    },
    {
      name: `${label}: end-to-end`,
      value: median(run.checkpoints.map((c) => c.end_to_end_duration)),
      unit: 'ms',
      note: `checkpoints ${ids}: ${run.checkpoints.map((c) => formatMs(c.end_to_end_duration)).join(', ')}`,
    },
  ];
}

export async function measureStateSize(options: BenchOptions): Promise<PartResult> {
  const largeMB = Math.max(2, Math.round(LARGE_MB * options.scale));
  const neededMB = largeMB * MEMORY_PER_STATE_MB;
  const freeMB = Math.round(freemem() / 1e6);
  if (freeMB < neededMB)
    options.log(
      `state: WARNING ${freeMB} MB of memory free, ${largeMB} MB of state may need ~${neededMB} MB; use a smaller --scale`,
    );
  const runs: SizeRun[] = [];
  for (const backend of ['heap', 'level'] as const) {
    options.log(`state ${backend}: starting 2 TaskManagers with 1 slot each`);
    // Full checkpoints here (what every checkpoint of the state costs); incremental ones below.
    const cluster = await BenchCluster.start({
      taskManagers: 2,
      slots: 1,
      config: { 'state.backend': backend, 'state.backend.incremental': 'false' },
    });
    try {
      const jarId = await cluster.upload(await cluster.bundle(STATE_FILL_JOB));
      for (const targetMB of [SMALL_MB, largeMB]) {
        const run = await runSize(cluster, jarId, backend, targetMB);
        const med = (f: (c: CheckpointStatistics) => number) => median(run.checkpoints.map(f));
        options.log(
          `state ${backend} ${targetMB} MB: filled in ${(run.fillMs / 1000).toFixed(1)} s; checkpoints ${run.checkpoints.map((c) => c.id).join(', ')}: ` +
            `end-to-end ${med((c) => c.end_to_end_duration)} ms, sync ${med((c) => c.sync_duration)} ms, async ${med((c) => c.async_duration)} ms, ` +
            `alignment ${med((c) => c.alignment_duration)} ms, ${mb(med((c) => c.state_size)).toFixed(1)} MB`,
        );
        runs.push(run);
      }
    } finally {
      await cluster.stop();
    }
  }
  const incremental = await runIncremental(options, largeMB);
  const incFigures = incrementalFigures(incremental);
  options.log(
    `incremental level ${largeMB} MB: ${incFigures.map((f) => `${f.name.split(': ')[1]} ${f.unit === 'ratio' ? f.value.toFixed(4) : f.value.toFixed(2)} ${f.unit}`).join(', ')}`,
  );
  return {
    figures: [...runs.flatMap(figuresOf), ...incFigures],
    details: {
      incremental: {
        ...incremental,
        checkpoints: incremental.checkpoints.map((c) => ({
          id: c.id,
          checkpointed_size: c.checkpointed_size,
          state_size: c.state_size,
          end_to_end_duration: c.end_to_end_duration,
        })),
      },
      valueBytes: VALUE_BYTES,
      rate: RATE,
      checkpointIntervalMs: CHECKPOINT_INTERVAL_MS,
      runs: runs.map((r) => ({
        ...r,
        checkpoints: r.checkpoints.map((c) => ({
          id: c.id,
          end_to_end_duration: c.end_to_end_duration,
          sync_duration: c.sync_duration,
          async_duration: c.async_duration,
          alignment_duration: c.alignment_duration,
          state_size: c.state_size,
          processed_data: c.processed_data,
        })),
      })),
    },
  };
}
