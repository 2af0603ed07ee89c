// Bad input gets a clear error and the JobManager stays up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 1, slots: 2, config: { 'dispatcher.planner.timeout': '2 s' } });
});
afterAll(async () => {
  await cluster?.stop();
});

async function uploadBytes(bytes: Uint8Array, field = 'jarfile') {
  const form = new FormData();
  form.append(field, new Blob([bytes]), 'x.weir');
  return cluster.rest('/jars/upload', { method: 'POST', body: form });
}

async function runBundle(path: string) {
  const jarId = await cluster.upload(await cluster.bundle(path));
  return cluster.rest(`/jars/${jarId}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
}

describe('bad input', () => {
  it('refuses a file that is not a bundle', async () => {
    const res = await uploadBytes(new TextEncoder().encode('this is not a bundle at all'));
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatch(/not a Weir bundle/);
  });

  it('refuses an upload without a file or not multipart', async () => {
    // Any field name carries the bundle (Flink's client sends file_0), so only a missing file is wrong.
    const noFile = new FormData();
    noFile.append('request', '{}');
    const missing = await cluster.rest('/jars/upload', { method: 'POST', body: noFile });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]).toMatch(/^the upload has no file/);
    const json = await cluster.rest('/jars/upload', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(400);
  });

  it('refuses bundles whose main throws, hangs, or builds an invalid graph', async () => {
    const threw = await runBundle('test/jobs/main-throws.ts');
    expect(threw.status).toBe(400);
    expect(threw.body.errors[0]).toContain('job main() threw: boom while building the pipeline');
    const hung = await runBundle('test/jobs/main-hangs.ts');
    expect(hung.status).toBe(400);
    expect(hung.body.errors[0]).toMatch(/did not return within 2 s/);
    const noSink = await runBundle('test/jobs/no-sink.ts');
    expect(noSink.status).toBe(400);
    expect(noSink.body.errors[0]).toMatch(/no sink/);
  });

  it('answers unknown and malformed ids and bodies with 4xx and {"errors": [...]}', async () => {
    const cases: [string, RequestInit | undefined, number][] = [
      ['/jobs/0123456789abcdef0123456789abcdef', undefined, 404],
      ['/jobs/not-a-job-id', undefined, 400],
      ['/jobs/0123456789abcdef0123456789abcdef/exceptions', undefined, 404],
      ['/jobs/0123456789abcdef0123456789abcdef?mode=cancel', { method: 'PATCH' }, 404],
      ['/jars/nope_x.weir/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, 404],
      ['/taskmanagers/tm-unknown', undefined, 404],
      ['/no/such/path', undefined, 404],
    ];
    for (const [path, init, status] of cases) {
      const res = await cluster.rest(path, init);
      expect(res.status, path).toBe(status);
      expect(res.body.errors, path).toEqual([expect.any(String)]);
    }
    const jarId = await cluster.upload(await cluster.bundle('examples/endless.ts'));
    const badJson = await cluster.rest(`/jars/${jarId}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"parallelism": ',
    });
    expect(badJson.status).toBe(400);
    const badParallelism = await cluster.rest(`/jars/${jarId}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"parallelism": -3}',
    });
    expect(badParallelism.status).toBe(400);
    expect(badParallelism.body.errors[0]).toContain('parallelism');
    const badArgs = await cluster.rest(`/jars/${jarId}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"programArgsList": "x"}',
    });
    expect(badArgs.status).toBe(400);
  });

  it('still runs jobs after all that', async () => {
    const jobId = await cluster.submit('test/jobs/keyed-count.ts', [`${cluster.dir}/ok-out`, '1000', '10'], 1);
    await cluster.waitForJob(jobId, ['FINISHED']);
    expect((await cluster.rest('/overview')).status).toBe(200);
  });
});
