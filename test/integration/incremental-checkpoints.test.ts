// Incremental checkpoints of the level backend across real processes: a keyed running count
// checkpoints into <jobId>/shared/ (a full file, then deltas), a TaskManager running its tasks is
// SIGKILLed, the job restores from the incremental chain and its committed output is exactly once
// (every key's counts are exactly 1..N); once it finishes, its checkpoints and shared files are gone.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckpointMetadata } from '../../common/checkpoint.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { referenceCounts } from '../reference/counts.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function completedMetadata(jobDir: string): CheckpointMetadata[] {
  if (!existsSync(jobDir)) return [];
  return readdirSync(jobDir)
    .filter((d) => d.startsWith('chk-') && existsSync(join(jobDir, d, '_metadata')))
    .map((d) => JSON.parse(readFileSync(join(jobDir, d, '_metadata'), 'utf8')) as CheckpointMetadata)
    .sort((a, b) => b.checkpointId - a.checkpointId);
}

describe('incremental checkpoints (level backend)', () => {
  it('restores exactly once from an incremental chain after a TaskManager is SIGKILLed, and cleans up after the job', async () => {
    cluster = await startCluster({
      taskManagers: 2,
      slots: 2,
      config: {
        'state.backend': 'level',
        'state.backend.incremental': 'true',
        'state.checkpoints.num-retained': '2',
        'heartbeat.timeout': '3 s',
      },
    });
    const c = cluster;
    const out = join(c.dir, 'counts');
    const [count, keys] = [60_000, 3000];
    const jobId = await c.submit('test/jobs/cp-count.ts', [out, String(count), String(keys), '4000', '-1', '300'], 2);
    const jobDir = join(c.dir, 'jobmanager', 'checkpoints', jobId);
    // Wait for a retained checkpoint whose keyed state is a chain with at least one delta.
    const withDelta = await c.waitFor(
      'a checkpoint built of a full file and deltas',
      async () =>
        completedMetadata(jobDir).find((m) =>
          m.operators.some((o) => o.subtasks.some((h) => (h.shared?.length ?? 0) > 1)),
        ),
      60_000,
    );
    expect(withDelta.checkpointedSize!).toBeLessThan(withDelta.stateSize);
    expect(readdirSync(join(jobDir, 'shared')).length).toBeGreaterThan(0);
    // The statistics learn of a checkpoint just after its _metadata is written.
    await c.waitFor(
      'the statistics to show a checkpoint smaller than its state',
      async () => {
        const stats = (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
        return stats.history.some((h: any) => h.status === 'COMPLETED' && h.checkpointed_size < h.state_size);
      },
      10_000,
    );

    // Kill a TaskManager that runs the counter's tasks.
    const j = await c.job(jobId);
    const hosting = new Set(j.vertices.flatMap((v: any) => v.subtasks.map((st: any) => st['taskmanager-id'])));
    const victim = c.taskManagers.find((p) => hosting.has(p.id))!;
    victim.proc.kill('SIGKILL');
    await c.addTaskManager(2);
    const done = await c.waitForJob(jobId, ['FINISHED'], 120_000);
    expect(done.state).toBe('FINISHED');
    const cp = (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
    expect(cp.counts.restored).toBeGreaterThanOrEqual(1);
    // Exactly once: finalCounts checks every key saw 1..N once each; N must be the reference's.
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(count, keys));
    // A FINISHED job's checkpoints are deleted, shared files included.
    await c.waitFor('the checkpoint folder removed', async () => !existsSync(jobDir), 15_000);
  }, 180_000);
});
