// A failing job raises alerts: one error line per state change in the JobManager log, and a JSON
// POST to the configured webhook (a real local HTTP server here).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let server: Server;
const received: any[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  cluster = await startCluster({
    taskManagers: 1,
    slots: 2,
    config: { 'alerts.webhook.url': `http://127.0.0.1:${port}/hook` },
  });
});
afterAll(async () => {
  await cluster?.stop();
  await new Promise((r) => server?.close(r));
});

describe('alerts', () => {
  it('posts FAILING and FAILED with the job and its cause, and logs each once at level error', async () => {
    const jobId = await cluster.submit('test/jobs/failing.ts', [], 1);
    await cluster.waitForJob(jobId, ['FAILED']);
    await cluster.waitFor('both alerts at the webhook', async () => received.length >= 2 || undefined, 10_000);
    const states = received.map((r) => r.body.state);
    expect(states).toEqual(['FAILING', 'FAILED']);
    for (const r of received) {
      expect(r.method).toBe('POST');
      expect(r.type).toContain('application/json');
      expect(r.body).toMatchObject({ type: 'job-alert', jobId, jobName: 'Failing job', jobManager: cluster.restUrl });
      expect(r.body.cause).toContain('bad record 77777');
    }
    const log = (await cluster.rest('/jobmanager/log')).body as string;
    const errorLines = log
      .split('\n')
      .filter((l) => l.includes(jobId))
      .map((l) => JSON.parse(l))
      .filter((e) => e.level >= 50);
    expect(errorLines.map((e) => e.alert.state)).toEqual(['FAILING', 'FAILED']);
  });

  it('posts RESTARTING when a job fails over, and nothing more once it finished', async () => {
    received.length = 0;
    const out = `${cluster.dir}/restart-alert`;
    const jobId = await cluster.submit('test/jobs/cp-count.ts', [out, '4000', '10', '2000', '2500', '200'], 1);
    await cluster.waitForJob(jobId, ['FINISHED'], 60_000);
    await cluster.waitFor('the restart alert at the webhook', async () => received.length >= 1 || undefined, 10_000);
    expect(received.map((r) => r.body.state)).toEqual(['RESTARTING']);
    expect(received[0].body).toMatchObject({ type: 'job-alert', jobId, state: 'RESTARTING' });
    expect(received[0].body.cause).toContain('planned failure at record 2500');
  }, 90_000);

  it('keeps the JobManager serving when the webhook is down', async () => {
    await new Promise((r) => server.close(r));
    const jobId = await cluster.submit('test/jobs/failing.ts', [], 1);
    await cluster.waitForJob(jobId, ['FAILED']);
    expect((await cluster.rest('/overview')).status).toBe(200);
  });
});
