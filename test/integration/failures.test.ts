// Lost and refused processes: SIGKILL and SIGTERM of a TaskManager, too few slots, another
// protocol version. The JobManager must stay up and say clearly what happened.
import { afterEach, describe, expect, it } from 'vitest';
import { jobManagerClient, type RegisterTaskManagerResponse } from '../../common/control.js';
import { unary } from '../../common/rpc.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function runningOnBoth(c: TestCluster): Promise<string> {
  const jobId = await c.submitExample('endless', ['500'], 2);
  await c.waitFor('both subtasks running on both TaskManagers', async () => {
    const j = await c.job(jobId);
    const tms = new Set(j.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s['taskmanager-id'])));
    return j.vertices.every((v: any) => v.status === 'RUNNING') && tms.size === 2;
  });
  return jobId;
}

describe('failures', () => {
  it('notices a SIGKILLed TaskManager within 10 seconds and fails its job with a clear cause', async () => {
    cluster = await startCluster({ taskManagers: 2, slots: 2, config: { 'heartbeat.timeout': '8 s' } });
    const jobId = await runningOnBoth(cluster);
    const victim = cluster.taskManagers[1]!;
    const killedAt = Date.now();
    victim.proc.kill('SIGKILL');
    const job = await cluster.waitForJob(jobId, ['FAILED'], 10_000);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(job.state).toBe('FAILED');
    const ex = (await cluster.rest(`/jobs/${jobId}/exceptions`)).body;
    expect(ex['root-exception']).toMatch(new RegExp(`${victim.id}|TaskManager|127\\.0\\.0\\.1`));
    await cluster.waitFor(
      'the lost TaskManager to be gone and the other one freed',
      async () => {
        const o = (await cluster!.rest('/overview')).body;
        return o.taskmanagers === 1 && o['slots-available'] === 2;
      },
      10_000,
    );
  });

  it('fails a job that needs more slots than exist after slot.request.timeout', async () => {
    cluster = await startCluster({ taskManagers: 2, slots: 2, config: { 'slot.request.timeout': '2 s' } });
    const jobId = await cluster.submitExample('endless', ['100'], 6);
    const started = Date.now();
    await cluster.waitForJob(jobId, ['FAILED'], 15_000);
    expect(Date.now() - started).toBeGreaterThan(1000);
    const ex = (await cluster.rest(`/jobs/${jobId}/exceptions`)).body;
    expect(ex['root-exception']).toContain('needs 6 slot(s)');
    expect(ex['root-exception']).toContain('only 4 of 4 are free');
    expect((await cluster.rest('/overview')).body['slots-available']).toBe(4);
  });

  it('refuses a TaskManager that speaks another protocol version', async () => {
    cluster = await startCluster({ taskManagers: 1 });
    const client = jobManagerClient(cluster.rpcAddress);
    try {
      const res = await unary<object, RegisterTaskManagerResponse>(
        client,
        'RegisterTaskManager',
        {
          taskManagerId: 'tm-from-the-future',
          rpcAddress: '127.0.0.1:1',
          slots: 1,
          protocolVersion: 999,
          engineVersion: '9.0.0',
          pid: 1,
          hostname: 'x',
          workingDir: '/tmp',
        },
        5000,
      );
      expect(res.accepted).toBe(false);
      expect(res.reason).toMatch(/protocol version mismatch: TaskManager speaks 999/);
    } finally {
      client.close();
    }
    expect((await cluster.rest('/overview')).body.taskmanagers).toBe(1);
  });

  it('shuts a TaskManager down cleanly on SIGTERM: tasks canceled, deregistered at once', async () => {
    cluster = await startCluster({ taskManagers: 2, slots: 2, config: { 'heartbeat.timeout': '30 s' } });
    const jobId = await runningOnBoth(cluster);
    const tm = cluster.taskManagers[0]!;
    const exited = new Promise<number | null>((r) => tm.proc.once('exit', (code) => r(code)));
    tm.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Deregistration, not the 30 s heartbeat timeout, removes it.
    await cluster.waitFor(
      'deregistration',
      async () => (await cluster!.rest('/overview')).body.taskmanagers === 1,
      5000,
    );
    // The job fails once the other TaskManager's tasks are canceled: usually well under a second, but
    // once, on a loaded CI machine, over 10 s; a cancel that hangs is ended by the 30 s cancellation watchdog.
    const job = await cluster.waitForJob(jobId, ['FAILED'], 40_000);
    expect(job.state).toBe('FAILED');
  });
});
