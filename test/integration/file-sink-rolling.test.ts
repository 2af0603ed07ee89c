// The FileSink's rolling policies across real processes: a keyed count job checkpointing every
// 200 ms writes through a sink with Flink's default rolling policy and one rolling every 3 s into
// time buckets, while a TaskManager running its tasks is killed. Parts stay in progress across
// checkpoints (resumed after the restore at their checkpointed length), so the part count follows
// the rolling policy, not the ~100 checkpoints; the committed output equals a plain count.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { committedFiles, filesBelow, readCommittedTree } from '../helpers/file-sink-harness.js';
import { finalCounts } from '../helpers/output.js';
import { DEFAULT_SINK_DIR, ROLLING_SINK_DIR } from '../jobs/fs-rolling.js';
import { referenceCounts } from '../reference/counts.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const P = 2;
const N = 16_000;
const KEYS = 40;
const RATE = 1000;
const CHECKPOINT_MS = 200;
const ROLL_MS = 3000;

describe('FileSink rolling policies', () => {
  it('few parts for many checkpoints, parts resumed after a TaskManager is killed, output exact', async () => {
    cluster = await startCluster({ taskManagers: 2, slots: 2, config: { 'heartbeat.timeout': '3 s' } });
    const c = cluster;
    const out = join(c.dir, 'out');
    const defaultDir = join(out, DEFAULT_SINK_DIR);
    const rollingDir = join(out, ROLLING_SINK_DIR);
    const started = Date.now();
    const jobId = await c.submit(
      'test/jobs/fs-rolling.ts',
      [out, String(N), String(KEYS), String(RATE), String(CHECKPOINT_MS), String(ROLL_MS)],
      P,
    );
    const checkpoints = async () => (await c.rest(`/jobs/${jobId}/checkpoints`)).body;

    // While the job runs: the 3 s sink publishes parts; the default sink (60 s) publishes nothing yet.
    await c.waitFor(
      'a committed part of the rolling sink and ten completed checkpoints',
      async () => committedFiles(rollingDir).length > 0 && (await checkpoints()).counts.completed >= 10,
      20_000,
    );
    expect(committedFiles(defaultDir)).toEqual([]);
    const j = await c.job(jobId);
    expect(j.state).toBe('RUNNING');

    // Kill a TaskManager running tasks of the job; the job restores its latest checkpoint.
    const hosting = new Set(j.vertices.flatMap((v: any) => v.subtasks.map((st: any) => st['taskmanager-id'])));
    const victim = c.taskManagers.find((p) => hosting.has(p.id))!;
    victim.proc.kill('SIGKILL');
    await c.addTaskManager(2);

    const done = await c.waitForJob(jobId, ['FINISHED'], 60_000);
    expect(done.state).toBe('FINISHED');
    const seconds = (Date.now() - started) / 1000;
    const cp = await checkpoints();
    expect(cp.counts.restored).toBeGreaterThanOrEqual(1);
    const completed = cp.counts.completed as number;
    expect(completed).toBeGreaterThanOrEqual(30);

    // Exactly-once: both outputs are the plain count, every key exactly 1..n.
    const reference = referenceCounts(N, KEYS);
    expect(finalCounts(readCommittedTree(defaultDir))).toEqual(reference);
    expect(finalCounts(readCommittedTree(rollingDir))).toEqual(reference);
    // Nothing half-written is left: leftovers of the killed run were removed at the restore.
    expect(filesBelow(defaultDir).filter((f) => f.split('/').pop()!.startsWith('.'))).toEqual([]);
    expect(filesBelow(rollingDir).filter((f) => f.split('/').pop()!.startsWith('.'))).toEqual([]);

    // Default policy: one part per subtask, resumed across the restore (at most one more per restore).
    const defaultParts = committedFiles(defaultDir);
    expect(defaultParts.every((f) => /^part-[01]-\d+$/.test(f))).toBe(true);
    expect(defaultParts.length).toBeGreaterThanOrEqual(P);
    expect(defaultParts.length).toBeLessThanOrEqual(P * (1 + cp.counts.restored));
    // 3 s policy: bounded by the run's length over the roll interval (plus minute buckets and
    // restores), far below the number of checkpoints.
    const rollingParts = committedFiles(rollingDir);
    expect(rollingParts.every((f) => /^\d{4}-\d{2}-\d{2}--\d{2}-\d{2}\/counts-[01]-\d+\.csv$/.test(f))).toBe(true);
    const minutes = new Set(rollingParts.map((f) => f.split('/')[0])).size;
    expect(rollingParts.length).toBeGreaterThan(P);
    expect(rollingParts.length).toBeLessThanOrEqual(
      P * (Math.ceil((seconds * 1000) / ROLL_MS) + minutes + cp.counts.restored + 1),
    );
    expect(rollingParts.length * 2).toBeLessThan(completed);
  }, 90_000);
});
