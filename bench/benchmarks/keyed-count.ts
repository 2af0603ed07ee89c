// Throughput of a keyed running count over small records, four ways in one run:
//   (a) a hand-written loop doing the same work in this process (the baseline);
//   (b) Weir at parallelism 1 on one TaskManager: the pipeline chains into a single task;
//   (c) Weir at parallelism 2 on two TaskManagers (one slot each): the keyBy edge is a real
//       shuffle, half of it over gRPC between the TaskManagers;
//   (d) Weir at parallelism 2 on one TaskManager with two slots: the same shuffle, between the
//       slots of one process.
// c/b and d/b say what the second subtask buys over the chained job (aims: at least 1, and 1.2
// for d, where the exchange stays in one process).
// Weir's rate is records / (last subtask FINISHED - last subtask RUNNING), from the JobManager's
// subtask timestamps. Each figure is the median of several runs after one smaller warm-up run.
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';
import { cpuFigures } from '../lib/cpu-figures.js';
import { cpuDuring } from '../lib/process-cpu.js';
import {
  consume,
  consumedChecksum,
  countReduce,
  DEFAULT_KEYS,
  eventAt,
  type CountEvent,
} from '../lib/keyed-records.js';
import { Configuration } from '../../common/config.js';
import { RecordSerializer } from '../../common/serialization.js';
import { formatCount, median, medianNote, perSecond } from '../lib/stats.js';
import { runningWindow } from '../lib/timing.js';
import { sumMetric } from '../lib/weir-run.js';

const JOB = 'bench/jobs/keyed-count.ts';
// Enough that each Weir run lasts several seconds, so millisecond timestamps and start-up
// effects do not matter.
const RECORDS = 20_000_000;
const WARMUP_RECORDS = 2_000_000;

/** (a): the same generator, reduce and sink as the job, with a Map as keyed state. Returns ms. */
export function handWrittenLoop(records: number, keys: number): number {
  const state = new Map<number, CountEvent>();
  const t0 = performance.now();
  for (let i = 0; i < records; i++) {
    const e = eventAt(i, keys);
    const acc = state.get(e.key);
    const out = acc === undefined ? e : countReduce(acc, e);
    state.set(e.key, out);
    consume(out);
  }
  const ms = performance.now() - t0;
  if (state.size !== Math.min(keys, records))
    throw new Error(`hand-written loop saw ${state.size} keys, expected ${keys}`);
  return ms;
}

interface WeirRun {
  /** CPU time of the TaskManagers per record, every thread, over the whole job. */
  cpuUsPerRecord: number;
  jobId: string;
  records: number;
  durationMs: number;
  recordsPerSecond: number;
  /** Over the longer window from the first subtask RUNNING: a lower bound, for comparison. */
  sinceFirstRunningMs: number;
  vertices: { name: string; parallelism: number; taskManagers: string[]; metrics: Record<string, number> }[];
}

/** Runs the job once and checks it did what the figure claims. */
async function runWeir(
  cluster: BenchCluster,
  jarId: string,
  records: number,
  keys: number,
  parallelism: number,
  taskManagerPids: number[],
): Promise<WeirRun> {
  const { result: job, cpuSeconds } = await cpuDuring(taskManagerPids, async () =>
    cluster.waitForFinished(await cluster.run(jarId, [String(records), String(keys)], parallelism)),
  );
  const jobId = job.jid;
  const sinkRecords = sumMetric(job, 'sink-records');
  if (sinkRecords !== records)
    throw new Error(`job ${jobId}: the sink received ${sinkRecords} records, expected ${records}`);
  const w = runningWindow(job);
  return {
    jobId,
    records,
    durationMs: w.durationMs,
    recordsPerSecond: perSecond(records, w.durationMs),
    cpuUsPerRecord: (cpuSeconds * 1e6) / records,
    sinceFirstRunningMs: w.lastFinishedAt - w.firstRunningAt,
    vertices: job.vertices.map((v) => ({
      name: v.name,
      parallelism: v.parallelism,
      taskManagers: [...new Set(v.subtasks.map((s) => s['taskmanager-id'] ?? '?'))],
      metrics: v.metrics,
    })),
  };
}

/** Bytes per record of the job's records in network buffers of the default segment size. */
function wireBytesPerRecord(keys: number): number {
  const segment = new Configuration().getMemorySize('taskmanager.memory.segment-size');
  const serializer = new RecordSerializer(1024, segment);
  const records = 100_000;
  let bytes = 0;
  for (let i = 0; i < records; i++) {
    serializer.add(eventAt(i, keys), undefined);
    if (serializer.size >= segment) bytes += serializer.finish()!.length;
  }
  bytes += serializer.finish()?.length ?? 0;
  serializer.dispose();
  return bytes / records;
}

async function measureWeir(
  options: BenchOptions,
  label: string,
  clusterShape: { taskManagers: number; slots: number },
  parallelism: number,
  records: number,
  keys: number,
  check: (run: WeirRun) => void,
): Promise<WeirRun[]> {
  options.log(`${label}: starting ${clusterShape.taskManagers} TaskManager(s) with ${clusterShape.slots} slot(s) each`);
  const cluster = await BenchCluster.start(clusterShape);
  try {
    const jarId = await cluster.upload(await cluster.bundle(JOB));
    const pids = await cluster.taskManagerPids();
    const warm = await runWeir(cluster, jarId, Math.min(records, WARMUP_RECORDS), keys, parallelism, pids);
    check(warm);
    options.log(`${label}: warm-up ${formatCount(warm.recordsPerSecond)} records/s`);
    const runs: WeirRun[] = [];
    for (let r = 0; r < options.repetitions; r++) {
      const run = await runWeir(cluster, jarId, records, keys, parallelism, pids);
      check(run);
      runs.push(run);
      options.log(
        `${label}: run ${r + 1}: ${formatCount(run.recordsPerSecond)} records/s (${(run.durationMs / 1000).toFixed(2)} s), ${run.cpuUsPerRecord.toFixed(3)} µs CPU per record`,
      );
    }
    return runs;
  } finally {
    await cluster.stop();
  }
}

export const keyedCount: Benchmark = {
  name: 'keyed-count',
  description:
    'running count per key (10 000 keys) over {key, value} records: hand-written loop vs Weir p1 (chained) vs Weir p2 (2 TaskManagers, gRPC shuffle) vs Weir p2 (1 TaskManager, 2 slots)',
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const records = Math.max(10_000, Math.round(RECORDS * options.scale));
    const keys = DEFAULT_KEYS;

    // (a)
    handWrittenLoop(Math.min(records, WARMUP_RECORDS), keys);
    const loopRates: number[] = [];
    for (let r = 0; r < options.repetitions; r++) loopRates.push(perSecond(records, handWrittenLoop(records, keys)));
    options.log(
      `(a) hand-written loop: ${loopRates.map(formatCount).join(', ')} records/s (checksum ${consumedChecksum()})`,
    );

    // (b)
    const chained = await measureWeir(
      options,
      '(b) Weir p1',
      { taskManagers: 1, slots: 1 },
      1,
      records,
      keys,
      (run) => {
        if (run.vertices.length !== 1)
          throw new Error(
            `(b) expected the pipeline to chain into 1 vertex, got ${run.vertices.map((v) => v.name).join(' | ')}`,
          );
      },
    );

    // (c)
    const shuffled = await measureWeir(
      options,
      '(c) Weir p2',
      { taskManagers: 2, slots: 1 },
      2,
      records,
      keys,
      (run) => {
        if (run.vertices.length !== 2)
          throw new Error(
            `(c) expected a source vertex and a keyed vertex, got ${run.vertices.map((v) => v.name).join(' | ')}`,
          );
        for (const v of run.vertices) {
          if (v.parallelism !== 2 || v.taskManagers.length !== 2)
            throw new Error(
              `(c) vertex '${v.name}' should run 2 subtasks on 2 TaskManagers, ran on ${v.taskManagers.join(', ')}`,
            );
        }
      },
    );

    // (d)
    const oneProcess = await measureWeir(
      options,
      '(d) Weir p2',
      { taskManagers: 1, slots: 2 },
      2,
      records,
      keys,
      (run) => {
        if (run.vertices.length !== 2)
          throw new Error(
            `(d) expected a source vertex and a keyed vertex, got ${run.vertices.map((v) => v.name).join(' | ')}`,
          );
        for (const v of run.vertices) {
          if (v.parallelism !== 2 || v.taskManagers.length !== 1)
            throw new Error(
              `(d) vertex '${v.name}' should run 2 subtasks on 1 TaskManager, ran on ${v.taskManagers.join(', ')}`,
            );
        }
      },
    );

    const a = median(loopRates);
    const bRates = chained.map((r) => r.recordsPerSecond);
    const cRates = shuffled.map((r) => r.recordsPerSecond);
    const dRates = oneProcess.map((r) => r.recordsPerSecond);
    const b = median(bRates);
    const c = median(cRates);
    const d = median(dRates);
    // What a record of the keyBy exchange costs on the wire: the job's records through the network
    // codec, a buffer at a time. (The source's write-bytes metric counts only records that left
    // their thread: those for the consumer on the same thread are copied, not serialized.)
    const bytesPerRecord = wireBytesPerRecord(keys);
    // The source vertex is the head of the job graph; its output is the keyBy exchange.
    const wire = shuffled.map((r) => {
      const m = r.vertices[0]!.metrics;
      return { writeBytes: m['write-bytes'] ?? 0, writeRecords: m['write-records'] ?? 0 };
    });

    const figures: Figure[] = [
      { name: '(a) hand-written loop', value: a, unit: 'records/s', note: medianNote(loopRates) },
      { name: '(b) Weir p1, chained', value: b, unit: 'records/s', note: medianNote(bRates) },
      { name: '(c) Weir p2, 2 TaskManagers × 1 slot', value: c, unit: 'records/s', note: medianNote(cRates) },
      { name: '(d) Weir p2, 1 TaskManager × 2 slots', value: d, unit: 'records/s', note: medianNote(dRates) },
      { name: 'b/a', value: b / a, unit: 'ratio', note: 'aim ≥ 0.3' },
      { name: 'c/a', value: c / a, unit: 'ratio' },
      { name: 'c/b', value: c / b, unit: 'ratio', note: 'aim ≥ 1' },
      { name: 'd/b', value: d / b, unit: 'ratio', note: 'aim ≥ 1.2' },
      {
        name: 'keyBy exchange record on the wire',
        value: bytesPerRecord,
        unit: 'bytes/record',
        note: 'the job records through the network codec, 32 KiB buffers',
      },
      ...cpuFigures('', 'record', {
        b: chained.map((r) => r.cpuUsPerRecord),
        c: shuffled.map((r) => r.cpuUsPerRecord),
        d: oneProcess.map((r) => r.cpuUsPerRecord),
      }),
    ];
    return {
      benchmark: this.name,
      description: this.description,
      figures,
      details: {
        records,
        keys,
        warmupRecords: Math.min(records, WARMUP_RECORDS),
        recordsPerSecond: { a, b, c, d },
        ratios: { bOverA: b / a, cOverA: c / a, cOverB: c / b, dOverB: d / b },
        bytesPerRecord,
        aims: { bOverA: 0.3, cRecordsPerSecond: 500_000, met: { bOverA: b / a >= 0.3, c: c >= 500_000 } },
        runs: {
          a: loopRates,
          b: chained.map(({ jobId, durationMs, recordsPerSecond, sinceFirstRunningMs, cpuUsPerRecord }) => ({
            jobId,
            durationMs,
            recordsPerSecond,
            sinceFirstRunningMs,
            cpuUsPerRecord,
          })),
          c: shuffled.map(({ jobId, durationMs, recordsPerSecond, sinceFirstRunningMs, cpuUsPerRecord }, i) => ({
            jobId,
            durationMs,
            recordsPerSecond,
            sinceFirstRunningMs,
            cpuUsPerRecord,
            ...wire[i],
          })),
          d: oneProcess.map(({ jobId, durationMs, recordsPerSecond, sinceFirstRunningMs, cpuUsPerRecord }) => ({
            jobId,
            durationMs,
            recordsPerSecond,
            sinceFirstRunningMs,
            cpuUsPerRecord,
          })),
        },
        vertices: {
          b: chained[0]?.vertices.map((v) => v.name),
          c: shuffled[0]?.vertices.map((v) => v.name),
          d: oneProcess[0]?.vertices.map((v) => v.name),
        },
      },
    };
  },
};
