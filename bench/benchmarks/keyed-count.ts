// Throughput of a keyed running count over small records, several ways in one run (keyed-count:
// {key, value} objects; keyed-count-tuples: [key, value] arrays, with a, b, c and d only):
//   (a) a hand-written loop doing the same work in this process (the baseline);
//   (a2) that loop on two threads at once (bench/lib/two-loops.ts): a2/a is what this machine's
//       two cores give in that round, with no engine at all;
//   (b) Weir at parallelism 1 on one TaskManager: the pipeline chains into a single task;
//   (c) Weir at parallelism 2 on two TaskManagers (one slot each): the keyBy edge is a real
//       shuffle, half of it over gRPC between the TaskManagers;
//   (d) Weir at parallelism 2 on one TaskManager with two slots: the same shuffle, between the
//       slots of one process;
//   (e) two copies of (b) at once on one TaskManager with two slots (bench/lib/two-chained.ts).
// c/b and d/b say what the second subtask buys over the chained job (aims: at least 1, and 1.2
// for d, where the exchange stays in one process); e/b is what two cores give with no exchange at
// all, and d/e what the exchange keeps of it.
// Weir's rate is records / (last subtask FINISHED - last subtask RUNNING), from the JobManager's
// subtask timestamps. The variants run in rounds (bench/lib/rounds.ts): a, a2, b, c, d, e, then again,
// each Weir variant on a fresh cluster with a smaller warm-up run first. A rate is the median over
// the rounds; a ratio is taken within each round, then the median over the rounds.
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import type { BenchCluster } from '../lib/cluster.js';
import { cpuFigures } from '../lib/cpu-figures.js';
import { cpuDuring } from '../lib/process-cpu.js';
import {
  consumedChecksum,
  DEFAULT_KEYS,
  eventAt,
  handWrittenLoop,
  tupleAt,
  type RecordShape,
} from '../lib/keyed-records.js';
import { Configuration } from '../../common/config.js';
import { RecordSerializer } from '../../common/serialization.js';
import { formatCount, median, medianFigure, perSecond } from '../lib/stats.js';
import { measureInRounds, ratioFigure, type RoundVariant } from '../lib/rounds.js';
import { runningWindow } from '../lib/timing.js';
import { runTwoChained } from '../lib/two-chained.js';
import { twoLoopsAtOnce } from '../lib/two-loops.js';
import { sumMetric } from '../lib/weir-run.js';
import { AFTER_WARM_UP, steadyRate, warmArgs, warmMark, type WarmMark } from '../lib/steady-rate.js';

const JOB = 'bench/jobs/keyed-count.ts';
// Enough that each Weir run lasts several seconds, so millisecond timestamps and start-up
// effects do not matter.
const RECORDS = 20_000_000;
const WARMUP_RECORDS = 2_000_000;

interface WeirRun {
  /** CPU time of the TaskManagers per record, every thread, over the whole job. */
  cpuUsPerRecord: number;
  jobId: string;
  records: number;
  durationMs: number;
  recordsPerSecond: number;
  /** After warm-up (bench/lib/steady-rate.ts): measured runs only. */
  steadyRecordsPerSecond?: number;
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
  shape: RecordShape,
  parallelism: number,
  taskManagerPids: number[],
  warm?: WarmMark,
): Promise<WeirRun> {
  await cluster.awaitSpareThreads(); // not inside the CPU figure
  const args = [String(records), String(keys), shape, ...warmArgs(warm)];
  const { result: job, cpuSeconds } = await cpuDuring(taskManagerPids, async () =>
    cluster.waitForFinished(await cluster.run(jarId, args, parallelism)),
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
    steadyRecordsPerSecond: warm ? steadyRate(warm, records, w.lastFinishedAt) : undefined,
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
function wireBytesPerRecord(keys: number, shape: RecordShape): number {
  const segment = new Configuration().getMemorySize('taskmanager.memory.segment-size');
  const serializer = new RecordSerializer(1024, segment);
  const records = 100_000;
  let bytes = 0;
  for (let i = 0; i < records; i++) {
    serializer.add(shape === 'objects' ? eventAt(i, keys) : tupleAt(i, keys), undefined);
    if (serializer.size >= segment) bytes += serializer.finish()!.length;
  }
  bytes += serializer.finish()?.length ?? 0;
  serializer.dispose();
  return bytes / records;
}

/** One variant: per round, a warm-up run and a measured one on the round's cluster. */
function weirVariant(
  options: BenchOptions,
  label: string,
  shape: { taskManagers: number; slots: number },
  parallelism: number,
  records: number,
  keys: number,
  recordShape: RecordShape,
  check: (run: WeirRun) => void,
): RoundVariant<WeirRun> {
  return {
    label,
    shape,
    async measure({ cluster, jarId, pids }): Promise<WeirRun> {
      const warm = await runWeir(
        cluster,
        jarId,
        Math.min(records, WARMUP_RECORDS),
        keys,
        recordShape,
        parallelism,
        pids,
      );
      check(warm);
      const mark = warmMark(cluster, records);
      const run = await runWeir(cluster, jarId, records, keys, recordShape, parallelism, pids, mark);
      check(run);
      options.log(
        `${label}: warm-up ${formatCount(warm.recordsPerSecond)} records/s, then ${formatCount(run.recordsPerSecond)} records/s (${(run.durationMs / 1000).toFixed(2)} s), ${formatCount(run.steadyRecordsPerSecond!)} after warm-up, ${run.cpuUsPerRecord.toFixed(3)} µs CPU per record`,
      );
      return run;
    },
  };
}

/** The check of (c) and (d): a source and a keyed vertex, each of 2 subtasks on `taskManagers` TaskManagers. */
function shuffledOn(taskManagers: number): (run: WeirRun) => void {
  const label = taskManagers === 2 ? '(c)' : '(d)';
  const noun = taskManagers === 1 ? 'TaskManager' : 'TaskManagers';
  return (run) => {
    if (run.vertices.length !== 2)
      throw new Error(
        `${label} expected a source vertex and a keyed vertex, got ${run.vertices.map((v) => v.name).join(' | ')}`,
      );
    for (const v of run.vertices) {
      if (v.parallelism !== 2 || v.taskManagers.length !== taskManagers)
        throw new Error(
          `${label} vertex '${v.name}' should run 2 subtasks on ${taskManagers} ${noun}, ran on ${v.taskManagers.join(', ')}`,
        );
    }
  };
}

/** (e): per round, a warm-up pair and a measured pair of chained jobs at once. */
function twoChainedVariant(options: BenchOptions, records: number, keys: number): RoundVariant<WeirRun> {
  const once = async (
    cluster: BenchCluster,
    jarId: string,
    n: number,
    pids: number[],
    mark?: WarmMark,
  ): Promise<WeirRun> => {
    const args = [String(n), String(keys), 'objects', ...warmArgs(mark)];
    const run = await runTwoChained(cluster, jarId, args, n, pids, n, mark);
    return {
      jobId: run.jobs.map((j) => j.jid).join(','),
      records: 2 * n,
      durationMs: run.durationMs,
      recordsPerSecond: run.recordsPerSecond,
      steadyRecordsPerSecond: run.steadyRecordsPerSecond,
      cpuUsPerRecord: (run.cpuSeconds * 1e6) / (2 * n),
      sinceFirstRunningMs: run.durationMs,
      vertices: [],
    };
  };
  return {
    label: '(e) two Weir p1 at once',
    shape: { taskManagers: 1, slots: 2 },
    async measure({ cluster, jarId, pids }): Promise<WeirRun> {
      const warm = await once(cluster, jarId, Math.min(records, WARMUP_RECORDS), pids);
      const run = await once(cluster, jarId, records, pids, warmMark(cluster, records));
      options.log(
        `(e) two Weir p1 at once: warm-up ${formatCount(warm.recordsPerSecond)} records/s, then ${formatCount(run.recordsPerSecond)} records/s together, ${formatCount(run.steadyRecordsPerSecond!)} after warm-up`,
      );
      return run;
    },
  };
}

export const keyedCount = keyedCountOf('objects');
export const keyedCountTuples = keyedCountOf('tuples');

function keyedCountOf(shape: RecordShape): Benchmark {
  const objects = shape === 'objects';
  return {
    name: objects ? 'keyed-count' : 'keyed-count-tuples',
    description: objects
      ? 'running count per key (10 000 keys) over {key, value} records: hand-written loop vs Weir p1 (chained) vs Weir p2 (2 TaskManagers, gRPC shuffle) vs Weir p2 (1 TaskManager, 2 slots) vs two Weir p1 at once (1 TaskManager, 2 slots)'
      : 'running count per key (10 000 keys) over [key, value] arrays: hand-written loop vs Weir p1 (chained) vs Weir p2 (2 TaskManagers, gRPC shuffle) vs Weir p2 (1 TaskManager, 2 slots)',
    run: (options) => runKeyedCount(options, shape),
  };
}

async function runKeyedCount(options: BenchOptions, shape: RecordShape): Promise<BenchmarkResult> {
  const objects = shape === 'objects';
  const records = Math.max(10_000, Math.round(RECORDS * options.scale));
  const keys = DEFAULT_KEYS;

  // (a) at the start of each round, in this process, with no cluster up.
  handWrittenLoop(Math.min(records, WARMUP_RECORDS), keys, shape);
  const loopRates: number[] = [];
  const loopRound = () => {
    loopRates.push(perSecond(records, handWrittenLoop(records, keys, shape)));
    options.log(`(a) hand-written loop: ${formatCount(loopRates.at(-1)!)} records/s (checksum ${consumedChecksum()})`);
  };
  const twoLoopRates: number[] = [];
  const loopsRound = async () => {
    loopRound();
    twoLoopRates.push(await twoLoopsAtOnce(records, keys, Math.min(records, WARMUP_RECORDS)));
    options.log(`(a2) two hand-written loops at once: ${formatCount(twoLoopRates.at(-1)!)} records/s together`);
  };

  const variants = {
    // (b)
    b: weirVariant(options, '(b) Weir p1', { taskManagers: 1, slots: 1 }, 1, records, keys, shape, (run) => {
      if (run.vertices.length !== 1)
        throw new Error(
          `(b) expected the pipeline to chain into 1 vertex, got ${run.vertices.map((v) => v.name).join(' | ')}`,
        );
    }),
    // (c)
    c: weirVariant(options, '(c) Weir p2', { taskManagers: 2, slots: 1 }, 2, records, keys, shape, shuffledOn(2)),
    // (d)
    d: weirVariant(options, '(d) Weir p2', { taskManagers: 1, slots: 2 }, 2, records, keys, shape, shuffledOn(1)),
  };
  // What the machine gives (a2, e) is the same whatever the records: measured with objects only.
  const {
    b: chained,
    c: shuffled,
    d: oneProcess,
    e: twoChained,
  } = objects
    ? await measureInRounds(options, JOB, { ...variants, e: twoChainedVariant(options, records, keys) }, loopsRound)
    : { ...(await measureInRounds(options, JOB, variants, loopRound)), e: [] as WeirRun[] };

  const a = median(loopRates);
  const bRates = chained.map((r) => r.recordsPerSecond);
  const cRates = shuffled.map((r) => r.recordsPerSecond);
  const dRates = oneProcess.map((r) => r.recordsPerSecond);
  const b = median(bRates);
  const c = median(cRates);
  const d = median(dRates);
  const eRates = twoChained.map((r) => r.recordsPerSecond);
  const e = objects ? median(eRates) : null;
  // Within each round, then the median over the rounds. The machine's own ratios and the two
  // chained jobs' are measured with objects only.
  const ratioFigures = {
    bOverA: ratioFigure('b/a', bRates, loopRates, 'aim ≥ 0.3'),
    cOverA: ratioFigure('c/a', cRates, loopRates),
    cOverB: ratioFigure('c/b', cRates, bRates, 'aim ≥ 1'),
    dOverB: ratioFigure('d/b', dRates, bRates, 'aim ≥ 1.2'),
  };
  const machineRatioFigures = objects
    ? {
        a2OverA: ratioFigure('a2/a', twoLoopRates, loopRates, "what this machine's two cores give, with no engine"),
        eOverB: ratioFigure('e/b', eRates, bRates, 'two cores with no exchange: the ceiling of c/b and d/b'),
        dOverE: ratioFigure('d/e', dRates, eRates, 'what the exchange keeps of two cores'),
      }
    : undefined;
  const ratios = {
    a2OverA: machineRatioFigures?.a2OverA.value ?? null,
    bOverA: ratioFigures.bOverA.value,
    cOverA: ratioFigures.cOverA.value,
    cOverB: ratioFigures.cOverB.value,
    dOverB: ratioFigures.dOverB.value,
    eOverB: machineRatioFigures?.eOverB.value ?? null,
    dOverE: machineRatioFigures?.dOverE.value ?? null,
  };
  // After warm-up: each measured run from its mark on (the loop was always measured warm).
  const steady = (runs: WeirRun[]) => runs.map((r) => r.steadyRecordsPerSecond!);
  const steadyRates = {
    a: loopRates,
    b: steady(chained),
    c: steady(shuffled),
    d: steady(oneProcess),
    e: steady(twoChained),
  };
  const steadyRatioOf = (x: keyof typeof steadyRates, y: keyof typeof steadyRates, aim?: string) =>
    ratioFigure(
      `${x}/${y} after warm-up`,
      steadyRates[x],
      steadyRates[y],
      aim ? `${aim}; ${AFTER_WARM_UP}` : AFTER_WARM_UP,
    );
  const steadyRatios: Record<string, Figure> = {
    'b/a': steadyRatioOf('b', 'a', 'aim ≥ 0.3'),
    'c/b': steadyRatioOf('c', 'b', 'aim ≥ 1'),
    'd/b': steadyRatioOf('d', 'b', 'aim ≥ 1.2'),
    ...(objects ? { 'e/b': steadyRatioOf('e', 'b'), 'd/e': steadyRatioOf('d', 'e') } : {}),
  };
  // What a record of the keyBy exchange costs on the wire: the job's records through the network
  // codec, a buffer at a time. (The source's write-bytes metric counts buffers, not the batches
  // of copies that records of other shapes take to a consumer on the same thread.)
  const bytesPerRecord = wireBytesPerRecord(keys, shape);
  // The source vertex is the head of the job graph; its output is the keyBy exchange.
  const wire = shuffled.map((r) => {
    const m = r.vertices[0]!.metrics;
    return { writeBytes: m['write-bytes'] ?? 0, writeRecords: m['write-records'] ?? 0 };
  });

  const machineFigures: Figure[] = machineRatioFigures
    ? [
        medianFigure('(a2) two hand-written loops at once (two threads)', twoLoopRates, 'records/s'),
        machineRatioFigures.a2OverA,
        medianFigure('(e) two Weir p1 at once, 1 TaskManager × 2 slots', eRates, 'records/s'),
        machineRatioFigures.eOverB,
        machineRatioFigures.dOverE,
      ]
    : [];
  const figures: Figure[] = [
    medianFigure('(a) hand-written loop', loopRates, 'records/s'),
    medianFigure('(b) Weir p1, chained', bRates, 'records/s'),
    medianFigure('(c) Weir p2, 2 TaskManagers × 1 slot', cRates, 'records/s'),
    medianFigure('(d) Weir p2, 1 TaskManager × 2 slots', dRates, 'records/s'),
    ...Object.values(ratioFigures),
    ...machineFigures,
    ...Object.values(steadyRatios),
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
    benchmark: objects ? keyedCount.name : keyedCountTuples.name,
    description: objects ? keyedCount.description : keyedCountTuples.description,
    figures,
    details: {
      records,
      keys,
      warmupRecords: Math.min(records, WARMUP_RECORDS),
      recordsPerSecond: { a, b, c, d, e },
      ratios,
      afterWarmUp: {
        recordsPerSecond: steadyRates,
        ratios: Object.fromEntries(Object.entries(steadyRatios).map(([name, r]) => [name, r.value])),
      },
      bytesPerRecord,
      aims: { bOverA: 0.3, cRecordsPerSecond: 500_000, met: { bOverA: ratios.bOverA >= 0.3, c: c >= 500_000 } },
      runs: {
        a: loopRates,
        a2: twoLoopRates,
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
        e: twoChained.map(({ jobId, durationMs, recordsPerSecond, cpuUsPerRecord }) => ({
          jobId,
          durationMs,
          recordsPerSecond,
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
}
