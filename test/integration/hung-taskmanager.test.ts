// A TaskManager that hangs (SIGSTOP) rather than dies: the JobManager declares it lost after
// heartbeat.timeout and restarts the job on the other TaskManager from its latest checkpoint. Once
// resumed (SIGCONT), the stale TaskManager learns it is unknown, cancels its old tasks and registers
// again, without a second failover and without a byte of its old tasks reaching the output.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type ProcessHandle, type TestCluster } from '../helpers/cluster.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { referenceCounts } from '../reference/counts.js';

// Short enough to keep the test quick, long enough that a loaded machine's pause of a healthy
// process (two test files run at once on two cores) is not taken for a hang.
const HEARTBEAT_TIMEOUT_MS = 3000;

let cluster: TestCluster | undefined;
let stopped: ProcessHandle | undefined;
afterEach(async () => {
  // A stopped process ignores SIGTERM until it runs again.
  stopped?.proc.kill('SIGCONT');
  stopped = undefined;
  await cluster?.stop();
  cluster = undefined;
});

async function taskManagerIds(c: TestCluster): Promise<string[]> {
  return (await c.rest('/taskmanagers')).body.taskmanagers.map((t: { id: string }) => t.id);
}

describe('a hung TaskManager', () => {
  it('is declared lost after heartbeat.timeout, its tasks fail over, and once resumed it re-registers without disturbing the job', async () => {
    cluster = await startCluster({
      taskManagers: 2,
      slots: 2,
      config: { 'heartbeat.interval': '250 ms', 'heartbeat.timeout': `${HEARTBEAT_TIMEOUT_MS} ms` },
    });
    const c = cluster;
    const out = join(c.dir, 'counts');
    const count = 14_000;
    const keys = 40;
    const jobId = await c.submit('test/jobs/cp-count.ts', [out, String(count), String(keys), '1000', '-1', '300'], 2);
    const job = await c.waitFor('both subtasks running on both TaskManagers', async () => {
      const j = await c.job(jobId);
      const tms = new Set(j.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s['taskmanager-id'])));
      return j.vertices.every((v: any) => v.status === 'RUNNING') && tms.size === 2 ? j : undefined;
    });
    expect(job.state).toBe('RUNNING');
    await c.waitFor(
      'two completed checkpoints',
      async () => (await c.rest(`/jobs/${jobId}/checkpoints`)).body.counts.completed >= 2,
      30_000,
    );

    const victim = c.taskManagers[1]!;
    stopped = victim;
    victim.proc.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await c.waitFor(
      'the hung TaskManager to be declared lost',
      async () => !(await taskManagerIds(c)).includes(victim.id!),
      HEARTBEAT_TIMEOUT_MS + 8000,
    );
    const lostAfter = Date.now() - stoppedAt;
    expect(lostAfter).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT_MS - 300);
    expect(lostAfter).toBeLessThan(HEARTBEAT_TIMEOUT_MS + 5000);

    // The job restarts on the remaining TaskManager from its latest checkpoint.
    await c.waitFor(
      'the job running again on the other TaskManager',
      async () => {
        const j = await c.job(jobId);
        const tms = new Set(j.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s['taskmanager-id'])));
        return (
          j.state === 'RUNNING' &&
          j.vertices.every((v: any) => v.status === 'RUNNING') &&
          tms.size === 1 &&
          !tms.has(victim.id)
        );
      },
      30_000,
    );
    const ex = (await c.rest(`/jobs/${jobId}/exceptions`)).body;
    expect(ex.exceptionHistory.entries).toHaveLength(1);
    expect(ex['root-exception']).toContain(`TaskManager ${victim.id}`);
    expect(ex['root-exception']).toContain('sent no heartbeat');
    expect((await c.rest(`/jobs/${jobId}/checkpoints`)).body.counts.restored).toBe(1);

    // Resumed while the job still runs: its stale tasks are canceled and it registers again.
    expect((await c.job(jobId)).state).toBe('RUNNING');
    victim.proc.kill('SIGCONT');
    stopped = undefined;
    await c.waitFor(
      'the resumed TaskManager to register again',
      async () => (await taskManagerIds(c)).includes(victim.id!),
      15_000,
    );
    const done = await c.waitForJob(jobId, ['FINISHED'], 60_000);
    expect(done.state).toBe('FINISHED');
    // Nothing lost, nothing twice: every key counts 1..N exactly once in the committed output.
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(count, keys));
    // The resumed TaskManager caused no second failover.
    expect((await c.rest(`/jobs/${jobId}/exceptions`)).body.exceptionHistory.entries).toHaveLength(1);
    const log = readFileSync(join(c.dir, victim.name, 'taskmanager.log'), 'utf8');
    expect(log).toMatch(/canceling tasks and registering again/);
  }, 90_000);
});
