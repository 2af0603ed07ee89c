// REST authentication and TLS across real processes: every API route (enumerated from the code
// that registers them) refuses requests without the token or with a wrong one and serves the right
// one; the web UI's files need none; the CLI takes --token and WEIR_TOKEN; a JobManager open to
// other hosts without a token refuses to start; REST over TLS with a self-signed CA.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/package-root.js';
import { killAndWait, startCluster, startProcess, type ProcessHandle, type TestCluster } from '../helpers/cluster.js';
import { apiRoutes, fillRoute, UNKNOWN_IDS } from '../helpers/rest-routes.js';
import { makeTestCa } from '../helpers/test-ca.js';

const TOKEN = 'weir-test-token-5b0d9c27e1';
const WEIR = join(packageRoot(), 'bin', 'weir.js');

/** The weir CLI with a clean environment (no ambient WEIR_* settings) plus `env`. */
function weir(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^WEIR_|^NODE_EXTRA_CA_CERTS$/.test(k)));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [WEIR, ...args],
      { env: { ...base, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const stderrLines = (r: { stderr: string }) => r.stderr.trim().split('\n');

describe('REST authentication', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ taskManagers: 1, slots: 1, token: TOKEN });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const raw = (path: string, init: RequestInit = {}) => fetch(cluster.restUrl + path, init);

  it('every API route answers 401 without the token or with a wrong one, and serves the right one', async () => {
    const routes = await apiRoutes();
    expect(routes.length).toBeGreaterThan(40);
    const results: string[] = [];
    for (const r of routes) {
      const path = fillRoute(r, (p) => encodeURIComponent(UNKNOWN_IDS[p] ?? 'x'));
      const json =
        r.method === 'POST' || r.method === 'PATCH'
          ? { headers: { 'content-type': 'application/json' }, body: '{}' }
          : {};
      const send = async (authorization?: string) => {
        const headers = { ...(json.headers ?? {}), ...(authorization ? { authorization } : {}) };
        const res = await raw(path, { method: r.method, ...json, headers });
        const text = await res.text();
        return { status: res.status, text, challenge: res.headers.get('www-authenticate') };
      };
      const none = await send();
      const wrong = await send('Bearer not-the-token');
      const basic = await send(`Basic ${Buffer.from(`weir:${TOKEN}`).toString('base64')}`);
      const right = await send(`Bearer ${TOKEN}`);
      const label = `${r.method} ${r.url}`;
      expect(none.status, label).toBe(401);
      expect(wrong.status, label).toBe(401);
      expect(basic.status, label).toBe(401);
      expect(none.challenge, label).toMatch(/^Bearer realm="weir"/);
      if (r.method !== 'HEAD') {
        expect(JSON.parse(none.text).errors[0], label).toMatch(/requires a token/);
        expect(JSON.parse(wrong.text).errors[0], label).toMatch(/token was refused/);
      }
      expect(right.status, `${label}: ${right.text}`).not.toBe(401);
      expect(right.status, `${label}: ${right.text}`).toBeLessThan(500);
      results.push(`${label} ${right.status}`);
    }
    // Flink's /v1 prefix is the same route, and so guarded the same.
    expect((await raw('/v1/overview')).status).toBe(401);
    expect((await raw('/v1/overview', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    // A request the token does not reach is not parsed: no upload, no body error before the 401.
    const upload = new FormData();
    upload.append('jarfile', new Blob([Buffer.alloc(1000)]), 'x.weir');
    expect((await raw('/jars/upload', { method: 'POST', body: upload })).status).toBe(401);
    expect((await cluster.rest('/jars')).body.files).toEqual([]);
    expect(results.length).toBe(routes.length);
  });

  it('serves the web UI files without a token, and /metrics only with it', async () => {
    const index = await raw('/');
    expect(index.status).toBe(200);
    expect(await index.text()).toMatch(/<div id="app">/);
    expect((await raw('/index.html')).status).toBe(200);
    const assets = readdirSync(join(packageRoot(), 'web-ui', 'dist', 'assets'));
    expect(assets.length).toBeGreaterThan(0);
    for (const a of assets) expect((await raw(`/assets/${a}`)).status, a).toBe(200);
    // Nothing else comes out of the static route, and no path leads out of the UI's directory.
    expect((await raw('/assets/nope.js')).status).toBe(404);
    expect((await raw('/assets/%2e%2e/%2e%2e/package.json')).status).toBeGreaterThanOrEqual(400);
    // Prometheus scrapes with `authorization: { credentials: <token> }` (a bearer token).
    expect((await raw('/metrics')).status).toBe(401);
    const metrics = await raw('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^weir_/m);
    // The configuration the REST API shows never contains the token.
    const conf = (await cluster.rest('/jobmanager/config')).body as { key: string; value: string }[];
    expect(conf.find((e) => e.key === 'security.rest.token')?.value).toBe('******');
    expect(JSON.stringify(conf)).not.toContain(TOKEN);
  });

  it('the CLI takes --token or WEIR_TOKEN; without one, or with a wrong one, it says so in one line', async () => {
    const m = ['--jobmanager', cluster.restUrl];
    const missing = await weir(['list', ...m]);
    expect(missing.code).not.toBe(0);
    expect(stderrLines(missing)).toEqual([
      `error: the JobManager at ${cluster.restUrl} requires a token: pass --token or set WEIR_TOKEN`,
    ]);
    const wrong = await weir(['list', ...m, '--token', 'nope']);
    expect(wrong.code).not.toBe(0);
    expect(stderrLines(wrong)).toEqual([`error: the token was refused by the JobManager at ${cluster.restUrl}`]);
    const wrongEnv = await weir(['cancel', '0123456789abcdef0123456789abcdef', ...m], { WEIR_TOKEN: 'nope' });
    expect(stderrLines(wrongEnv)).toEqual([`error: the token was refused by the JobManager at ${cluster.restUrl}`]);

    // Upload and run with --token, list and cancel with WEIR_TOKEN.
    const bundle = await cluster.bundle('examples/endless.ts');
    const run = await weir(['run', bundle, '--detached', '-p', '1', ...m, '--token', TOKEN]);
    expect(run.code, run.stderr).toBe(0);
    const jobId = /([0-9a-f]{32})/.exec(run.stdout)![1]!;
    await cluster.waitForJob(jobId, ['RUNNING']);
    const list = await weir(['list', ...m], { WEIR_TOKEN: TOKEN });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(jobId);
    const noToken = await weir(['savepoint', jobId, ...m]);
    expect(noToken.code).not.toBe(0);
    expect(stderrLines(noToken)).toHaveLength(1);
    const cancel = await weir(['cancel', jobId, ...m], { WEIR_TOKEN: TOKEN });
    expect(cancel.code, cancel.stderr).toBe(0);
    await cluster.waitForJob(jobId, ['CANCELED'], 20_000);
  }, 90_000);
});

describe('JobManager start with REST security settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-rest-start-'));
  const started: ProcessHandle[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => killAndWait(p.proc, 'SIGTERM', 8000)));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const jobManager = (name: string, ...defines: string[]) =>
    startProcess(dir, name, [
      'jobmanager',
      '--port',
      '0',
      '--rpc-port',
      '0',
      '--dir',
      join(dir, name),
      ...defines.flatMap((d) => ['-D', d]),
    ]).then((r) => {
      started.push(r.handle);
      return r.msg as { restUrl: string };
    });

  it('refuses a non-loopback REST address without a token, saying how to set one', async () => {
    const refused = jobManager('open', 'rest.bind-address=0.0.0.0').then(
      () => 'started',
      (e: Error) => e.message,
    );
    const message = await refused;
    expect(message).toMatch(/exited \(1\) before it was ready/);
    expect(message).toMatch(/refusing to serve the REST API on 0\.0\.0\.0 without a token/);
    expect(message).toMatch(/security\.rest\.token/);
    expect(message).toMatch(/security\.rest\.allow-unauthenticated: true/);
  });

  it('starts on a non-loopback address with security.rest.allow-unauthenticated, or with a token file', async () => {
    const open = await jobManager('accepted', 'rest.bind-address=0.0.0.0', 'security.rest.allow-unauthenticated=true');
    expect((await fetch(`${open.restUrl}/overview`)).status).toBe(200);

    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const guarded = await jobManager(
      'token-file',
      'rest.bind-address=0.0.0.0',
      `security.rest.token-file=${tokenFile}`,
    );
    expect((await fetch(`${guarded.restUrl}/overview`)).status).toBe(401);
    expect((await fetch(`${guarded.restUrl}/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(
      200,
    );
  });
});

describe('REST over TLS', () => {
  let cluster: TestCluster | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'weir-rest-tls-'));
  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** GET over HTTPS trusting `ca`, with the token. */
  const httpsGetText = (url: string, ca: Buffer | string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      httpsGet(url, { ca, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      }).on('error', reject);
    });

  it('serves HTTPS with a self-signed CA: clients that do not trust it fail, the CLI with --ca (or NODE_EXTRA_CA_CERTS) succeeds', async () => {
    const ca = makeTestCa(dir);
    cluster = await startCluster({
      taskManagers: 1,
      slots: 1,
      token: TOKEN,
      config: {
        'security.ssl.rest.enabled': 'true',
        'security.ssl.rest.cert': ca.certFile,
        'security.ssl.rest.key': ca.keyFile,
      },
    });
    const url = cluster.restUrl;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const caPem = readFileSync(ca.caFile);

    // Not trusted: Node's fetch and the CLI without --ca.
    const failed = await fetch(`${url}/overview`).then(
      () => undefined,
      (e: { cause?: { code?: string } }) => e.cause?.code,
    );
    expect(failed).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    const untrusted = await weir(['list', '--jobmanager', url, '--token', TOKEN]);
    expect(untrusted.code).not.toBe(0);
    expect(stderrLines(untrusted)).toHaveLength(1);
    expect(untrusted.stderr).toMatch(/TLS certificate is not trusted .*--ca <file> or set WEIR_CA_FILE/);
    // Plain HTTP to the TLS port is no way around it.
    const plain = await weir(['list', '--jobmanager', url.replace('https:', 'http:'), '--token', TOKEN]);
    expect(plain.code).not.toBe(0);
    expect(stderrLines(plain)).toHaveLength(1);

    // Trusted: the UI and API over HTTPS with the CA.
    expect((await httpsGetText(`${url}/`, caPem)).text).toMatch(/<div id="app">/);
    const overview = await httpsGetText(`${url}/overview`, caPem);
    expect(overview.status).toBe(200);
    expect(JSON.parse(overview.text).taskmanagers).toBe(1);

    // The CLI uploads and runs with --ca, lists with WEIR_CA_FILE, cancels with NODE_EXTRA_CA_CERTS.
    const bundle = await cluster.bundle('examples/endless.ts');
    const run = await weir(['run', bundle, '--detached', '-p', '1', '--jobmanager', url, '--ca', ca.caFile], {
      WEIR_TOKEN: TOKEN,
    });
    expect(run.code, run.stderr).toBe(0);
    const jobId = /([0-9a-f]{32})/.exec(run.stdout)![1]!;
    const list = await weir(['list', '--jobmanager', url], { WEIR_TOKEN: TOKEN, WEIR_CA_FILE: ca.caFile });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(jobId);
    const cancel = await weir(['cancel', jobId, '--jobmanager', url], {
      WEIR_TOKEN: TOKEN,
      NODE_EXTRA_CA_CERTS: ca.caFile,
    });
    expect(cancel.code, cancel.stderr).toBe(0);
    const badCa = await weir(['list', '--jobmanager', url, '--ca', join(dir, 'missing.pem')], { WEIR_TOKEN: TOKEN });
    expect(stderrLines(badCa)).toEqual([
      expect.stringMatching(/^error: cannot read the CA file .*missing\.pem \(--ca \/ WEIR_CA_FILE\)/),
    ]);
  }, 90_000);
});
