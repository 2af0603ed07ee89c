// A slow sink must slow the source down across processes, with bounded memory everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rssOf, startCluster, type TestCluster } from '../helpers/cluster.js';
import { sleep, waitFor } from '../helpers/eventually.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 2, slots: 1 });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('backpressure', () => {
  it('holds a fast source back to the pace of a sleeping sink', async () => {
    const jobId = await cluster.submit('test/jobs/slow-sink.ts', ['5'], 2);
    await cluster.waitFor('the job to run', async () =>
      (await cluster.job(jobId)).vertices.every((v: any) => v.status === 'RUNNING'),
    );
    const sample = async () => {
      const j = await cluster.job(jobId);
      return {
        out: j.vertices[0].metrics['write-records'] as number,
        in: j.vertices[1].metrics['read-records'] as number,
        backPressuredMs: j.vertices[0].metrics['accumulated-backpressured-time'] as number,
        rss: cluster.taskManagers.map((t) => rssOf(t.proc.pid!)),
      };
    };
    const first = await waitFor('the source to be backpressured while the sinks read', sample, {
      until: (s) => s.backPressuredMs > 0 && s.in > 0,
    });
    // Held back is the absence of a run-away, which no event marks: watch the lead for a fixed while.
    const samples = [first];
    for (let i = 0; i < 5; i++) {
      await sleep(1000);
      samples.push(await sample());
    }
    const summary = samples.map((s) => `out=${s.out} in=${s.in}`).join('\n');
    // What the source got ahead is only what fits in the buffers granted by credit (a few per channel).
    for (const s of samples) expect(s.out - s.in, summary).toBeLessThan(40_000);
    for (const s of samples) for (const rss of s.rss) expect(rss).toBeLessThan(400 * 1024 * 1024);
    // The source keeps going (slowly), it did not stall; nor do the sinks.
    await waitFor('the source and the sinks to move on', sample, {
      until: (s) => s.out > first.out && s.in > first.in,
    });
    await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
    await cluster.waitForJob(jobId, ['CANCELED'], 15_000);
  });
});
