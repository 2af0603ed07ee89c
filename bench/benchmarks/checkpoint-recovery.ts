// Part 3 of `checkpointing`: recovery from a lost TaskManager. The recovery job (bench/jobs/
// recovery.ts: paced source whose records carry their creation time, keyBy, ValueState count,
// sink) runs at parallelism 2 on two TaskManagers of one slot each, checkpointing every second.
// Once it is steady, one TaskManager running its tasks gets SIGKILL and a replacement starts at
// once (as a container orchestrator would). Measured from the kill:
//   (a) until the job is RUNNING with every subtask RUNNING in a new attempt, from the
//       JobManager's subtask timestamps;
//   (b) until the output caught up: the sink vertex's sink-lag-p50 (worst subtask) is back under
//       max(500 ms, 2 × its steady value), every sink subtask receiving records again. The lag
//       reaches the JobManager with heartbeats (heartbeat.interval) and is the median of the
//       sinks' recent samples, so (b) includes up to one interval of reporting delay.
// Each repetition kills one TaskManager of the same running job. The heartbeat settings are the
// engine's defaults; the figure's note names them. jobmanager-failover-*.ts time a killed
// JobManager with the same job and helpers (waitSteady, measureKill, recoveryFigures).
import { Configuration } from '../../common/config.js';
import type { BenchOptions, Figure, PartResult } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';
import type { JobDetails, VertexDetails } from '../lib/rest-types.js';
import { median } from '../lib/stats.js';

export const RECOVERY_JOB = 'bench/jobs/recovery.ts';
const RATE = 20_000;
const KEYS = 10_000;
const CHECKPOINT_INTERVAL_MS = 1000;
const RESTART_DELAY_MS = 200;
const LAG_FLOOR_MS = 500;
/** Checkpoints that must complete after a (re)start before the job counts as steady. */
const STEADY_CHECKPOINTS = 2;
/** Heartbeat-spaced readings of the sink lag whose median is the steady value. */
const STEADY_SAMPLES = 3;
const POLL_MS = 100;
const RECOVERY_TIMEOUT_MS = 90_000;

/** What the recovery helpers read: a BenchCluster, or a view of whichever JobManager leads. */
export type JobView = Pick<BenchCluster, 'client' | 'job' | 'checkpoints'>;

/** The arguments of the recovery job started at `startAt` (epoch ms). */
export function recoveryJobArgs(startAt: number): string[] {
  return [String(startAt), String(RATE), String(KEYS), String(CHECKPOINT_INTERVAL_MS), String(RESTART_DELAY_MS)];
}

/** One kill of a steady recovery job, measured from the kill. */
export interface KillTiming {
  steadyLagP50Ms: number;
  thresholdMs: number;
  toRunningMs: number;
  toCaughtUpMs: number;
  /** Highest sink-lag-p50 seen while catching up. */
  peakLagP50Ms: number;
  restoredCheckpoint: number | null;
  /** Failures the JobManager recorded after the kill (first line of each, oldest first). */
  failures: string[];
}

interface ExceptionHistory {
  exceptionHistory: { entries: { timestamp: number; stacktrace: string }[] };
}

async function failuresSince(view: JobView, jobId: string, since: number): Promise<string[]> {
  const h = await view.client.get<ExceptionHistory>(`/jobs/${jobId}/exceptions`);
  const after = h.exceptionHistory.entries
    .filter((e) => e.timestamp >= since)
    .sort((a, b) => a.timestamp - b.timestamp);
  return after.map((e) => `+${e.timestamp - since} ms ${e.stacktrace.split('\n')[0]!.slice(0, 240)}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sinkVertex(job: JobDetails): VertexDetails {
  const v = job.vertices.find((x) => x.operators.some((o) => o.name === 'Sink: Output'));
  if (!v) throw new Error(`job ${job.jid} has no vertex with the 'Output' sink`);
  return v;
}

function lagP50(v: VertexDetails): number | null {
  const lag = v.metrics['sink-lag-p50'] as number | null | undefined;
  return typeof lag === 'number' ? lag : null;
}

/** Every subtask RUNNING in an attempt that started at or after `since` (epoch ms). */
function allRunningSince(job: JobDetails, since: number): boolean {
  return (
    job.state === 'RUNNING' &&
    job.vertices.every((v) => v.subtasks.every((s) => s.status === 'RUNNING' && (s.timestamps.RUNNING ?? 0) >= since))
  );
}

function checkAlive(job: JobDetails): void {
  if (job.state === 'FAILED' || job.state === 'CANCELED' || job.state === 'FINISHED')
    throw new Error(`the recovery job ended ${job.state}`);
}

/** Waits for steady operation after (re)start at `since`; returns the steady sink-lag-p50. */
export async function waitSteady(cluster: JobView, jobId: string, since: number): Promise<number> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  const completedBefore = (await cluster.checkpoints(jobId)).counts.completed;
  for (;;) {
    const job = await cluster.job(jobId);
    checkAlive(job);
    const cp = await cluster.checkpoints(jobId);
    if (
      allRunningSince(job, since) &&
      cp.counts.completed >= completedBefore + STEADY_CHECKPOINTS &&
      lagP50(sinkVertex(job)) !== null
    )
      break;
    if (Date.now() > deadline)
      throw new Error(`the recovery job was not steady within ${RECOVERY_TIMEOUT_MS / 1000} s`);
    await sleep(POLL_MS);
  }
  const samples: number[] = [];
  for (let i = 0; i < STEADY_SAMPLES; i++) {
    await sleep(1000);
    const lag = lagP50(sinkVertex(await cluster.job(jobId)));
    if (lag !== null) samples.push(lag);
  }
  return median(samples);
}

/** Watches the job after the kill at `killAt` until its output caught up. */
async function watchRecovery(
  cluster: JobView,
  jobId: string,
  killAt: number,
  thresholdMs: number,
): Promise<Pick<KillTiming, 'toRunningMs' | 'toCaughtUpMs' | 'peakLagP50Ms'>> {
  let runningAt: number | undefined;
  let peak = 0;
  for (;;) {
    const job = await cluster.job(jobId);
    const now = Date.now();
    checkAlive(job);
    if (!allRunningSince(job, killAt)) {
      // Not (or no longer) running: a later attempt's timestamps count.
      runningAt = undefined;
    } else {
      runningAt ??= Math.max(...job.vertices.flatMap((v) => v.subtasks.map((s) => s.timestamps.RUNNING!)));
      const sink = sinkVertex(job);
      const lag = lagP50(sink);
      if (lag !== null) peak = Math.max(peak, lag);
      if (lag !== null && lag <= thresholdMs && sink.subtasks.every((s) => (s.metrics['sink-records'] ?? 0) > 0)) {
        return { toRunningMs: runningAt - killAt, toCaughtUpMs: now - killAt, peakLagP50Ms: peak };
      }
    }
    if (now - killAt > RECOVERY_TIMEOUT_MS)
      throw new Error(`the recovery job did not recover within ${RECOVERY_TIMEOUT_MS / 1000} s of the kill`);
    await sleep(POLL_MS);
  }
}

/** The sink-lag-p50 under which the output counts as caught up, from its steady value. */
function lagThreshold(steadyLagP50Ms: number): number {
  return Math.max(LAG_FLOOR_MS, 2 * steadyLagP50Ms);
}

/** Watches the job after the kill at `killAt` until its output caught up; then reads what it restored and the failures recorded. */
export async function measureKill(
  view: JobView,
  jobId: string,
  killAt: number,
  steadyLagP50Ms: number,
): Promise<KillTiming> {
  const thresholdMs = lagThreshold(steadyLagP50Ms);
  const watched = await watchRecovery(view, jobId, killAt, thresholdMs);
  const restored = await view.checkpoints(jobId);
  return {
    steadyLagP50Ms,
    thresholdMs,
    ...watched,
    restoredCheckpoint: restored.latest.restored?.id ?? null,
    failures: await failuresSince(view, jobId, killAt),
  };
}

/** The log line of one kill. */
export function describeKill(k: KillTiming): string {
  return (
    `RUNNING after ${k.toRunningMs} ms, caught up after ${k.toCaughtUpMs} ms ` +
    `(steady lag p50 ${k.steadyLagP50Ms} ms, threshold ${k.thresholdMs} ms, peak ${k.peakLagP50Ms} ms, restored checkpoint ${k.restoredCheckpoint}, ${k.failures.length} failure(s) recorded)`
  );
}

/** The two figures, `<label>: kill → all tasks RUNNING` and `<label>: kill → output caught up`, each the median of the kills. */
export function recoveryFigures(label: string, kills: KillTiming[], runningNote: string): Figure[] {
  const running = kills.map((k) => k.toRunningMs);
  const caughtUp = kills.map((k) => k.toCaughtUpMs);
  const list = (v: number[]) => v.map((x) => `${(x / 1000).toFixed(2)} s`).join(', ');
  return [
    {
      name: `${label}: kill → all tasks RUNNING`,
      value: median(running),
      unit: 'ms',
      note: `median of ${kills.length}: ${list(running)}; ${runningNote}`,
    },
    {
      name: `${label}: kill → output caught up`,
      value: median(caughtUp),
      unit: 'ms',
      note: `median of ${kills.length}: ${list(caughtUp)}; sink-lag-p50 ≤ max(${LAG_FLOOR_MS} ms, 2 × steady ${median(kills.map((k) => k.steadyLagP50Ms))} ms)`,
    },
  ];
}

/** The engine's default heartbeat settings, read the way the processes do, and how a note names them. */
export function defaultHeartbeat(): { intervalMs: number; timeoutMs: number; note: string } {
  const conf = new Configuration();
  const intervalMs = conf.getDuration('heartbeat.interval');
  const timeoutMs = conf.getDuration('heartbeat.timeout');
  return {
    intervalMs,
    timeoutMs,
    note: `heartbeat.timeout ${timeoutMs / 1000} s, interval ${intervalMs / 1000} s (defaults)`,
  };
}

/** Job settings for a result's details. */
export const RECOVERY_JOB_SETTINGS = {
  rate: RATE,
  keys: KEYS,
  checkpointIntervalMs: CHECKPOINT_INTERVAL_MS,
  restartDelayMs: RESTART_DELAY_MS,
  lagFloorMs: LAG_FLOOR_MS,
};

export async function measureRecovery(options: BenchOptions): Promise<PartResult> {
  // The cluster runs on the engine's defaults.
  const heartbeat = defaultHeartbeat();
  options.log(
    `recovery: starting 2 TaskManagers with 1 slot each (heartbeat.interval ${heartbeat.intervalMs} ms, heartbeat.timeout ${heartbeat.timeoutMs} ms)`,
  );
  const cluster = await BenchCluster.start({ taskManagers: 0, slots: 1 });
  try {
    // Started by hand so they can be killed without the cluster counting it as a crash.
    await cluster.addTaskManager([], 1);
    await cluster.addTaskManager([], 1);
    const jarId = await cluster.upload(await cluster.bundle(RECOVERY_JOB));
    const startAt = Date.now();
    const jobId = await cluster.run(jarId, recoveryJobArgs(startAt), 2);
    const kills: (KillTiming & { victim: string; replacement: string })[] = [];
    let since = startAt;
    for (let r = 0; r < options.repetitions; r++) {
      const steady = await waitSteady(cluster, jobId, since);
      const job = await cluster.job(jobId);
      const hosting = new Set(job.vertices.flatMap((v) => v.subtasks.map((s) => s['taskmanager-id'])));
      const victim = cluster.liveTaskManagers().find((id) => hosting.has(id));
      if (!victim) throw new Error('no live TaskManager runs tasks of the recovery job');
      const killAt = Date.now();
      await cluster.killTaskManager(victim);
      const replacement = cluster.addTaskManager([], 1);
      const timing = await measureKill(cluster, jobId, killAt, steady);
      kills.push({ victim, replacement: await replacement, ...timing });
      options.log(`recovery: kill ${r + 1}: ${describeKill(timing)}`);
      since = killAt;
    }
    await cluster.cancel(jobId);
    return {
      figures: recoveryFigures('recovery', kills, `${heartbeat.note}; restart delay ${RESTART_DELAY_MS} ms; aim < 5 s`),
      details: {
        ...RECOVERY_JOB_SETTINGS,
        heartbeat: { intervalMs: heartbeat.intervalMs, timeoutMs: heartbeat.timeoutMs },
        jobId,
        kills,
      },
    };
  } finally {
    await cluster.stop();
  }
}
