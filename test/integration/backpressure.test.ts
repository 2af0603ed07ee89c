// A slow sink must slow the source down across processes, with bounded memory everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rssOf, startCluster, type TestCluster } from '../helpers/cluster.js';

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
    const samples: { out: number; in: number; rss: number[] }[] = [];
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const j = await cluster.job(jobId);
      samples.push({
        out: j.vertices[0].metrics['write-records'],
        in: j.vertices[1].metrics['read-records'],
        rss: cluster.taskManagers.map((t) => rssOf(t.proc.pid!)),
      });
    }
    const last = samples.at(-1)!;
    // Two sinks at ~200 records/s each read roughly 2 400 records in 6 s; what the source got
    // ahead is only what fits in the buffers granted by credit (a few per channel).
    expect(last.in).toBeGreaterThan(0);
    expect(last.out - last.in).toBeLessThan(40_000);
    expect(last.out).toBeLessThan(60_000);
    // The source kept going (slowly), it did not stall.
    expect(last.out).toBeGreaterThan(samples[0]!.out);
    for (const s of samples) for (const rss of s.rss) expect(rss).toBeLessThan(400 * 1024 * 1024);
    await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
    await cluster.waitForJob(jobId, ['CANCELED'], 15_000);
  });
});
