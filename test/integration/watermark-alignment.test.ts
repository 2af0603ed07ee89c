// Watermark alignment across real processes: the two subtasks of one source, on two
// TaskManagers, advance event time at 10 ms and 1 ms per record. With withWatermarkAlignment the
// fast one is held within the allowed drift (plus what one update interval and one watermark
// interval let it run on) of the slow one while both read; without it, it runs far ahead. Either
// way the keyed windows count exactly what a plain computation over the same events counts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';
import { maxLead, referenceCounts } from '../reference/alignment.js';

const COUNT = 12_000;
const RATE = 4000;
const MAX_DRIFT_MS = 1000;
const UPDATE_INTERVAL_MS = 100;

let cluster: TestCluster;
const out = mkdtempSync(join(tmpdir(), 'weir-align-'));

beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 2, slots: 1 });
});
afterAll(async () => {
  await cluster?.stop();
  if (!process.env.WEIR_KEEP_TEST_DIRS) rmSync(out, { recursive: true, force: true });
});

async function run(
  name: string,
  aligned: boolean,
  on = cluster,
  updateIntervalMs = UPDATE_INTERVAL_MS,
): Promise<{ lead: number; counts: string[]; drifts: number[] }> {
  const dir = join(out, name);
  const args = [dir, String(COUNT), String(RATE), String(aligned), String(MAX_DRIFT_MS), String(updateIntervalMs)];
  const jobId = await on.submit('test/jobs/et-aligned.ts', args, 2);
  let finished = false;
  const finishing = on.waitForJob(jobId, ['FINISHED'], 60_000).finally(() => (finished = true));
  const drifts: number[] = [];
  while (!finished) {
    drifts.push(...(await driftMetrics(on, jobId)));
    await Promise.race([finishing, new Promise((r) => setTimeout(r, 100))]);
  }
  await finishing;
  const counts = readCommittedLines(join(dir, 'counts')).sort();
  return { lead: maxLead(readCommittedLines(join(dir, 'probes'))), counts, drifts };
}

/** Every TaskManager's /metrics now. */
async function prometheusTexts(on: TestCluster): Promise<string[]> {
  const tms = (await on.rest('/taskmanagers')).body.taskmanagers as Array<{ id: string }>;
  return Promise.all(
    tms.map(async (tm) => String((await on.rest<string>(`/taskmanagers/${tm.id}/metrics/prometheus`)).body)),
  );
}

/** The job's watermarkAlignmentDrift samples on every TaskManager's /metrics now. */
async function driftMetrics(on: TestCluster, jobId: string): Promise<number[]> {
  const line = new RegExp(`^weir_task_source_watermark_alignment_drift\\{[^}]*job_id="${jobId}"[^}]*\\} (\\S+)$`, 'gm');
  return (await prometheusTexts(on)).flatMap((t) => [...t.matchAll(line)].map((m) => Number(m[1])));
}

/** Alignment limits the JobManager pushed to the TaskManagers so far, over all of them. */
async function pushedLimits(on: TestCluster): Promise<number> {
  const line = /^weir_taskmanager_watermark_alignment_limits_pushed_total\{[^}]*\} (\S+)$/gm;
  return (await prometheusTexts(on)).reduce(
    (n, t) => n + [...t.matchAll(line)].reduce((k, m) => k + Number(m[1]), 0),
    0,
  );
}

describe('watermark alignment', () => {
  it('holds a fast source subtask within the drift of a slow one on another TaskManager; results stay exact', async () => {
    const reference = referenceCounts(COUNT);
    const free = await run('free', false);
    const pushedBefore = await pushedLimits(cluster);
    const aligned = await run('aligned', true);
    // The fast subtask, paused, read on by limits pushed to it, not only by answers to its reports.
    expect(pushedBefore).toBe(0);
    expect(await pushedLimits(cluster)).toBeGreaterThan(0);
    // Without alignment subtask 0 gets ~20 s of event time ahead per second of wall time.
    expect(free.lead).toBeGreaterThan(20_000);
    // With it: the drift, plus what it covers (20 ms of event time per ms) in one update and one
    // watermark interval, with room for a loaded machine.
    expect(aligned.lead).toBeGreaterThan(0);
    expect(aligned.lead).toBeLessThan(MAX_DRIFT_MS + 10_000);
    // The sources' watermarkAlignmentDrift on the TaskManagers' /metrics: the fast one's shows;
    // an unaligned source has none.
    expect(aligned.drifts.length).toBeGreaterThan(0);
    expect(Math.max(...aligned.drifts)).toBeGreaterThan(0);
    expect(Math.max(...aligned.drifts)).toBeLessThan(MAX_DRIFT_MS + 10_000);
    expect(free.drifts).toEqual([]);
    expect(free.counts).toEqual(reference);
    expect(aligned.counts).toEqual(reference);
  }, 120_000);
});

describe('watermark alignment in one TaskManager', () => {
  let local: TestCluster | undefined;
  afterAll(async () => {
    await local?.stop();
  });

  it("holds a fast source subtask within the drift of a slow one in the TaskManager's other slot, between the JobManager's answers", async () => {
    local = await startCluster({ taskManagers: 1, slots: 2 });
    // Through the JobManager alone, the fast subtask would wait 5 s for each answer, about sixty
    // times: the job would not finish within the minute it gets.
    const aligned = await run('board', true, local, 5000);
    expect(aligned.lead).toBeGreaterThan(0);
    // The drift, plus what a watermark interval (50 ms, more on a loaded machine) covers at 20 ms
    // of event time per ms.
    expect(aligned.lead).toBeLessThan(MAX_DRIFT_MS + 6000);
    expect(aligned.counts).toEqual(referenceCounts(COUNT));
  }, 120_000);
});
