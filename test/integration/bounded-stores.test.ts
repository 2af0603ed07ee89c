// Disks and stores stay bounded across real processes: log files roll by size and count, the
// JobManager keeps at most jobstore.max-capacity ended jobs, and a canceled job's checkpoints are
// deleted under DELETE_ON_CANCELLATION and kept under RETAIN_ON_CANCELLATION.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { sleep } from '../helpers/eventually.js';

const JOB = 'test/jobs/bs-count.ts';
const LOG_MAX = 4096;

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** Runs the endless job with checkpoints every 100 ms until two completed, then cancels it. */
async function cancelAfterCheckpoints(c: TestCluster): Promise<{ jobId: string; completed: any }> {
  const jobId = await c.submit(JOB, ['inf', '100'], 2);
  await c.waitFor(
    'two completed checkpoints',
    async () => (await c.rest(`/jobs/${jobId}/checkpoints`)).body.counts?.completed >= 2,
    20_000,
  );
  expect((await c.rest(`/jobs/${jobId}`, { method: 'PATCH' })).status).toBe(202);
  await c.waitForJob(jobId, ['CANCELED'], 15_000);
  const completed = (await c.rest(`/jobs/${jobId}/checkpoints`)).body.latest.completed;
  expect(completed.external_path).toMatch(/chk-\d+$/);
  return { jobId, completed };
}

describe('bounded stores', () => {
  it('rolls logs, keeps at most jobstore.max-capacity ended jobs, and deletes a canceled job’s checkpoints under DELETE_ON_CANCELLATION', async () => {
    cluster = await startCluster({
      taskManagers: 1,
      slots: 2,
      config: {
        'log.file.max-size': `${LOG_MAX} b`,
        'log.file.max-files': '2',
        'jobstore.max-capacity': '2',
        'execution.checkpointing.externalized-checkpoint-retention': 'DELETE_ON_CANCELLATION',
      },
    });
    const c = cluster;

    const { jobId: canceled, completed } = await cancelAfterCheckpoints(c);
    expect(completed.discarded).toBe(true);
    await c.waitFor('the canceled job’s checkpoints deleted', async () => !existsSync(completed.external_path), 10_000);
    const config = (await c.rest(`/jobs/${canceled}/checkpoints/config`)).body;
    expect(config.externalization).toEqual({ enabled: true, delete_on_cancellation: true });

    // Three short jobs after it: the store keeps the two newest ended jobs only.
    const short: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await c.submit(JOB, ['3000', '0'], 1);
      await c.waitForJob(id, ['FINISHED'], 20_000);
      short.push(id);
    }
    const listed = (await c.rest('/jobs/overview')).body.jobs.map((j: { jid: string }) => j.jid).sort();
    expect(listed).toEqual([short[1], short[2]].sort());
    expect((await c.rest(`/jobs/${canceled}`)).status).toBe(404);
    expect((await c.rest(`/jobs/${short[0]}`)).status).toBe(404);
    expect((await c.rest(`/jobs/${short[2]}`)).body.state).toBe('FINISHED');

    // The JobManager's log rolled: jobmanager.log, .1 and .2 at most, none much past the size.
    const jmDir = join(c.dir, 'jobmanager');
    await c.waitFor(
      'the JobManager log to roll twice',
      async () => existsSync(join(jmDir, 'jobmanager.log.2')),
      10_000,
    );
    const logs = readdirSync(jmDir)
      .filter((f) => f.startsWith('jobmanager.log'))
      .sort();
    expect(logs).toEqual(['jobmanager.log', 'jobmanager.log.1', 'jobmanager.log.2']);
    for (const f of logs) expect(statSync(join(jmDir, f)).size).toBeLessThan(LOG_MAX + 4096);
    // REST reads the end of the log across the last roll; every line is JSON.
    const tail = (await c.rest('/jobmanager/log')).body as string;
    expect(tail.length).toBeGreaterThan(0);
    // (It may have rolled again since; the files in order still hold what REST read.)
    const rolled = ['jobmanager.log.2', 'jobmanager.log.1', 'jobmanager.log']
      .map((f) => (existsSync(join(jmDir, f)) ? readFileSync(join(jmDir, f), 'utf8') : ''))
      .join('');
    expect(rolled.includes(tail)).toBe(true);
    for (const line of readFileSync(join(jmDir, 'jobmanager.log.1'), 'utf8').trim().split('\n'))
      expect(() => JSON.parse(line)).not.toThrow();
    // The TaskManager's log rolls under the same keys.
    const tmDir = join(c.dir, 'taskmanager-0');
    expect(readdirSync(tmDir).filter((f) => /^taskmanager\.log(\.\d+)?$/.test(f)).length).toBeGreaterThanOrEqual(2);
    const tms = (await c.rest('/taskmanagers')).body.taskmanagers;
    expect(((await c.rest(`/taskmanagers/${tms[0].id}/log`)).body as string).length).toBeGreaterThan(0);
  }, 40_000);

  it('keeps a canceled job’s latest checkpoint under RETAIN_ON_CANCELLATION', async () => {
    cluster = await startCluster({
      taskManagers: 1,
      slots: 2,
      config: { 'execution.checkpointing.externalized-checkpoint-retention': 'RETAIN_ON_CANCELLATION' },
    });
    const c = cluster;
    const { jobId, completed } = await cancelAfterCheckpoints(c);
    expect(completed.discarded).toBe(false);
    // Cleanup after the end runs in the background, after it logs its decision.
    await c.waitFor('the end-of-job checkpoint cleanup to start', async () =>
      ((await c.rest('/jobmanager/log')).body as string).includes(
        'the job is CANCELED: its retained checkpoints are kept',
      ),
    );
    // Not deleting is a non-event: the cleanup is a few file operations, long done after 500 ms.
    await sleep(500);
    expect(existsSync(join(completed.external_path, '_metadata'))).toBe(true);
    expect((await c.rest(`/jobs/${jobId}/checkpoints/config`)).body.externalization).toEqual({
      enabled: true,
      delete_on_cancellation: false,
    });
  }, 30_000);
});
