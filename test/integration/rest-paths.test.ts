// What REST requests may name on disk and how much they may send, across real processes:
// savepoint targets, restore paths and disposals only under the configured directories (after `..`
// and symbolic links are resolved); jar, TaskManager and checkpoint ids that name nothing else;
// uploads, stored bundles and bodies bounded; every refusal a 4xx with a clear message.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { disposeSavepoint, savepoint, type OperationResult } from '../helpers/savepoints.js';

const base = mkdtempSync(join(tmpdir(), 'weir-rest-paths-'));
const savepoints = join(base, 'savepoints');
const extra = join(base, 'extra');
const outside = join(base, 'outside');
const MAX_UPLOAD = 64 * 1024;

let cluster: TestCluster;
let jobId: string;
let jarId: string;

beforeAll(async () => {
  for (const d of [savepoints, extra, outside]) mkdirSync(d, { recursive: true });
  cluster = await startCluster({
    taskManagers: 1,
    slots: 1,
    config: {
      'state.savepoints.dir': savepoints,
      'security.rest.allowed-dirs': extra,
      'rest.server.max-content-length': '64 kb',
      'web.upload.max-jars': '2',
    },
  });
  jarId = await cluster.upload(await cluster.bundle('examples/endless.ts'));
  const run = await cluster.rest(`/jars/${jarId}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"parallelism": 1}',
  });
  expect(run.status, JSON.stringify(run.body)).toBe(200);
  jobId = run.body.jobid;
  await cluster.waitForJob(jobId, ['RUNNING']);
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(base, { recursive: true, force: true });
});

/** A savepoint, taken again while the job's tasks are still starting. */
async function savepointOfRunningJob(body: Record<string, unknown> = {}): Promise<OperationResult> {
  return cluster.waitFor('a savepoint', async () => {
    const sp = await savepoint(cluster, jobId, body);
    return sp.failure && /tasks are not running/.test(sp.failure) ? undefined : sp;
  });
}

const post = (path: string, body: unknown) =>
  cluster.rest(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('paths in REST requests', () => {
  it('savepoint targets only under state.savepoints.dir, state.checkpoints.dir or security.rest.allowed-dirs', async () => {
    symlinkSync(outside, join(savepoints, 'link'));
    const refusals: [string, unknown, number, RegExp][] = [
      ['savepoints', { 'target-directory': outside }, 403, /lies outside the directories REST requests may use/],
      ['savepoints', { 'target-directory': '/etc' }, 403, /security\.rest\.allowed-dirs/],
      ['savepoints', { 'target-directory': `${savepoints}/../outside` }, 403, /lies outside/],
      ['savepoints', { 'target-directory': join(savepoints, 'link', 'sp') }, 403, /lies outside/],
      ['savepoints', { 'target-directory': 'relative/dir' }, 400, /must be an absolute path/],
      ['savepoints', { 'target-directory': `${extra}/a\u0000b` }, 400, /control characters/],
      ['savepoints', { 'target-directory': ['/tmp'] }, 400, /must be a string/],
      ['stop', { targetDirectory: outside }, 403, /lies outside/],
      ['stop', { targetDirectory: `/${'x'.repeat(5000)}` }, 400, /longer than 4096/],
    ];
    for (const [route, body, status, message] of refusals) {
      const res = await post(`/jobs/${jobId}/${route}`, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.errors[0], JSON.stringify(body)).toMatch(message);
    }
    expect(existsSync(join(outside, 'sp'))).toBe(false);
    // Into the allowed directory, and into state.savepoints.dir by default.
    const sp = await savepointOfRunningJob({ 'target-directory': join(extra, 'sp') });
    expect(sp.failure).toBeUndefined();
    expect(sp.location!.startsWith(join(extra, 'sp'))).toBe(true);
    const byDefault = await savepoint(cluster, jobId);
    expect(byDefault.location!.startsWith(savepoints)).toBe(true);
  }, 60_000);

  it('restore paths and disposals only under those directories; a disposal only of a savepoint', async () => {
    const sp = await savepointOfRunningJob({ 'target-directory': join(extra, 'to-dispose') });
    expect(sp.failure).toBeUndefined();
    // A copy outside, and a link to it from inside: neither is restored from nor disposed.
    const copy = join(outside, 'copy');
    cpSync(sp.location!, copy, { recursive: true });
    symlinkSync(copy, join(extra, 'evil'));
    for (const path of [copy, join(extra, 'evil'), `${extra}/../outside/copy`, '/etc/passwd']) {
      const run = await post(`/jars/${jarId}/run`, { savepointPath: path });
      expect(run.status, path).toBe(403);
      expect(run.body.errors[0]).toMatch(/savepoint path .* lies outside/);
      const dispose = await post('/savepoint-disposal', { 'savepoint-path': path });
      expect(dispose.status, path).toBe(403);
    }
    expect(existsSync(join(copy, '_metadata'))).toBe(true);
    expect((await post(`/jars/${jarId}/run`, { savepointPath: { path: copy } })).status).toBe(400);
    // Inside, but not a savepoint: refused without deleting anything.
    const notSavepoint = join(extra, 'not-a-savepoint');
    mkdirSync(notSavepoint);
    writeFileSync(join(notSavepoint, 'data'), 'keep me');
    expect((await disposeSavepoint(cluster, notSavepoint)).failure).toMatch(/is not a savepoint/);
    expect(existsSync(join(notSavepoint, 'data'))).toBe(true);
    // The savepoint itself goes.
    expect((await disposeSavepoint(cluster, sp.location!)).failure).toBeUndefined();
    expect(existsSync(sp.location!)).toBe(false);
  }, 60_000);
});

describe('ids in REST paths', () => {
  it('jar, TaskManager, job, trigger and checkpoint ids name nothing but what the JobManager holds', async () => {
    const cases: [string, RequestInit | undefined, number][] = [
      ['/jars/..%2F..%2Fbundles/run', { method: 'POST' }, 400],
      ['/jars/...', { method: 'DELETE' }, 400],
      ['/jars/a%00b', { method: 'DELETE' }, 400],
      [`/jars/${'a'.repeat(300)}`, { method: 'DELETE' }, 400],
      [`/jars/${'a'.repeat(1000)}/run`, { method: 'POST' }, 414],
      ['/jobs/%zz', undefined, 400],
      ['/jars/%E2%98%83.weir/run', { method: 'POST' }, 400],
      ['/jars/0123456789abcdef0123456789abcdef_nope.weir', { method: 'DELETE' }, 404],
      ['/taskmanagers/..%2F..%2Fetc%2Fpasswd/log', undefined, 404],
      ['/taskmanagers/%2E%2E%2F/metrics', undefined, 404],
      ['/jobs/..%2F..%2Fetc', undefined, 400],
      [`/jobs/${'0'.repeat(32)}/savepoints/..%2F..`, undefined, 404],
      ['/savepoint-disposal/..%2F..%2Fx', undefined, 404],
      [`/jobs/${jobId}/checkpoints/details/-1`, undefined, 400],
      [`/jobs/${jobId}/checkpoints/details/1e3`, undefined, 400],
      [`/jobs/${jobId}/checkpoints/details/99999999999999999999999`, undefined, 404],
    ];
    for (const [path, init, status] of cases) {
      const res = await cluster.rest(path, init);
      expect(res.status, `${init?.method ?? 'GET'} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
      expect(Array.isArray(res.body.errors), path).toBe(true);
    }
    // The JobManager's log is its own file whatever the query says.
    const log = await cluster.rest('/jobmanager/log?file=../../../../etc/passwd');
    expect(log.status).toBe(200);
    expect(log.body).not.toMatch(/root:.*:0:0:/);
  });
});

describe('sizes and counts', () => {
  it('bounds uploads (rest.server.max-content-length), stored bundles (web.upload.max-jars) and JSON bodies', async () => {
    const upload = (bytes: Uint8Array, name: string) => {
      const form = new FormData();
      form.append('jarfile', new Blob([bytes]), name);
      return cluster.rest('/jars/upload', { method: 'POST', body: form });
    };
    const big = await upload(new Uint8Array(MAX_UPLOAD + 1024), 'big.weir');
    expect(big.status).toBe(413);
    expect(big.body.errors[0]).toMatch(/larger than rest\.server\.max-content-length \(65536 bytes\)/);
    const many = new FormData();
    for (let i = 0; i < 40; i++) many.append(`field${i}`, 'x');
    expect((await cluster.rest('/jars/upload', { method: 'POST', body: many })).status).toBe(413);

    // One jar is stored (the running job's); the second fits, the third is refused until one goes.
    const bundle = readFileSync(await cluster.bundle('examples/endless.ts'));
    const second = await upload(bundle, 'second.weir');
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    const third = await upload(bundle, 'third.weir');
    expect(third.status).toBe(409);
    expect(third.body.errors[0]).toMatch(/already keeps 2 bundles \(web\.upload\.max-jars\)/);
    const secondId = String(second.body.filename).split('/').pop()!;
    expect((await cluster.rest(`/jars/${secondId}`, { method: 'DELETE' })).status).toBe(200);
    const third2 = await upload(bundle, 'third.weir');
    expect(third2.status).toBe(200);
    // A long, odd file name still makes a short jar id of safe characters.
    expect(
      (await cluster.rest(`/jars/${String(third2.body.filename).split('/').pop()}`, { method: 'DELETE' })).status,
    ).toBe(200);
    const odd = await upload(bundle, `${'../'.repeat(100)}é ${'x'.repeat(300)}.weir`);
    expect(odd.status, JSON.stringify(odd.body)).toBe(200);
    expect(String(odd.body.filename)).toMatch(/^\/jars\/[0-9a-f]{32}_[A-Za-z0-9._-]{1,128}$/);

    const huge = await post(`/jars/${jarId}/run`, JSON.stringify({ programArgs: 'x'.repeat(MAX_UPLOAD + 10) }));
    expect(huge.status).toBe(413);
    expect(huge.body.errors[0]).toMatch(/request body is larger than 65536 bytes/);
    expect((await cluster.rest('/overview')).status).toBe(200);
  });
});
