// `soak`: does memory stay flat under an endless job? The keyed count of issue 16 (bench/jobs/
// soak.ts: DataGeneratorSource at 2 000 records/s → keyBy → running count in ValueState →
// exactly-once FileSink, checkpoints every 500 ms) runs at parallelism 2 on two TaskManagers of one
// slot each for `--minutes` (10 by default). Every few seconds it samples the resident size (RSS)
// and JavaScript heap in use of every process: the JobManager from its Prometheus endpoint, each
// TaskManager from its heartbeats (GET /taskmanagers → memory). It prints one line per minute and,
// at the end, each process's least-squares slope (MB/min) over the samples after a 2-minute
// warm-up (aim: under 1 MB/min), plus the committed part files per hour and the size of the job's
// checkpoint directory over time.
//
// WEIR_SOAK_HEAP_SNAPSHOTS=1,5 (minutes) also starts every process under
// `node --heapsnapshot-signal=SIGUSR2` and has each write a heap snapshot at those minutes into a
// directory it prints (Heap.<date>.<time>.<pid>.0.<n>.heapsnapshot; compare two of one process
// with `node dist/bench/heap-diff.js <earlier> <later>`).
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';

const JOB = 'bench/jobs/soak.ts';
const RATE = 2_000;
const KEYS = 10_000;
const CHECKPOINT_INTERVAL_MS = 500;
const PARALLELISM = 2;
const DEFAULT_MINUTES = 10;
const WARM_UP_MINUTES = 2;
const SAMPLE_MS = 5_000;
const MB = 1024 * 1024;

interface Sample {
  /** Minutes since the job was RUNNING. */
  t: number;
  rss: number;
  heap: number;
}

interface Process {
  name: string;
  /** TaskManager id; '' for the JobManager. */
  id: string;
  pid: number | undefined;
  samples: Sample[];
}

interface TaskManagerJson {
  id: string;
  pid?: number;
  memory: { rss: number; heapUsed: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Least-squares slope of y over t (units of y per unit of t); NaN with fewer than two points. */
export function slope(points: readonly { t: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return den > 0 ? num / den : NaN;
}

/** One value of the Prometheus text format (the first series of `name`). */
function promValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Bytes under `dir`, recursively; 0 when it does not exist (yet). */
function dirSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        try {
          bytes += statSync(p).size;
          files++;
        } catch {
          // deleted meanwhile (checkpoint retention)
        }
      }
    }
  };
  walk(dir);
  return { bytes, files };
}

/** Committed (visible) and hidden (in progress or pending) part files under the FileSink's directory, buckets included. */
function partFiles(dir: string): { committed: number; inProgress: number } {
  let committed = 0;
  let inProgress = 0;
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return; // not created yet
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.startsWith('.')) inProgress++;
      else committed++;
    }
  };
  walk(dir);
  return { committed, inProgress };
}

const mb = (bytes: number) => (bytes / MB).toFixed(1);

/** The pid of the process whose command line contains every one of `parts` (Linux /proc). */
function pidOf(parts: string[]): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (parts.every((p) => cmd.includes(p))) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

export async function runSoak(options: BenchOptions): Promise<BenchmarkResult> {
  const minutes = options.minutes ?? DEFAULT_MINUTES;
  if (!(minutes > WARM_UP_MINUTES))
    throw new Error(`soak: --minutes must exceed the ${WARM_UP_MINUTES}-minute warm-up`);
  const snapshotAt = (process.env.WEIR_SOAK_HEAP_SNAPSHOTS ?? '')
    .split(',')
    .filter((s) => s.trim())
    .map(Number)
    .filter((m) => m > 0 && m <= minutes);
  options.log(
    `soak: ${minutes} min; 2 TaskManagers with 1 slot each; ${RATE} records/s over ${KEYS} keys; checkpoints every ${CHECKPOINT_INTERVAL_MS} ms`,
  );
  const snapshotDir = snapshotAt.length ? mkdtempSync(join(tmpdir(), 'weir-soak-heap-')) : undefined;
  const nodeOptions = process.env.NODE_OPTIONS;
  // Every child process inherits the flags; writing a heap snapshot stops a process for seconds,
  // longer than the default heartbeat timeout.
  if (snapshotDir)
    process.env.NODE_OPTIONS =
      `${nodeOptions ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshotDir}`.trim();
  let cluster: BenchCluster;
  try {
    cluster = await BenchCluster.start({
      taskManagers: 0,
      slots: 1,
      ...(snapshotDir ? { config: { 'heartbeat.timeout': '60 s' } } : {}),
    });
  } catch (e) {
    if (snapshotDir) process.env.NODE_OPTIONS = nodeOptions;
    throw e;
  }
  try {
    const tmIds = [await cluster.addTaskManager([], 1), await cluster.addTaskManager([], 1)];
    if (snapshotDir) {
      if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = nodeOptions;
    }
    const outDir = join(cluster.dir, 'out');
    const jarId = await cluster.upload(await cluster.bundle(JOB));
    const jobId = await cluster.run(
      jarId,
      [outDir, String(RATE), String(KEYS), String(CHECKPOINT_INTERVAL_MS)],
      PARALLELISM,
    );
    const job = await cluster.poll(
      'the soak job to run',
      async () => {
        const j = await cluster.job(jobId);
        if (j.state === 'FAILED' || j.state === 'CANCELED' || j.state === 'FINISHED')
          throw new Error(`the soak job ended ${j.state}`);
        return j.state === 'RUNNING' && j.vertices.every((v) => v.subtasks.every((s) => s.status === 'RUNNING'))
          ? j
          : undefined;
      },
      60_000,
    );
    const checkpointDir = join(cluster.dir, 'jobmanager', 'checkpoints', jobId);
    const tms = (await cluster.client.get<{ taskmanagers: TaskManagerJson[] }>('/taskmanagers')).taskmanagers;
    const procs: Process[] = [
      { name: 'JobManager', id: '', pid: pidOf(['jobmanager', join(cluster.dir, 'jobmanager')]), samples: [] },
      ...tmIds.map((id, i) => ({
        name: `TaskManager ${i + 1}`,
        id,
        pid: tms.find((t) => t.id === id)?.pid,
        samples: [] as Sample[],
      })),
    ];
    const placement: Record<string, string[]> = {};
    for (const v of job.vertices) {
      for (const s of v.subtasks) {
        const p = procs.find((x) => x.id === s['taskmanager-id']);
        if (p) (placement[p.name] ??= []).push(`${v.name} ${s.subtask + 1}/${v.parallelism}`);
      }
    }
    for (const p of procs.slice(1))
      options.log(`soak: ${p.name} (${p.id}, pid ${p.pid}) runs ${(placement[p.name] ?? []).join('; ') || 'nothing'}`);

    const startedAt = Date.now();
    const elapsedMin = () => (Date.now() - startedAt) / 60_000;
    const perMinute: Record<string, unknown>[] = [];
    const snapshotsTaken: number[] = [];
    let nextMinute = 1;
    let lastCommitted = 0;
    let lastCompleted = 0;
    const header = ['min', ...procs.map((p) => `${p.name} rss/heap MB`), 'parts/h', 'chk dir', 'checkpoints ok/failed'];
    options.log(`soak: ${header.join(' | ')}`);
    for (;;) {
      const t = elapsedMin();
      const [metrics, tmList, j] = await Promise.all([
        fetch(`${cluster.restUrl}/metrics`)
          .then((r) => r.text())
          .catch(() => ''),
        cluster.client.get<{ taskmanagers: TaskManagerJson[] }>('/taskmanagers'),
        cluster.job(jobId),
      ]);
      if (j.state !== 'RUNNING') {
        const ex = await cluster.client
          .get<{ 'root-exception'?: string }>(`/jobs/${jobId}/exceptions`)
          .catch(() => ({}) as { 'root-exception'?: string });
        throw new Error(
          `the soak job is ${j.state} after ${t.toFixed(1)} min: ${ex['root-exception']?.split('\n')[0] ?? ''}`,
        );
      }
      const jmRss = promValue(metrics, 'weir_jobmanager_process_process_resident_memory_bytes');
      const jmHeap = promValue(metrics, 'weir_jobmanager_process_nodejs_heap_size_used_bytes');
      if (jmRss !== undefined && jmHeap !== undefined) procs[0]!.samples.push({ t, rss: jmRss, heap: jmHeap });
      for (const p of procs.slice(1)) {
        const tm = tmList.taskmanagers.find((x) => x.id === p.id);
        if (tm && tm.memory.rss > 0) p.samples.push({ t, rss: tm.memory.rss, heap: tm.memory.heapUsed });
      }
      const due = snapshotAt.find((m) => m <= t && !snapshotsTaken.includes(m));
      if (due !== undefined) {
        for (const p of procs) if (p.pid) process.kill(p.pid, 'SIGUSR2');
        snapshotsTaken.push(due);
        options.log(
          `soak: heap snapshots requested at ${t.toFixed(2)} min (${procs.map((p) => `${p.name} pid ${p.pid}`).join(', ')}) into ${snapshotDir}`,
        );
      }
      if (t >= nextMinute || t >= minutes) {
        const parts = partFiles(outDir);
        const chk = dirSize(checkpointDir);
        const cp = await cluster.checkpoints(jobId);
        const partsPerHour = ((parts.committed - lastCommitted) / (t - (nextMinute - 1))) * 60;
        const row = {
          minute: Math.round(t * 100) / 100,
          ...Object.fromEntries(
            procs.map((p) => [
              p.name,
              { rssMB: Number(mb(p.samples.at(-1)?.rss ?? 0)), heapMB: Number(mb(p.samples.at(-1)?.heap ?? 0)) },
            ]),
          ),
          committedParts: parts.committed,
          inProgressParts: parts.inProgress,
          partsPerHour: Math.round(partsPerHour),
          checkpointDirBytes: chk.bytes,
          checkpointDirFiles: chk.files,
          checkpointsCompleted: cp.counts.completed,
          checkpointsFailed: cp.counts.failed,
        };
        perMinute.push(row);
        options.log(
          `soak: ${t.toFixed(1).padStart(4)} | ${procs.map((p) => `${mb(p.samples.at(-1)?.rss ?? 0)}/${mb(p.samples.at(-1)?.heap ?? 0)}`).join(' | ')} | ${Math.round(partsPerHour)} | ${mb(chk.bytes)} MB in ${chk.files} files | ${cp.counts.completed - lastCompleted} (${cp.counts.completed})/${cp.counts.failed}`,
        );
        lastCommitted = parts.committed;
        lastCompleted = cp.counts.completed;
        nextMinute++;
      }
      if (t >= minutes) break;
      await sleep(SAMPLE_MS);
    }

    const figures: Figure[] = [];
    const slopes: Record<
      string,
      { rssMBPerMin: number; heapMBPerMin: number; heapFloorMBPerMin: number; samples: number }
    > = {};
    for (const p of procs) {
      const after = p.samples.filter((s) => s.t >= WARM_UP_MINUTES);
      const rss = slope(after.map((s) => ({ t: s.t, y: s.rss / MB })));
      const heap = slope(after.map((s) => ({ t: s.t, y: s.heap / MB })));
      // Heap in use includes garbage not collected yet (a sawtooth of several MB): the slope of each
      // minute's lowest sample, what survived the collections, is the steadier view of a leak.
      const floors: { t: number; y: number }[] = [];
      for (let m = WARM_UP_MINUTES; m < minutes; m++) {
        const inMinute = after.filter((x) => x.t >= m && x.t < m + 1);
        if (inMinute.length) floors.push({ t: m + 0.5, y: Math.min(...inMinute.map((x) => x.heap)) / MB });
      }
      const floor = slope(floors);
      slopes[p.name] = { rssMBPerMin: rss, heapMBPerMin: heap, heapFloorMBPerMin: floor, samples: after.length };
      const span = `least squares over ${after.length} samples, minutes ${WARM_UP_MINUTES}–${minutes}`;
      figures.push({
        name: `${p.name}: heap slope`,
        value: heap,
        unit: 'MB/min',
        note: `${span}; ${mb(after[0]?.heap ?? 0)} → ${mb(after.at(-1)?.heap ?? 0)} MB; per-minute minima: ${floor.toFixed(2)} MB/min`,
      });
      figures.push({
        name: `${p.name}: RSS slope`,
        value: rss,
        unit: 'MB/min',
        note: `${span}; ${mb(after[0]?.rss ?? 0)} → ${mb(after.at(-1)?.rss ?? 0)} MB`,
      });
    }
    const last = perMinute.at(-1)!;
    const elapsed = elapsedMin();
    figures.push({
      name: 'part files committed per hour',
      value: ((last.committedParts as number) / elapsed) * 60,
      unit: 'files/h',
      note: `${last.committedParts as number} in ${elapsed.toFixed(1)} min`,
    });
    const largest = Math.max(...perMinute.map((r) => r.checkpointDirBytes as number));
    figures.push({
      name: 'checkpoint directory at the end',
      value: (last.checkpointDirBytes as number) / MB,
      unit: 'MB',
      note: `${last.checkpointDirFiles as number} files (largest of the minutes: ${mb(largest)} MB); ${last.checkpointsCompleted as number} checkpoints completed, ${last.checkpointsFailed as number} failed`,
    });
    await cluster.cancel(jobId);
    return {
      benchmark: 'soak',
      description: `endless keyed count, ${RATE} records/s, checkpoints every ${CHECKPOINT_INTERVAL_MS} ms, exactly-once FileSink, parallelism ${PARALLELISM} on 2 TaskManagers: memory slope per process`,
      figures,
      details: {
        jobId,
        minutes,
        placement,
        slopes,
        perMinute,
        samples: Object.fromEntries(procs.map((p) => [p.name, p.samples])),
        ...(snapshotDir ? { snapshotDir, snapshotsTaken } : {}),
      },
    };
  } finally {
    await cluster.stop();
  }
}

export const soak: Benchmark = {
  name: 'soak',
  description: `memory over time under an endless checkpointed job (--minutes=N, default ${DEFAULT_MINUTES})`,
  run: runSoak,
};
