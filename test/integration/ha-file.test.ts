// JobManager high availability with `high-availability.type: file`: a JobManager killed with
// SIGKILL and started again resumes its running jobs, with the same ids, from their latest
// checkpoints, and exactly-once output stays exact; ended jobs are not resurrected.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHaCluster, type HaCluster } from '../helpers/ha.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { referenceCounts } from '../reference/counts.js';

let cluster: HaCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('JobManager high availability (file)', () => {
  it('survives two SIGKILLs and a SIGTERM of the JobManager: same job id, history kept, output exact', async () => {
    cluster = await startHaCluster({ taskManagers: 2, slots: 2 });
    const c = cluster;
    const { api } = c;
    const out = join(c.dir, 'counts');
    // About 10 s of input, checkpointed every second through the exactly-once FileSink.
    // It fails once on purpose (record 2000, after a checkpoint), so there is a history to keep.
    const jobId = await api.submit('test/jobs/cp-count.ts', [out, '20000', '40', '1500', '2000', '1000'], 2);
    const canceled = await api.submit(
      'test/jobs/cp-count.ts',
      [join(c.dir, 'other'), '100000000', '5', '100', '-1', '1000'],
      1,
    );
    await api.waitForJob(canceled, ['RUNNING']);
    await api.rest(`/jobs/${canceled}?mode=cancel`, { method: 'PATCH' });
    await api.waitForJob(canceled, ['CANCELED']);

    const completed = async () => (await api.rest(`/jobs/${jobId}/checkpoints`)).body.counts?.completed ?? 0;
    // The job's first failure: the planned one, or on a loaded machine a failover before it (a
    // TaskManager declared lost), after which the planned failure, on the first attempt only, never
    // comes. Either way the history must survive the kills.
    const firstFailure = async () => {
      const entries = (await api.rest(`/jobs/${jobId}/exceptions`)).body.exceptionHistory.entries as Array<{
        exceptionName: string;
        stacktrace: string;
        timestamp: number;
      }>;
      return entries.at(-1);
    };
    // The job's record in the storage (under the cluster id's directory) holds that failure.
    const recorded = (timestamp: number) =>
      readdirSync(join(c.dir, 'ha')).some((cluster) => {
        const record = join(c.dir, 'ha', cluster, 'jobs', `${jobId}.json`);
        return existsSync(record) && readFileSync(record, 'utf8').includes(`"timestamp":${timestamp}`);
      });
    // SIGKILL twice; a SIGTERM between them suspends the job for the next JobManager (it is not canceled).
    const signals: NodeJS.Signals[] = ['SIGKILL', 'SIGTERM', 'SIGKILL'];
    for (let kill = 1; kill <= signals.length; kill++) {
      const { n: before, failure } = await api.waitFor(
        `completed checkpoints and a failure before kill ${kill}`,
        async () => {
          const n = await completed();
          const failure = await firstFailure();
          // The JobManager shows a failure at once and writes its record a moment later: the kill
          // must come after the write, or the new JobManager rightly knows nothing of it.
          return n >= kill * 2 && failure && recorded(failure.timestamp) ? { n, failure } : undefined;
        },
      );
      await c.killJobManager(signals[kill - 1]);
      await c.startJobManager();
      const job = (await api.rest(`/jobs/${jobId}`)).body;
      expect(job.jid).toBe(jobId);
      expect(['CREATED', 'RUNNING']).toContain(job.state);
      // The statistics and the exception history continue from what the killed JobManager recorded.
      // The record is written at most once a second, and a write takes time on a loaded machine, so
      // the last checkpoint or two (one a second) may have completed after it.
      expect(await completed()).toBeGreaterThanOrEqual(before - 2);
      expect(await firstFailure()).toEqual(failure);
      // A job still CREATED restores when it is scheduled, a moment later.
      await api.waitFor(`the job restored from a checkpoint after kill ${kill}`, async () => {
        const cp = (await api.rest(`/jobs/${jobId}/checkpoints`)).body;
        return cp.counts.restored >= kill;
      });
    }
    const done = await api.waitForJob(jobId, ['FINISHED'], 90_000);
    expect(done.jid).toBe(jobId);
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(20000, 40));

    // The canceled job stays canceled: it is listed from the job store, never run again.
    const overview = (await api.rest('/jobs/overview')).body.jobs as Array<{ jid: string; state: string }>;
    expect(overview.find((j) => j.jid === canceled)?.state).toBe('CANCELED');
    expect(overview.filter((j) => j.state === 'RUNNING')).toEqual([]);
  }, 180_000);
});
