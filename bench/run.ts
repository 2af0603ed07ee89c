// npm run bench [-- <benchmark>... ] [--scale=<factor>] [--repetitions=<n>] [--minutes=<n>]
// Runs the benchmark modules (all, or those named), prints one table and writes
// bench/results/latest.json plus a timestamped copy. Ratios against a baseline measured in the
// same run are the figures to compare: absolute rates wander on a shared machine.
import { join } from 'node:path';
import { packageRoot } from '../common/package-root.js';
import { bufferDebloat } from './benchmarks/buffer-debloat.js';
import { checkpointing } from './benchmarks/checkpointing.js';
import { exchangeLoops } from './benchmarks/exchange-loops.js';
import { fileSource } from './benchmarks/file-source.js';
import { internalSecurity } from './benchmarks/internal-security.js';
import { jobManagerFailover } from './benchmarks/jobmanager-failover.js';
import { kafka } from './benchmarks/kafka.js';
import { keyedCount, keyedCountTuples } from './benchmarks/keyed-count.js';
import { latency } from './benchmarks/latency.js';
import { nexmark } from './benchmarks/nexmark.js';
import { nexmarkPerCore } from './benchmarks/nexmark-per-core.js';
import { nexmarkQ8 } from './benchmarks/nexmark-q8.js';
import { savepoints } from './benchmarks/savepoints.js';
import { soak } from './benchmarks/soak.js';
import { testingLevels } from './benchmarks/testing-levels.js';
import type { Benchmark, BenchOptions, BenchmarkResult } from './lib/benchmark.js';
import { gitCommit, hostInfo, writeReport, type RunReport } from './lib/results.js';
import { renderTable } from './lib/table.js';

const BENCHMARKS: Benchmark[] = [
  keyedCount,
  keyedCountTuples,
  exchangeLoops,
  nexmark,
  nexmarkQ8,
  nexmarkPerCore,
  fileSource,
  latency,
  checkpointing,
  bufferDebloat,
  savepoints,
  kafka,
  internalSecurity,
  jobManagerFailover,
  testingLevels,
  soak,
];

function parseArgs(argv: string[]): {
  names: string[];
  scale: number;
  repetitions: number;
  minutes: number | undefined;
} {
  const names: string[] = [];
  let scale = 1;
  let repetitions = 3;
  let minutes: number | undefined;
  for (const arg of argv) {
    const m = /^--(scale|repetitions|minutes)=(.+)$/.exec(arg);
    if (m) {
      const n = Number(m[2]);
      if (!(n > 0)) throw new Error(`${arg}: expected a positive number`);
      if (m[1] === 'scale') scale = n;
      else if (m[1] === 'minutes') minutes = n;
      else repetitions = Math.round(n);
    } else if (arg.startsWith('-')) {
      throw new Error(
        `unknown option ${arg}; use [benchmark...] [--scale=<factor>] [--repetitions=<n>] [--minutes=<n>]`,
      );
    } else {
      if (!BENCHMARKS.some((b) => b.name === arg))
        throw new Error(`unknown benchmark '${arg}'; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
      names.push(arg);
    }
  }
  return { names, scale, repetitions, minutes };
}

async function main(): Promise<number> {
  const { names, scale, repetitions, minutes } = parseArgs(process.argv.slice(2));
  // soak runs for minutes on end: only when named.
  const selected = names.length
    ? BENCHMARKS.filter((b) => names.includes(b.name))
    : BENCHMARKS.filter((b) => b !== soak);
  const started = Date.now();
  const options: BenchOptions = {
    scale,
    repetitions,
    minutes,
    log: (m) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${m}\n`),
  };
  const results: BenchmarkResult[] = [];
  const failures: RunReport['failures'] = [];
  for (const b of selected) {
    options.log(`${b.name}: ${b.description}`);
    try {
      results.push(await b.run(options));
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      failures.push({ benchmark: b.name, error });
      options.log(`${b.name} FAILED: ${error}`);
    }
  }
  const report: RunReport = {
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    commit: gitCommit(packageRoot()),
    host: hostInfo(),
    results,
    failures,
  };
  const files = writeReport(join(packageRoot(), 'bench', 'results'), report);
  process.stdout.write(`\n${renderTable(results)}\n\n`);
  for (const f of failures) process.stdout.write(`FAILED ${f.benchmark}: ${f.error}\n`);
  process.stdout.write(`results: ${files.join(', ')} (${report.durationSeconds} s)\n`);
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
