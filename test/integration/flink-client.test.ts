// The calls a Flink deployment tool makes (Flink's RestClusterClient, as the Kubernetes operator
// uses it), with the request bodies Flink's client sends, against a real cluster: upload with
// `request` + `file_0`, run with a chosen jobId, status, configuration, manual checkpoints,
// execution results, /config and /taskmanagers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 2, slots: 2 });
});
afterAll(async () => {
  await cluster?.stop();
});

/** The multipart body Netty's HttpPostRequestEncoder writes for Flink's RestClient: a `request` attribute, then file_0. */
function flinkUpload(bundle: Buffer, fileName: string): { body: Buffer; contentType: string } {
  const boundary = 'cf3a8a7b3f8d4f2e';
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="request"\r\ncontent-length: 2\r\ncontent-type: text/plain; charset=UTF-8\r\n\r\n{}\r\n`,
    ),
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file_0"; filename="${fileName}"\r\ncontent-length: ${bundle.length}\r\n` +
        'content-type: application/x-java-archive\r\ncontent-transfer-encoding: binary\r\n\r\n',
    ),
    bundle,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

async function uploadAsFlink(path: string): Promise<string> {
  const { body, contentType } = flinkUpload(readFileSync(await cluster.bundle(path)), 'job.jar');
  const res = await cluster.rest('/jars/upload', { method: 'POST', headers: { 'content-type': contentType }, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.status).toBe('success');
  // As the operator does: the jar id is the last segment of the returned file name.
  return String(res.body.filename).split('/').pop()!;
}

/** Flink's JarRunRequestBody as the Kubernetes operator fills it. */
function runBody(over: Record<string, unknown>): string {
  return JSON.stringify({
    entryClass: null,
    programArgs: null,
    programArgsList: [],
    parallelism: null,
    jobId: null,
    allowNonRestoredState: null,
    savepointPath: null,
    restoreMode: null,
    claimMode: null,
    flinkConfiguration: { 'kubernetes.cluster-id': 'weir', 'taskmanager.numberOfTaskSlots': '2' },
    ...over,
  });
}

async function run(jarId: string, over: Record<string, unknown>): Promise<{ status: number; body: any }> {
  return cluster.rest(`/jars/${jarId}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: runBody(over),
  });
}

async function executionResult(jobId: string): Promise<any> {
  return cluster.waitFor(
    `the execution result of ${jobId}`,
    async () => {
      const r = (await cluster.rest(`/jobs/${jobId}/execution-result`)).body;
      return r.status.id === 'COMPLETED' ? r : undefined;
    },
    60_000,
  );
}

describe("Flink's REST client against Weir", () => {
  const jobId = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
  let jarId: string;

  it('uploads a bundle the way RestClient does and runs it under the chosen jobId', async () => {
    jarId = await uploadAsFlink('test/jobs/cp-count.ts');
    const out = join(cluster.dir, 'counts');
    const res = await run(jarId, {
      programArgsList: [out, '100000000', '10', '200', '-1', '600000'],
      parallelism: 2,
      jobId,
    });
    expect(res).toEqual({ status: 200, body: { jobid: jobId } });
    const again = await run(jarId, { programArgsList: [out, '10', '1', '10', '-1', '600000'], jobId });
    expect(again.status).toBe(409);
    expect(again.body.errors[0]).toContain(jobId);
    const bad = await run(jarId, { jobId: 'not-a-job-id' });
    expect(bad).toEqual({
      status: 400,
      body: { errors: ["jobId must be 32 lowercase hex characters, got 'not-a-job-id'"] },
    });
  });

  it('reports status, IN_PROGRESS execution result and the job configuration while it runs', async () => {
    await cluster.waitForJob(jobId, ['RUNNING']);
    expect((await cluster.rest(`/jobs/${jobId}/status`)).body).toEqual({ status: 'RUNNING' });
    expect((await cluster.rest(`/jobs/${jobId}/execution-result`)).body).toEqual({ status: { id: 'IN_PROGRESS' } });
    const config = (await cluster.rest(`/jobs/${jobId}/config`)).body;
    expect(config).toMatchObject({
      jid: jobId,
      'execution-config': {
        'execution-mode': 'PIPELINED',
        'job-parallelism': 2,
        'object-reuse-mode': false,
        'user-config': {},
      },
    });
    expect(config['execution-config']['restart-strategy']).toMatch(
      /^FixedDelayRestartBackoffTimeStrategy\(maxNumberRestartAttempts=10, backoffTimeMS=200\)$/,
    );
  });

  it('takes a manual checkpoint (CheckpointTriggerRequestBody) and reports its id under the trigger id', async () => {
    // Every subtask, not every vertex: a vertex reads RUNNING while one of its subtasks still initializes.
    await cluster.waitFor('every task running', async () =>
      ((await cluster.job(jobId)).vertices as { subtasks: { status: string }[] }[]).every((v) =>
        v.subtasks.every((s) => s.status === 'RUNNING'),
      ),
    );
    const trigger = await cluster.rest(`/jobs/${jobId}/checkpoints`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ checkpointType: 'FULL', triggerId: null }),
    });
    expect(trigger.status).toBe(202);
    const requestId = trigger.body['request-id'] as string;
    expect(requestId).toMatch(/^[0-9a-f]{32}$/);
    const done = await cluster.waitFor('the manual checkpoint', async () => {
      const r = await cluster.rest(`/jobs/${jobId}/checkpoints/${requestId}`);
      expect(r.status).toBe(200);
      return r.body.status.id === 'COMPLETED' ? r.body : undefined;
    });
    expect(done.operation['failure-cause']).toBeUndefined();
    const checkpointId = done.operation.checkpointId as number;
    expect(checkpointId).toBeGreaterThan(0);
    // The routes beside the trigger id still answer: the statistics know the checkpoint.
    const details = await cluster.rest(`/jobs/${jobId}/checkpoints/details/${checkpointId}`);
    expect(details.status).toBe(200);
    expect(details.body).toMatchObject({ id: checkpointId, status: 'COMPLETED' });
    expect((await cluster.rest(`/jobs/${jobId}/checkpoints/config`)).status).toBe(200);
    const unknown = await cluster.rest(`/jobs/${jobId}/checkpoints/ffffffffffffffffffffffffffffffff`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors).toHaveLength(1);
  });

  it('answers COMPLETED with CANCELED once the job is canceled', async () => {
    expect((await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' })).status).toBe(202);
    const r = await executionResult(jobId);
    expect(r['job-execution-result']).toMatchObject({
      id: jobId,
      'application-status': 'CANCELED',
      'accumulator-results': {},
    });
    expect(r['job-execution-result']['net-runtime']).toBeGreaterThan(0);
    expect((await cluster.rest(`/jobs/${jobId}/status`)).body).toEqual({ status: 'CANCELED' });
  });

  it('answers SUCCEEDED for a finished job and FAILED with the cause for a failed one', async () => {
    const done = await run(jarId, {
      programArgsList: [join(cluster.dir, 'small'), '500', '5', '100000', '-1', '600000'],
    });
    expect(done.status).toBe(200);
    expect((await executionResult(done.body.jobid))['job-execution-result']['application-status']).toBe('SUCCEEDED');

    const failingJar = await uploadAsFlink('test/jobs/failing.ts');
    const failed = await run(failingJar, {});
    const r = (await executionResult(failed.body.jobid))['job-execution-result'];
    expect(r['application-status']).toBe('FAILED');
    expect(r['failure-cause']['stack-trace']).toContain('bad record 77777');
    expect(typeof r['failure-cause'].class).toBe('string');
  });

  it("serves /config and /taskmanagers with the fields Flink's client deserializes", async () => {
    const config = (await cluster.rest('/config')).body;
    for (const key of [
      'refresh-interval',
      'timezone-name',
      'timezone-offset',
      'flink-version',
      'flink-revision',
      'features',
      'weir-version',
    ])
      expect(config).toHaveProperty(key);
    expect(config.features).toEqual({
      'web-submit': true,
      'web-cancel': true,
      'web-rescale': false,
      'web-history': false,
    });
    expect(config).toHaveProperty('savepoints-dir');
    const { taskmanagers } = (await cluster.rest('/taskmanagers')).body;
    expect(taskmanagers).toHaveLength(2);
    for (const tm of taskmanagers) {
      for (const key of [
        'id',
        'path',
        'dataPort',
        'jmxPort',
        'timeSinceLastHeartbeat',
        'slotsNumber',
        'freeSlots',
        'totalResource',
        'freeResource',
        'hardware',
        'memoryConfiguration',
      ])
        expect(tm).toHaveProperty(key);
      expect(tm.jmxPort).toBe(-1);
      expect(tm.totalResource.cpuCores).toBe(2);
      // The TaskManagers run on this host, so their hardware is known.
      expect(tm.hardware.cpuCores).toBeGreaterThan(0);
      expect(tm.hardware.physicalMemory).toBeGreaterThan(0);
      expect(tm.memoryConfiguration.totalProcessMemory).toBeGreaterThan(0);
    }
  });

  it("answers on Flink's versioned paths (/v1/...), which RestClient always uses", async () => {
    expect((await cluster.rest('/v1/config')).status).toBe(200);
    expect((await cluster.rest(`/v1/jobs/${jobId}/status`)).body).toEqual({ status: 'CANCELED' });
  });
});
