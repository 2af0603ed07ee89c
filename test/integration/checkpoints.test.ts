// Checkpoints across real processes: REST reports them with Flink's fields, a task failure
// restarts the job from the latest completed one with exactly-once output, and a damaged
// checkpoint is skipped for an older retained one.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { sleep } from '../helpers/eventually.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { referenceCounts } from '../reference/counts.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('checkpoints', () => {
  it('restarts a failed task from the latest checkpoint: every key counts 1..N exactly once', async () => {
    cluster = await startCluster({ taskManagers: 2, slots: 2 });
    const out = join(cluster.dir, 'counts');
    const jobId = await cluster.submit('test/jobs/cp-count.ts', [out, '16000', '50', '4000', '9000', '200'], 2);
    const job = await cluster.waitForJob(jobId, ['FINISHED'], 60_000);
    expect(job.state).toBe('FINISHED');
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(16000, 50));
    const ex = (await cluster.rest(`/jobs/${jobId}/exceptions`)).body;
    expect(ex['root-exception']).toContain('planned failure at record 9000');
    const cp = (await cluster.rest(`/jobs/${jobId}/checkpoints`)).body;
    expect(cp.counts.completed).toBeGreaterThanOrEqual(2);
    expect(cp.counts.restored).toBe(1);
    expect(cp.latest.restored.id).toBeGreaterThan(0);
    const last = cp.latest.completed;
    expect(last.status).toBe('COMPLETED');
    expect(last.num_acknowledged_subtasks).toBe(last.num_subtasks);
    expect(last.state_size).toBeGreaterThan(0);
    expect(typeof last.end_to_end_duration).toBe('number');
    // A FINISHED job's checkpoints are deleted, as in Flink (whatever the externalized checkpoint retention).
    expect(last.discarded).toBe(true);
    await cluster.waitFor(
      "the finished job's checkpoints deleted",
      async () => !existsSync(join(last.external_path, '_metadata')),
      10_000,
    );
    const config = (await cluster.rest(`/jobs/${jobId}/checkpoints/config`)).body;
    expect(config.mode).toBe('exactly_once');
    expect(config.interval).toBe(200);
    const metrics = (await cluster.rest('/metrics')).body as string;
    expect(metrics).toMatch(new RegExp(`weir_job_restarts\\{job_id="${jobId}"[^}]*\\} 1`));
    expect(metrics).toMatch(
      new RegExp(`weir_job_checkpoints_completed\\{job_id="${jobId}"[^}]*\\} ${cp.counts.completed}`),
    );
  }, 90_000);

  it('skips a damaged checkpoint and restores the newest intact one after a TaskManager is lost', async () => {
    cluster = await startCluster({
      taskManagers: 2,
      slots: 2,
      config: { 'state.checkpoints.num-retained': '3', 'heartbeat.timeout': '3 s' },
    });
    const out = join(cluster.dir, 'counts');
    const jobId = await cluster.submit('test/jobs/cp-count.ts', [out, '1000000', '50', '500', '-1', '300'], 2);
    const c = cluster;
    const stats = async () => (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
    await c.waitFor('three completed checkpoints', async () => (await stats()).counts.completed >= 3, 30_000);
    // Damage every state file of the newest retained checkpoint.
    const jobDir = join(c.dir, 'jobmanager', 'checkpoints', jobId);
    const chks = readdirSync(jobDir)
      .filter((d) => existsSync(join(jobDir, d, '_metadata')))
      .sort((a, b) => Number(b.slice(4)) - Number(a.slice(4)));
    const newest = chks[0]!;
    for (const f of readdirSync(join(jobDir, newest)).filter((x) => x.endsWith('.state'))) {
      const p = join(jobDir, newest, f);
      const b = readFileSync(p);
      b[Math.floor(b.length / 2)] ^= 0xff;
      writeFileSync(p, b);
    }
    c.taskManagers[1]!.proc.kill('SIGKILL');
    await c.addTaskManager(2);
    const restored = await c.waitFor(
      'the job restored',
      async () => {
        const s = await stats();
        return s.latest.restored ? s.latest.restored : undefined;
      },
      30_000,
    );
    expect(restored.id).toBeLessThan(Number(newest.slice(4)));
    await c.waitFor('the job running again', async () => (await c.job(jobId)).state === 'RUNNING', 30_000);
    const log = (await c.rest('/jobmanager/log')).body as string;
    expect(log).toContain(newest);
    await c.rest(`/jobs/${jobId}`, { method: 'PATCH' });
    await c.waitForJob(jobId, ['CANCELED'], 20_000);
  }, 90_000);

  it('waits for a new TaskManager when a restart finds too few slots, then restores and runs on', async () => {
    cluster = await startCluster({ taskManagers: 2, slots: 1, config: { 'heartbeat.timeout': '3 s' } });
    const c = cluster;
    const out = join(c.dir, 'counts');
    const jobId = await c.submit('test/jobs/cp-count.ts', [out, '1000000', '20', '500', '-1', '300'], 2);
    await c.waitFor(
      'a completed checkpoint',
      async () => (await c.rest(`/jobs/${jobId}/checkpoints`)).body.counts.completed >= 1,
      30_000,
    );
    c.taskManagers[0]!.proc.kill('SIGKILL');
    await c.waitFor(
      'the job restarting without enough slots',
      async () => {
        const j = await c.job(jobId);
        return j.state === 'RUNNING' && j.vertices.some((v: any) => v.status === 'SCHEDULED');
      },
      20_000,
    );
    // Not failing is a non-event: a job that gave up on missing slots would do so right at its slot
    // request, which this window follows; slot.request.timeout (30 s) is far off.
    await sleep(1500);
    expect((await c.job(jobId)).state).not.toBe('FAILED');
    await c.addTaskManager(1);
    await c.waitFor(
      'every task running again',
      async () => {
        const j = await c.job(jobId);
        return j.state === 'RUNNING' && j.vertices.every((v: any) => v.status === 'RUNNING');
      },
      30_000,
    );
    // Restarts may also be tried (and fail) before the lost TaskManager is declared gone; each restores.
    const cp = (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
    expect(cp.counts.restored).toBeGreaterThanOrEqual(1);
    await c.rest(`/jobs/${jobId}`, { method: 'PATCH' });
    await c.waitForJob(jobId, ['CANCELED'], 20_000);
  }, 90_000);
});
