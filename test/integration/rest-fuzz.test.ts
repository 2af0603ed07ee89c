// The REST API under hostile input: 3000 generated requests (fixed seed) against a real
// JobManager, written byte for byte on raw sockets so that nothing is normalized on the way.
// Every answer must be a 2xx or 4xx (never a 5xx, a hang or a cut connection), and the JobManager
// must still be up and answering at the end. No TaskManager and no valid bundle: nothing runs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAndWait, startProcess, type ProcessHandle } from '../helpers/cluster.js';
import { hostileRequest } from '../helpers/hostile-requests.js';
import { rawRequest } from '../helpers/raw-http.js';
import { apiRoutes } from '../helpers/rest-routes.js';
import { mulberry32 } from '../reference/random.js';

const REQUESTS = 3000;
const SEED = 0x5eed_1207;
const IN_FLIGHT = 6;
const TIMEOUT_MS = 10_000;
const TOKEN = 'fuzz-token-3c1f0e';

const dir = mkdtempSync(join(tmpdir(), 'weir-rest-fuzz-'));
let jobManager: ProcessHandle;
let restUrl: string;

beforeAll(async () => {
  const started = await startProcess(dir, 'jobmanager', [
    'jobmanager',
    '--port',
    '0',
    '--rpc-port',
    '0',
    '--dir',
    join(dir, 'jobmanager'),
    '-D',
    `security.rest.token=${TOKEN}`,
    '-D',
    'rest.server.max-content-length=256 kb',
    '-D',
    `security.rest.allowed-dirs=${dir}`,
    '-D',
    'state.savepoints.dir=' + join(dir, 'savepoints'),
  ]);
  jobManager = started.handle;
  restUrl = started.msg.restUrl;
});
afterAll(async () => {
  if (jobManager) await killAndWait(jobManager.proc, 'SIGTERM', 8000);
  rmSync(dir, { recursive: true, force: true });
});

describe('REST fuzzing', () => {
  it(`answers ${REQUESTS} hostile requests with 2xx/4xx and stays up`, async () => {
    const port = Number(new URL(restUrl).port);
    const routes = await apiRoutes();
    const rng = mulberry32(SEED);
    const requests = Array.from({ length: REQUESTS }, () => hostileRequest(rng, routes, { port, token: TOKEN, dir }));
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        const answer = await rawRequest(port, r.bytes, TIMEOUT_MS);
        if ('failure' in answer) failures.push(`${r.summary}: ${answer.failure}`);
        else {
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status >= 500 || answer.status < 200) failures.push(`${r.summary}: HTTP ${answer.status}`);
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));

    const histogram = [...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ');
    console.log(`REST fuzz, ${REQUESTS} requests: ${histogram}`);
    expect(failures.slice(0, 20), `${failures.length} failures`).toEqual([]);
    // The fuzz reaches the handlers, not only the token check and the parser.
    for (const s of [200, 400, 401, 403, 404, 405, 413, 415])
      expect(statuses.get(s) ?? 0, `HTTP ${s}`).toBeGreaterThan(0);

    expect(jobManager.proc.exitCode).toBeNull();
    const overview = await fetch(`${restUrl}/overview`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(overview.status).toBe(200);
    expect(await overview.json()).toMatchObject({ taskmanagers: 0, 'jobs-running': 0 });
    // Nothing was uploaded that is not a bundle, and nothing failed inside a handler.
    const jars = await fetch(`${restUrl}/jars`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(((await jars.json()) as { files: unknown[] }).files).toEqual([]);
    expect(readFileSync(join(dir, 'jobmanager', 'jobmanager.log'), 'utf8')).not.toContain('REST handler failed');
  }, 90_000);
});
