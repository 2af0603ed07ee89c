// Ended jobs survive a JobManager restart: they are kept in its store (LevelDB).
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAndWait, startCluster, startProcess, type ProcessHandle, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster | undefined;
let second: ProcessHandle | undefined;
afterAll(async () => {
  if (second) await killAndWait(second.proc, 'SIGTERM', 5000);
  await cluster?.stop();
});

describe('JobManager restart', () => {
  it('still lists ended jobs with their details and exceptions', async () => {
    cluster = await startCluster({ taskManagers: 1, slots: 2 });
    const ok = await cluster.submit('test/jobs/keyed-count.ts', [join(cluster.dir, 'out'), '2000', '20'], 2);
    await cluster.waitForJob(ok, ['FINISHED']);
    const failed = await cluster.submit('test/jobs/failing.ts', [], 1);
    await cluster.waitForJob(failed, ['FAILED']);
    const before = await cluster.job(ok);

    // The TaskManager is not needed after the restart. Left running, it would keep calling the old
    // JobManager's port, which the OS may hand to another test's JobManager meanwhile.
    for (const tm of cluster.taskManagers) await killAndWait(tm.proc, 'SIGTERM', 8000);
    await killAndWait(cluster.jobManager.proc, 'SIGTERM', 8000);
    const started = await startProcess(cluster.dir, 'jobmanager-2', [
      'jobmanager',
      '--port',
      '0',
      '--rpc-port',
      '0',
      '--dir',
      join(cluster.dir, 'jobmanager'),
    ]);
    second = started.handle;
    const restUrl: string = started.msg.restUrl;
    const get = async (path: string) => {
      const res = await fetch(restUrl + path);
      return { status: res.status, body: (await res.json()) as any };
    };

    const list = (await get('/jobs/overview')).body.jobs;
    expect(list.map((j: any) => [j.jid, j.state]).sort()).toEqual(
      [
        [failed, 'FAILED'],
        [ok, 'FINISHED'],
      ].sort(),
    );
    const after = (await get(`/jobs/${ok}`)).body;
    expect(after.vertices.map((v: any) => v.metrics['write-records'])).toEqual(
      before.vertices.map((v: any) => v.metrics['write-records']),
    );
    expect((await get(`/jobs/${failed}/exceptions`)).body['root-exception']).toContain('bad record 77777');
    const overview = (await get('/overview')).body;
    expect(overview['jobs-finished']).toBe(1);
    expect(overview['jobs-failed']).toBe(1);
    const cancel = await fetch(`${restUrl}/jobs/${ok}?mode=cancel`, { method: 'PATCH' });
    expect(cancel.status).toBe(409);
  });
});
