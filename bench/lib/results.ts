// Writes a run's results as JSON: bench/results/latest.json plus a timestamped copy, so figures
// can be compared across commits.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchmarkResult } from './benchmark.js';

export interface RunReport {
  startedAt: string;
  durationSeconds: number;
  commit: string | null;
  host: { node: string; platform: string; cpus: number; cpuModel: string; memoryGiB: number };
  results: BenchmarkResult[];
  failures: { benchmark: string; error: string }[];
}

export function gitCommit(cwd: string): string | null {
  try {
    return (
      execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || null
    );
  } catch {
    return null;
  }
}

export function hostInfo(): RunReport['host'] {
  const c = cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** Writes `report` to <dir>/latest.json and <dir>/<timestamp>.json; returns both paths. */
export function writeReport(dir: string, report: RunReport): string[] {
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(report, null, 2) + '\n';
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const files = [join(dir, 'latest.json'), join(dir, `${stamp}.json`)];
  for (const f of files) writeFileSync(f, text);
  return files;
}
