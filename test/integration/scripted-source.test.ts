// env.addSource() on a real cluster: a checkpointed parallel SourceFunction with explicit
// timestamps and watermarks (in slot threads of TaskManager processes), windows of an assigner the
// job extends, a TaskManager killed after a checkpoint, and the committed output exactly the
// reference's.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';
import { KeySizedWindows, scriptedEvent } from '../jobs/scripted-source.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function reference(parallelism: number, count: number, keys: number): string[] {
  const sums = new Map<string, number>();
  for (let i = 0; i < parallelism; i++) {
    for (let j = 0; j < count; j++) {
      const e = scriptedEvent(i, j, keys);
      const size = KeySizedWindows.sizeOf(e.key);
      const id = `${e.key},${Math.floor(e.ts / size) * size}`;
      sums.set(id, (sums.get(id) ?? 0) + e.value);
    }
  }
  return [...sums].map(([id, sum]) => `${id},${sum}`).sort();
}

describe('scripted sources', () => {
  it('a checkpointed parallel SourceFunction restores after a TaskManager is lost: window sums exactly once', async () => {
    cluster = await startCluster({ taskManagers: 2, slots: 2, config: { 'heartbeat.timeout': '3 s' } });
    const c = cluster;
    const out = join(c.dir, 'sums');
    const [count, keys] = [1500, 7];
    const jobId = await c.submit(
      'test/jobs/scripted-source.ts',
      [out, String(count), String(keys), '100', '10', '10'],
      2,
    );
    await c.waitFor(
      'a completed checkpoint',
      async () => (await c.rest(`/jobs/${jobId}/checkpoints`)).body.counts.completed >= 1,
      20_000,
    );
    // The source's own watermarks are its vertex's event time.
    await c.waitFor(
      'the source vertex to report a watermark',
      async () => {
        const j = await c.job(jobId);
        return typeof j.vertices.find((v: any) => v.name.includes('Scripted'))?.watermark === 'number';
      },
      10_000,
    );
    const job = await c.job(jobId);
    expect(job.state).toBe('RUNNING');
    const used = new Set<string>(job.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s['taskmanager-id'])));
    const victim = c.taskManagers.find((t) => used.has(t.id!))!;
    victim.proc.kill('SIGKILL');
    const done = await c.waitForJob(jobId, ['FINISHED', 'FAILED'], 30_000);
    expect(done.state).toBe('FINISHED');
    expect((await c.rest(`/jobs/${jobId}/checkpoints`)).body.counts.restored).toBeGreaterThanOrEqual(1);
    expect(readCommittedLines(out).sort()).toEqual(reference(2, count, keys));
  }, 60_000);
});
