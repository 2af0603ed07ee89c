// Where the time goes: runs a benchmark job on TaskManagers started under
// `node --cpu-prof [node flags]`, then prints the heaviest functions and files of each busy thread
// (main and slot threads) while the last run's tasks ran (every subtask RUNNING to the last
// FINISHED, the window the benchmarks time), idle time included.
//   npm run build && node dist/bench/profile.js [records=10000000] [parallelism=1]
//     [--query q5|q7|q8] [--slots N] [-D key=value ...] [-- node flags...]
// Without --query the job is the keyed count (bench/jobs/keyed-count.ts); with it, that Nexmark
// query (bench/jobs/nexmark.ts, q8 bench/jobs/nexmark-q8.ts) over `records` events. The cluster has `parallelism` TaskManagers
// of one slot, or with --slots, parallelism / N TaskManagers of N slots. Parallelism 1 chains the
// whole job into one task. -D sets configuration, as `weir` does. The .cpuprofile files stay in
// a temp directory (printed) for Chrome DevTools or speedscope.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDynamicProperties } from '../common/config.js';
import { packageRoot } from '../common/package-root.js';
import { BenchCluster } from './lib/cluster.js';
import { monotonicOffsetUs, summarizeCpuProfile, type EpochWindow } from './lib/cpu-profile.js';
import { keyedCountOrQuery } from './lib/job-choice.js';
import { formatCount, perSecond } from './lib/stats.js';
import { runningWindow } from './lib/timing.js';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      query: { type: 'string' },
      slots: { type: 'string', default: '1' },
      define: { type: 'string', short: 'D', multiple: true },
    },
    // Strict: an unknown option fails rather than vanish; Node.js flags go after `--`.
    allowPositionals: true,
  });
  const records = Number(positionals[0] ?? 10_000_000);
  const parallelism = Number(positionals[1] ?? 1);
  const nodeFlags = positionals.slice(2);
  const slots = Number(values.slots);
  const query = values.query;
  if (!Number.isInteger(slots) || slots < 1 || parallelism % slots !== 0)
    throw new Error(`--slots must divide the parallelism (${parallelism}), got ${String(values.slots)}`);
  const { job, args: jobArgs } = keyedCountOrQuery(query);
  const profileDir = mkdtempSync(join(tmpdir(), 'weir-profile-'));
  const config = parseDynamicProperties(values.define ?? []);
  const cluster = await BenchCluster.start({ taskManagers: 0, slots, config });
  let window: EpochWindow | undefined;
  try {
    for (let i = 0; i < parallelism / slots; i++)
      await cluster.addTaskManager(['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...nodeFlags]);
    const jarId = await cluster.upload(await cluster.bundle(job));
    for (const n of [Math.min(records, 2_000_000), records]) {
      const jobId = await cluster.run(jarId, jobArgs(n), parallelism);
      const job = await cluster.waitForFinished(jobId);
      const w = runningWindow(job);
      window = { startMs: w.allRunningAt, endMs: w.lastFinishedAt, offsetUs: monotonicOffsetUs() };
      process.stderr.write(
        `${formatCount(n)} records: ${formatCount(perSecond(n, w.durationMs))} records/s over ${(w.durationMs / 1000).toFixed(2)} s (${job.vertices.length} vertices)\n`,
      );
    }
  } finally {
    // The profile is written when the TaskManager exits.
    await cluster.stop();
  }
  // One file per thread: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile. Slots run their tasks
  // on worker threads, so the busy threads of the run are the ones worth reading.
  const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${profileDir}`);
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)} %`;
  const summaries = files.map((file) => ({
    file,
    s: summarizeCpuProfile(join(profileDir, file), packageRoot(), 30, window),
  }));
  summaries.sort((x, y) => y.s.busyMs - x.s.busyMs);
  for (const { file, s } of summaries) {
    const [, , , pid, thread] = file.split('.');
    if (s.busyMs < 0.02 * s.totalMs || s.totalMs === 0) {
      process.stdout.write(
        `\n${file} (pid ${pid}, thread ${thread}): ${(s.busyMs / 1000).toFixed(2)} s busy in the last run, skipped\n`,
      );
      continue;
    }
    process.stdout.write(
      `\nprofile: ${join(profileDir, file)} (pid ${pid}, thread ${thread === '0' ? 'main' : thread})\nsampled ${(s.totalMs / 1000).toFixed(2)} s of the last run, busy ${(s.busyMs / 1000).toFixed(2)} s\n\nself time by function:\n`,
    );
    for (const h of s.functions)
      process.stdout.write(`${pct(h.share)}  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}\n`);
    process.stdout.write(`\nself time by file:\n`);
    for (const h of s.files.slice(0, 15))
      process.stdout.write(`${pct(h.share)}  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}\n`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
