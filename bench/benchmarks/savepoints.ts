// Savepoints against state size, per backend: the state-fill job (bench/jobs/state-fill.ts) fills
// ~1 MB and ~200 MB × scale of keyed ValueState at parallelism 2 on two TaskManagers, then
//   1. a manual checkpoint (a warm-up), a savepoint and another checkpoint of the same state: the
//      savepoint's end-to-end duration and its ratio to the second checkpoint's (same run);
//   2. `weir stop` (stop-with-savepoint) and a resume from that savepoint at parallelism 3: the
//      time from the stop request to every task of the new job RUNNING (its state restored).
import { join } from 'node:path';
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';
import type { CheckpointStatistics } from '../lib/rest-types.js';
import { median } from '../lib/stats.js';
import { fillState, STATE_FILL_JOB } from './checkpoint-size.js';

const SMALL_MB = 1;
const LARGE_MB = 200;
/** The job checkpoints only when asked: nothing periodic runs beside what is measured. */
const NO_PERIODIC_MS = 3_600_000;
const OPERATION_TIMEOUT_MS = 300_000;

interface AsyncStatus {
  status: { id: string };
  operation?: { location?: string; checkpointId?: number; 'failure-cause'?: { 'stack-trace'?: string } };
}

interface SavepointRun {
  backend: string;
  targetMB: number;
  /** The checkpoint right after the fill (not compared). */
  warmUpMs: number;
  checkpointMs: number;
  savepointMs: number;
  savepointBytes: number;
  stopMs: number;
  restoreMs: number;
}

/** POSTs an asynchronous operation and polls it to the end; returns what it completed with. */
async function operation(
  cluster: BenchCluster,
  path: string,
  body: unknown,
  statusPath: (id: string) => string,
): Promise<NonNullable<AsyncStatus['operation']>> {
  const { 'request-id': id } = await cluster.client.post<{ 'request-id': string }>(path, body);
  const done = await cluster.poll(
    `${path} to complete`,
    async () => {
      const s = await cluster.client.get<AsyncStatus>(statusPath(id));
      return s.status.id === 'COMPLETED' ? s : undefined;
    },
    OPERATION_TIMEOUT_MS,
    20,
  );
  const failure = done.operation?.['failure-cause'];
  if (failure) throw new Error(`${path} failed: ${failure['stack-trace'] ?? 'no cause'}`);
  return done.operation ?? {};
}

function historyEntry(stats: { history: CheckpointStatistics[] }, id: number): CheckpointStatistics {
  const c = stats.history.find((h) => h.id === id);
  if (!c || c.status !== 'COMPLETED') throw new Error(`checkpoint ${id} is not in the completed history`);
  return c;
}

async function measure(
  cluster: BenchCluster,
  jarId: string,
  backend: string,
  targetMB: number,
  savepointsDir: string,
): Promise<SavepointRun> {
  const { jobId } = await fillState(cluster, jarId, targetMB, NO_PERIODIC_MS);
  let resumed: string | undefined;
  try {
    // The first snapshot after the fill also pays for the fill's last writes: it only warms up.
    const checkpointNow = async () => {
      const cp = await operation(cluster, `/jobs/${jobId}/checkpoints`, {}, (id) => `/jobs/${jobId}/checkpoints/${id}`);
      return historyEntry(await cluster.checkpoints(jobId), cp.checkpointId!);
    };
    const warmUp = await checkpointNow();
    await operation(
      cluster,
      `/jobs/${jobId}/savepoints`,
      { 'target-directory': savepointsDir },
      (id) => `/jobs/${jobId}/savepoints/${id}`,
    );
    const sp = (await cluster.checkpoints(jobId)).latest.savepoint!;
    const checkpoint = await checkpointNow();

    // A job that has run for a while: its slots have their spare threads loaded.
    await cluster.awaitSpareThreads();
    const stopAt = Date.now();
    const stopped = await operation(
      cluster,
      `/jobs/${jobId}/stop`,
      { targetDirectory: savepointsDir },
      (id) => `/jobs/${jobId}/savepoints/${id}`,
    );
    const stoppedAt = Date.now();
    const { jobid } = await cluster.client.post<{ jobid: string }>(`/jars/${jarId}/run`, {
      programArgsList: [String(Math.round((targetMB * 1e6) / 1000)), '1000', '10000', String(NO_PERIODIC_MS)],
      parallelism: 3,
      savepointPath: stopped.location,
    });
    resumed = jobid;
    await cluster.poll(
      `job ${jobid} to run`,
      async () => {
        const j = await cluster.job(jobid);
        if (j.state === 'FAILED') throw new Error(`resumed job ${jobid} failed`);
        return j.state === 'RUNNING' && j.vertices.every((v) => v.status === 'RUNNING');
      },
      OPERATION_TIMEOUT_MS,
      20,
    );
    const runningAt = Date.now();
    return {
      backend,
      targetMB,
      warmUpMs: warmUp.end_to_end_duration,
      checkpointMs: checkpoint.end_to_end_duration,
      savepointMs: sp.end_to_end_duration,
      savepointBytes: sp.state_size,
      stopMs: stoppedAt - stopAt,
      restoreMs: runningAt - stoppedAt,
    };
  } finally {
    await cluster.cancel(resumed ?? jobId).catch(() => undefined);
    if (resumed) await cluster.cancel(jobId).catch(() => undefined);
  }
}

/** Each field's median over the repetitions (one run stays as it is). */
function medianRun(reps: SavepointRun[]): SavepointRun {
  const m = (f: (r: SavepointRun) => number) => median(reps.map(f));
  return {
    ...reps[0]!,
    checkpointMs: m((r) => r.checkpointMs),
    savepointMs: m((r) => r.savepointMs),
    savepointBytes: m((r) => r.savepointBytes),
    stopMs: m((r) => r.stopMs),
    restoreMs: m((r) => r.restoreMs),
  };
}

function figuresOf(r: SavepointRun): Figure[] {
  const label = `savepoint ${r.backend} ${r.targetMB} MB`;
  return [
    {
      name: `${label}: duration`,
      value: r.savepointMs,
      unit: 'ms',
      note: `end to end; ${(r.savepointBytes / 1e6).toFixed(1)} MB written`,
    },
    {
      name: `${label}: savepoint / checkpoint`,
      value: Math.round((r.savepointMs / Math.max(1, r.checkpointMs)) * 100) / 100,
      unit: 'x',
      note: `a checkpoint of the same state right after took ${r.checkpointMs} ms (the first, right after the fill, ${r.warmUpMs} ms)`,
    },
    {
      name: `${label}: stop → resumed RUNNING`,
      value: Math.round((r.stopMs + r.restoreMs) / 10) / 100,
      unit: 's',
      note: `stop-with-savepoint ${r.stopMs} ms, then run at parallelism 3 until every task RUNNING ${r.restoreMs} ms`,
    },
  ];
}

export const savepoints: Benchmark = {
  name: 'savepoints',
  description:
    'keyed ValueState of ~1 MB and ~200 MB at parallelism 2 on two TaskManagers: savepoint duration (and against a checkpoint of the same state), and stop-with-savepoint to the job RUNNING again at parallelism 3',
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const largeMB = Math.max(2, Math.round(LARGE_MB * options.scale));
    const runs: SavepointRun[] = [];
    for (const backend of ['heap', 'level'] as const) {
      options.log(`savepoints ${backend}: starting 2 TaskManagers with 2 slots each`);
      const cluster = await BenchCluster.start({ taskManagers: 2, slots: 2, config: { 'state.backend': backend } });
      try {
        const jarId = await cluster.upload(await cluster.bundle(STATE_FILL_JOB));
        for (const targetMB of [SMALL_MB, largeMB]) {
          // The small state is cheap to fill again: the median of the repetitions; the large one once.
          const reps: SavepointRun[] = [];
          for (let i = 0; i < (targetMB === SMALL_MB ? options.repetitions : 1); i++) {
            const r = await measure(cluster, jarId, backend, targetMB, join(cluster.dir, 'savepoints'));
            options.log(
              `savepoints ${backend} ${targetMB} MB: savepoint ${r.savepointMs} ms (checkpoint ${r.checkpointMs} ms); stop ${r.stopMs} ms, resume at p3 ${r.restoreMs} ms`,
            );
            reps.push(r);
          }
          runs.push(medianRun(reps));
        }
      } finally {
        await cluster.stop();
      }
    }
    return {
      benchmark: this.name,
      description: this.description,
      figures: runs.flatMap(figuresOf),
      details: { scale: options.scale, runs },
    };
  },
};
