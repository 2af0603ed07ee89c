// FileSource throughput in lines per second: text files read line by line
// (FileSource.forRecordStreamFormat(new TextLineInputFormat(), dir)), each line through a small
// function into a sink that only folds it into a checksum, four ways in one run:
//   (a) a hand-written loop in this process: each file read in 64 KiB chunks and cut into lines as
//       the TaskManager's reader cuts them (buf.indexOf(LF), \r\n or \n, buf.toString per line),
//       the same per-line function and sink as the job (bench/jobs/file-source.ts) — the baseline;
//   (b) Weir at parallelism 1 on one TaskManager of one slot: the pipeline chains into one task;
//   (c) Weir at parallelism 2 on two TaskManagers of one slot each;
//   (d) Weir at parallelism 2 on one TaskManager of two slots.
// Every edge is forward, so at parallelism 2 nothing is exchanged: the JobManager hands the files out
// one per request to whichever source subtask asks, and c/b and d/b say how reading scales with a
// second core. The input (32 files of `<id>,<word>,<number>` lines of 20 to 30 bytes, every fourth
// file with \r\n, the last without a final terminator; from a fixed seed) is written once per run in
// a temp directory, with a tenth of it in another for the warm-up runs, and removed at the end.
// Measured in rounds (bench/lib/rounds.ts), each Weir run after a warm-up run on the same cluster
// and checked to read exactly the lines written.
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import { stopOnExit } from '../lib/cleanup.js';
import type { BenchCluster } from '../lib/cluster.js';
import { cpuFigures } from '../lib/cpu-figures.js';
import { cpuDuring } from '../lib/process-cpu.js';
import { measureInRounds, medianRatio, ratioFigure, type RoundVariant } from '../lib/rounds.js';
import { formatCount, median, medianFigure, perSecond } from '../lib/stats.js';
import { runningWindow } from '../lib/timing.js';
import { keyOf } from '../lib/keyed-records.js';
import { sumMetric } from '../lib/weir-run.js';
import { consumedLineChecksum, consumeLineValue, lineValue } from '../jobs/file-source.js';

const JOB = 'bench/jobs/file-source.ts';
const FILES = 32;
// Enough that each Weir run lasts a few seconds: a job's fresh slot threads run unoptimized code
// for about a second (see nexmark.ts).
const LINES = 16_000_000;
const MIN_LINES = 4_000;
/** The warm-up input's share of the measured one. */
const WARMUP_SHARE = 1 / 10;
/** The TaskManager reader's chunk (taskmanager/connectors/text-line-split-reader.ts). */
const CHUNK_BYTES = 64 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const SEED = 0x5eed_f11e;

const WORDS = [
  'alpha',
  'bravo',
  'charlie',
  'delta',
  'echo',
  'foxtrot',
  'golf',
  'hotel',
  'india',
  'juliett',
  'kilo',
  'lima',
  'mike',
  'november',
  'oscar',
  'papa',
  'quebec',
  'romeo',
  'sierra',
  'tango',
  'uniform',
  'victor',
  'whiskey',
  'xray',
  'yankee',
  'zulu',
  'streaming',
  'watermark',
  'checkpoint',
];

interface Input {
  dir: string;
  lines: number;
  bytes: number;
}

/**
 * Writes `lines` lines in FILES files under `dir`: `<8-digit id>,<word>,<6 to 10 digits>` (20 to 30
 * bytes), \r\n in every fourth file, no terminator after the last line of the last file.
 */
function writeInput(dir: string, lines: number, seed: number): Input {
  mkdirSync(dir);
  let id = 0;
  // The seeded hash of the keyed-count records: field k of line `id`.
  const field = (k: number, m: number) => keyOf((seed + id * 3 + k) | 0, m);
  let bytes = 0;
  for (let f = 0; f < FILES; f++) {
    const count = Math.floor(lines / FILES) + (f < lines % FILES ? 1 : 0);
    const eol = f % 4 === 3 ? '\r\n' : '\n';
    const fd = openSync(join(dir, `part-${String(f).padStart(2, '0')}.txt`), 'wx');
    try {
      let chunk: string[] = [];
      for (let i = 0; i < count; i++) {
        const digits = 6 + field(0, 5);
        const number = String(field(1, 10 ** digits)).padStart(digits, '0');
        const last = f === FILES - 1 && i === count - 1;
        chunk.push(`${String(id++).padStart(8, '0')},${WORDS[field(2, WORDS.length)]!},${number}${last ? '' : eol}`);
        if (chunk.length === 16_384 || i === count - 1) {
          bytes += writeSync(fd, chunk.join(''));
          chunk = [];
        }
      }
    } finally {
      closeSync(fd);
    }
  }
  return { dir, lines, bytes };
}

/** One file through the per-line function, cut as TextLineSplitReader cuts it; returns its lines. */
function readFileLines(path: string, initial: Buffer): number {
  let buf = initial;
  const fd = openSync(path, 'r');
  let lines = 0;
  try {
    let start = 0;
    let end = 0;
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, end, Math.min(CHUNK_BYTES, buf.length - end), pos);
      pos += n;
      // [start, scanFrom) holds no LF.
      let scanFrom = end;
      end += n;
      if (n === 0) {
        // The last line has no terminator.
        if (start < end) {
          consumeLineValue(lineValue(buf.toString('utf8', start, end)));
          lines++;
        }
        return lines;
      }
      for (;;) {
        const lf = buf.indexOf(LF, scanFrom);
        if (lf === -1 || lf >= end) break;
        const lineEnd = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
        consumeLineValue(lineValue(buf.toString('utf8', start, lineEnd)));
        lines++;
        start = scanFrom = lf + 1;
      }
      // Keep the unfinished line: to the front, or into a buffer twice the size if it fills this one.
      if (start === 0 && end === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, end);
        buf = bigger;
      } else if (start > 0) {
        buf.copy(buf, 0, start, end);
        end -= start;
        start = 0;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** (a): every file of `input`, in the listing's order; returns ms. */
function loop(input: Input): number {
  const files = readdirSync(input.dir).sort();
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  const t0 = performance.now();
  let lines = 0;
  for (const f of files) lines += readFileLines(join(input.dir, f), buf);
  const ms = performance.now() - t0;
  if (lines !== input.lines)
    throw new Error(`the loop read ${lines} lines of ${input.dir}, ${input.lines} were written`);
  return ms;
}

interface WeirRun {
  jobId: string;
  lines: number;
  durationMs: number;
  linesPerSecond: number;
  /** CPU time of the TaskManagers per line, every thread, from submission to the job's end. */
  cpuUsPerLine: number;
  /** Lines each source subtask read (the files are handed out on request). */
  linesPerSubtask: number[];
  vertices: string[];
}

/** Runs the job once over `input`; throws unless it chained into one vertex and read every line once. */
async function runWeir(
  cluster: BenchCluster,
  jarId: string,
  input: Input,
  parallelism: number,
  taskManagers: number,
  pids: number[],
  label: string,
): Promise<WeirRun> {
  await cluster.awaitSpareThreads(); // not inside the CPU figure
  const { result: job, cpuSeconds } = await cpuDuring(pids, async () =>
    cluster.waitForFinished(await cluster.run(jarId, [input.dir], parallelism)),
  );
  const vertices = job.vertices.map((v) => `${v.name} (${v.parallelism})`);
  const vertex = job.vertices[0];
  if (job.vertices.length !== 1 || !vertex)
    throw new Error(
      `${label} job ${job.jid}: expected the pipeline to chain into 1 vertex, got ${vertices.join(' | ')}`,
    );
  const tms = new Set(vertex.subtasks.map((s) => s['taskmanager-id'] ?? '?'));
  if (vertex.parallelism !== parallelism || tms.size !== taskManagers)
    throw new Error(
      `${label} job ${job.jid}: expected ${parallelism} subtask(s) on ${taskManagers} TaskManager(s), got ${vertex.parallelism} on ${[...tms].join(', ')}`,
    );
  const read = sumMetric(job, 'sink-records');
  const linesPerSubtask = vertex.subtasks.map((s) => s.metrics['source-records'] ?? 0);
  const sourced = linesPerSubtask.reduce((a, n) => a + n, 0);
  if (read !== input.lines || sourced !== input.lines)
    throw new Error(
      `${label} job ${job.jid}: the source read ${sourced} lines and the sink received ${read}; ${input.lines} were written to ${input.dir}`,
    );
  const w = runningWindow(job);
  return {
    jobId: job.jid,
    lines: input.lines,
    durationMs: w.durationMs,
    linesPerSecond: perSecond(input.lines, w.durationMs),
    cpuUsPerLine: (cpuSeconds * 1e6) / input.lines,
    linesPerSubtask,
    vertices,
  };
}

/** One variant: per round, a warm-up run over the smaller input and a measured one on the round's cluster. */
function weirVariant(
  options: BenchOptions,
  label: string,
  shape: { taskManagers: number; slots: number },
  parallelism: number,
  input: Input,
  warmUp: Input,
): RoundVariant<WeirRun> {
  return {
    label,
    shape,
    async measure({ cluster, jarId, pids }): Promise<WeirRun> {
      const warm = await runWeir(cluster, jarId, warmUp, parallelism, shape.taskManagers, pids, label);
      const run = await runWeir(cluster, jarId, input, parallelism, shape.taskManagers, pids, label);
      options.log(
        `${label}: warm-up ${formatCount(warm.linesPerSecond)} lines/s, then ${formatCount(run.linesPerSecond)} lines/s (${(run.durationMs / 1000).toFixed(2)} s), ${run.cpuUsPerLine.toFixed(3)} µs CPU per line; lines per subtask ${run.linesPerSubtask.join(' + ')}`,
      );
      return run;
    },
  };
}

export const fileSource: Benchmark = {
  name: 'file-source',
  description:
    'FileSource (TextLineInputFormat) over 32 files of short lines, each line mapped to its length: hand-written loop vs Weir p1 (chained) vs Weir p2 (2 TaskManagers) vs Weir p2 (1 TaskManager, 2 slots), files handed out on request',
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const lines = Math.max(MIN_LINES, Math.round(LINES * options.scale));
    const root = mkdtempSync(join(tmpdir(), 'weir-bench-files-'));
    const removeInput = () => rmSync(root, { recursive: true, force: true });
    const unregister = stopOnExit(() => Promise.resolve(removeInput()));
    try {
      const t0 = performance.now();
      const input = writeInput(join(root, 'input'), lines, SEED);
      const warmUp = writeInput(join(root, 'warm-up'), Math.max(MIN_LINES, Math.round(lines * WARMUP_SHARE)), SEED + 1);
      options.log(
        `input: ${formatCount(input.lines)} lines, ${(input.bytes / 1e6).toFixed(1)} MB in ${FILES} files (warm-up ${formatCount(warmUp.lines)} lines), written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );

      // (a) once to warm up in this process, then once per round before the Weir variants.
      loop(warmUp);
      const loopRates: number[] = [];
      const rounds = await measureInRounds(
        options,
        JOB,
        {
          b: weirVariant(options, '(b) Weir p1', { taskManagers: 1, slots: 1 }, 1, input, warmUp),
          c: weirVariant(options, '(c) Weir p2', { taskManagers: 2, slots: 1 }, 2, input, warmUp),
          d: weirVariant(options, '(d) Weir p2', { taskManagers: 1, slots: 2 }, 2, input, warmUp),
        },
        () => {
          loopRates.push(perSecond(input.lines, loop(input)));
          options.log(
            `(a) hand-written loop: ${formatCount(loopRates.at(-1)!)} lines/s (checksum ${consumedLineChecksum()})`,
          );
        },
      );
      const { b: chained, c: twoProcesses, d: oneProcess } = rounds;
      const a = median(loopRates);
      const bRates = chained.map((r) => r.linesPerSecond);
      const cRates = twoProcesses.map((r) => r.linesPerSecond);
      const dRates = oneProcess.map((r) => r.linesPerSecond);
      const b = median(bRates);
      const c = median(cRates);
      const d = median(dRates);
      const ratios = {
        bOverA: medianRatio(bRates, loopRates),
        cOverB: medianRatio(cRates, bRates),
        dOverB: medianRatio(dRates, bRates),
      };
      const figures: Figure[] = [
        medianFigure('(a) hand-written loop', loopRates, 'lines/s'),
        medianFigure('(b) Weir p1, chained', bRates, 'lines/s'),
        medianFigure('(c) Weir p2, 2 TaskManagers × 1 slot', cRates, 'lines/s'),
        medianFigure('(d) Weir p2, 1 TaskManager × 2 slots', dRates, 'lines/s'),
        ratioFigure('b/a', bRates, loopRates),
        ratioFigure('c/b', cRates, bRates, 'a second core, nothing exchanged'),
        ratioFigure('d/b', dRates, bRates, 'a second core, nothing exchanged'),
        ...cpuFigures('', 'line', {
          b: chained.map((r) => r.cpuUsPerLine),
          c: twoProcesses.map((r) => r.cpuUsPerLine),
          d: oneProcess.map((r) => r.cpuUsPerLine),
        }),
      ];
      const runs = (rs: WeirRun[]) =>
        rs.map(({ jobId, durationMs, linesPerSecond, cpuUsPerLine, linesPerSubtask }) => ({
          jobId,
          durationMs,
          linesPerSecond,
          cpuUsPerLine,
          linesPerSubtask,
        }));
      return {
        benchmark: this.name,
        description: this.description,
        figures,
        details: {
          files: FILES,
          lines: input.lines,
          bytes: input.bytes,
          warmUpLines: warmUp.lines,
          linesPerSecond: { a, b, c, d },
          ratios,
          runs: { a: loopRates, b: runs(chained), c: runs(twoProcesses), d: runs(oneProcess) },
          vertices: chained[0]?.vertices,
        },
      };
    } finally {
      unregister();
      removeInput();
    }
  },
};
