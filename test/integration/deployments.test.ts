// Declarative deployments across real processes, through the `weir` CLI: apply creates, a second
// apply changes nothing, a parallelism change upgrades through a savepoint, suspend and resume, and
// a keyed running count through the exactly-once FileSink continues with no gap and no repeat;
// last-state and stateless upgrades; savepoint and restart nonces; failed versions rolled back with
// an alert; weir diff's output and exit codes; bad files refused with nothing changed; concurrent
// applies never run two jobs; a JobManager restart keeps deployments and their history. One
// cluster (JobManager high availability: file) serves every case.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { packageRoot } from '../../common/package-root.js';
import { startHaCluster, type HaCluster } from '../helpers/ha.js';
import { freePort } from '../helpers/ports.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { referenceCounts } from '../reference/counts.js';

const ROOT = packageRoot();
const WEIR = join(ROOT, 'bin', 'weir.js');
const JOB = join(ROOT, 'test/jobs/sp-count.ts');
const BROKEN = join(ROOT, 'test/jobs/sp-count-broken.ts');
const THROWS = join(ROOT, 'test/jobs/main-throws.ts');
const K = 20;
const HEX32 = '[0-9a-f]{32}';

let cluster: HaCluster;
let hook: Server;
const alerts: any[] = [];

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      alerts.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  cluster = await startHaCluster({
    taskManagers: 2,
    slots: 5,
    // A loaded machine (several suites at once) must not make TaskManagers give up on the JobManager.
    config: {
      'alerts.webhook.url': `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
      'deployment.rollback.window': '20 s',
      'heartbeat.timeout': '3 s',
    },
  });
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
  await new Promise((r) => hook?.close(r));
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function weir(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [WEIR, ...args, '--jobmanager', cluster.restUrl],
      { timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

/** Writes one WeirJob document (or several, `---` apart) to `<cluster dir>/<file>`. */
function manifest(file: string, ...docs: { name: string; spec: Record<string, unknown> }[]): string {
  const path = join(cluster.dir, file);
  writeFileSync(
    path,
    docs
      .map((d) => stringify({ apiVersion: 'weir/v1', kind: 'WeirJob', metadata: { name: d.name }, spec: d.spec }))
      .join('---\n'),
  );
  return path;
}

/** sp-count.ts: N records over K keys at `rate` per second, checkpoints every 300 ms. */
const countArgs = (out: string, n: number, rate: number) => [out, String(n), String(K), String(rate), '300'];

const deployment = async (name: string) => (await cluster.api.rest(`/deployments/${name}`)).body;

function jobIdIn(text: string, pattern: RegExp): string {
  const m = pattern.exec(text);
  if (!m) throw new Error(`${pattern} not found in: ${text}`);
  return m[1]!;
}

/** Creates deployment `name` of sp-count.ts (upgrade mode savepoint) writing to `<cluster dir>/<name>-out`. */
async function createCount(name: string, n: number, rate: number) {
  const out = join(cluster.dir, `${name}-out`);
  const spec = { bundle: JOB, args: countArgs(out, n, rate), parallelism: 1, upgradeMode: 'savepoint' };
  const file = manifest(`${name}.yaml`, { name, spec });
  const created = await weir('apply', '-f', file);
  const jobId = jobIdIn(created.stdout, new RegExp(`created: job (${HEX32})`));
  return { out, spec, file, jobId };
}

async function outputAtLeast(out: string, lines: number): Promise<void> {
  await cluster.api.waitFor(
    `${lines} committed lines in ${out}`,
    async () => readCommittedLines(out).length >= lines,
    60_000,
  );
}

describe.concurrent('weir apply reconciles jobs to their files', () => {
  it('creates, leaves an unchanged file alone, upgrades a parallelism change through a savepoint, suspends and resumes: the counts continue exactly', async () => {
    const out = join(cluster.dir, 'counts-out');
    const N = 9000;
    // Slow enough that the job is still running at every step on a loaded machine; the last version runs faster.
    const spec = {
      bundle: relative(cluster.dir, JOB),
      args: countArgs(out, N, 200),
      parallelism: 1,
      upgradeMode: 'savepoint',
    };
    const file = manifest('counts.yaml', { name: 'counts', spec });
    const created = await weir('apply', '-f', file);
    expect(created.code, created.stderr).toBe(0);
    const v1 = jobIdIn(created.stdout, new RegExp(`^weirjob/counts created: job (${HEX32}) \\(version 1\\)$`, 'm'));
    await cluster.api.waitForJob(v1, ['RUNNING']);

    const again = await weir('apply', '-f', file);
    expect(again.stdout.trim()).toBe(`weirjob/counts unchanged (job ${v1} RUNNING)`);
    const same = await weir('diff', '-f', file);
    expect([same.code, same.stdout]).toEqual([0, '']);
    // STABLE once the rollback window (20 s) passed, as it may have on a loaded machine.
    expect(await deployment('counts')).toMatchObject({
      jobId: v1,
      status: expect.stringMatching(/^(DEPLOYED|STABLE)$/),
      version: 1,
    });

    await outputAtLeast(out, 400);
    manifest('counts.yaml', { name: 'counts', spec: { ...spec, parallelism: 2 } });
    const diff = await weir('diff', '-f', file);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toBe(
      `weirjob/counts would be upgraded (savepoint: stop with a savepoint and start from it; job ${v1})\n  parallelism: 1 → 2\n`,
    );
    const upgraded = await weir('apply', '-f', file);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    const m = new RegExp(
      `^weirjob/counts upgraded: job ${v1} → job (${HEX32}) from savepoint (\\S+) \\(version 2\\)$`,
      'm',
    ).exec(upgraded.stdout);
    expect(m, upgraded.stdout).not.toBeNull();
    const [, v2, savepoint] = m!;
    expect(existsSync(join(savepoint!, '_metadata'))).toBe(true);
    expect((await cluster.api.job(v1)).state).toBe('FINISHED');
    const running = await cluster.api.waitForJob(v2!, ['RUNNING']);
    expect(running.vertices.map((v: { parallelism: number }) => v.parallelism)).toEqual([2, 2]);
    expect(running['restored-from']).toMatchObject({ path: savepoint, 'job-id': v1, 'is-savepoint': true });

    await outputAtLeast(out, 1500);
    manifest('counts.yaml', { name: 'counts', spec: { ...spec, parallelism: 2, state: 'suspended' } });
    const suspended = await weir('apply', '-f', file);
    expect(suspended.stdout).toMatch(
      new RegExp(`^weirjob/counts suspended: job ${v2} stopped with savepoint \\S+$`, 'm'),
    );
    expect(await deployment('counts')).toMatchObject({ status: 'SUSPENDED', state: 'suspended', jobState: 'FINISHED' });

    manifest('counts.yaml', { name: 'counts', spec: { ...spec, parallelism: 2, args: countArgs(out, N, 3000) } });
    const resumed = await weir('apply', '-f', file);
    const v4 = jobIdIn(
      resumed.stdout,
      new RegExp(`^weirjob/counts resumed: job (${HEX32}) from savepoint \\S+ \\(version 4\\)$`, 'm'),
    );
    await cluster.api.waitForJob(v4, ['FINISHED'], 90_000);
    // Four jobs, one count: every key exactly 1..n, no gap, no repeat.
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(N, K));
    const d = await deployment('counts');
    expect(d.history.map((v: any) => [v.version, v.action, v.jobId, v.changes.map((c: any) => c.text)])).toEqual([
      [1, 'created', v1, []],
      [2, 'upgraded', v2, ['parallelism: 1 → 2']],
      [3, 'suspended', v2, ['state: "running" → "suspended"']],
      [
        4,
        'resumed',
        v4,
        [
          `args: ${JSON.stringify(countArgs(out, N, 200))} → ${JSON.stringify(countArgs(out, N, 3000))}`,
          'state: "suspended" → "running"',
        ],
      ],
    ]);
    expect(d.history[1].restoredFrom).toBe(savepoint);
    expect(d.history[3].restoredFrom).toBe(d.history[2].savepoint);
  }, 150_000);

  it('last-state upgrades from the latest checkpoint (no savepoint), stateless starts without state', async () => {
    const lsOut = join(cluster.dir, 'ls-out');
    const slOut = join(cluster.dir, 'sl-out');
    const N = 4000;
    const ls = { bundle: JOB, args: countArgs(lsOut, N, 250), parallelism: 1, upgradeMode: 'last-state' };
    const sl = { bundle: JOB, args: countArgs(slOut, 1_000_000_000, 200), parallelism: 1, upgradeMode: 'stateless' };
    const file = manifest('modes.yaml', { name: 'ls', spec: ls }, { name: 'sl', spec: sl });
    const created = await weir('apply', '-f', file);
    expect(created.code, created.stderr).toBe(0);
    const lsJob = jobIdIn(created.stdout, new RegExp(`^weirjob/ls created: job (${HEX32})`, 'm'));
    const slJob = jobIdIn(created.stdout, new RegExp(`^weirjob/sl created: job (${HEX32})`, 'm'));
    await outputAtLeast(lsOut, 600);
    await outputAtLeast(slOut, 2 * K);

    manifest(
      'modes.yaml',
      { name: 'ls', spec: { ...ls, parallelism: 2 } },
      { name: 'sl', spec: { ...sl, parallelism: 2 } },
    );
    const upgraded = await weir('apply', '-f', file);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    const lsm = new RegExp(
      `^weirjob/ls upgraded: job ${lsJob} → job (${HEX32}) from checkpoint (\\S+/${lsJob}/chk-\\d+) \\(version 2\\)$`,
      'm',
    ).exec(upgraded.stdout);
    expect(lsm, upgraded.stdout).not.toBeNull();
    const slNew = jobIdIn(
      upgraded.stdout,
      new RegExp(`^weirjob/sl upgraded: job ${slJob} → job (${HEX32}) without state \\(version 2\\)$`, 'm'),
    );
    // last-state: the job was canceled (its checkpoints kept), no savepoint was taken.
    expect((await cluster.api.job(lsJob)).state).toBe('CANCELED');
    expect((await cluster.api.job(lsm![1]!))['restored-from']).toMatchObject({ path: lsm![2], 'is-savepoint': false });
    expect(existsSync(join(cluster.dir, 'checkpoints', 'deployment-savepoints', 'ls'))).toBe(false);
    // stateless: canceled, and the new job counts from 1 again.
    expect((await cluster.api.job(slJob)).state).toBe('CANCELED');
    expect((await cluster.api.job(slNew))['restored-from']).toBeNull();
    await cluster.api.waitFor(
      'the stateless job counting from 1 again',
      async () => readCommittedLines(slOut).filter((l) => l.endsWith(',1')).length > K,
      30_000,
    );

    await cluster.api.waitForJob(lsm![1]!, ['FINISHED'], 90_000);
    expect(finalCounts(readCommittedLines(lsOut))).toEqual(referenceCounts(N, K));
    const deleted = await cluster.api.rest('/deployments/sl', { method: 'DELETE' });
    expect(deleted.body).toMatchObject({ action: 'deleted', message: `deleted: job ${slNew} canceled` });
    await cluster.api.waitForJob(slNew, ['CANCELED']);
    expect((await cluster.api.rest('/deployments/sl')).status).toBe(404);
  }, 150_000);

  it('a version that fails at run time, and one whose main() throws, are rolled back from the same savepoint, with an alert; the counts continue exactly', async () => {
    // Long enough (35 s at 400/s) that the job is still running at the last apply on a loaded machine:
    // a job that has FINISHED by then is started over, not restored.
    const N = 14_000;
    const { out, spec, file, jobId: v1 } = await createCount('rb', N, 400);
    await outputAtLeast(out, 600);

    // Fails at its first record, restarts, fails again: rolled back within deployment.rollback.window.
    manifest('rb.yaml', { name: 'rb', spec: { ...spec, bundle: BROKEN } });
    const upgraded = await weir('apply', '-f', file);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    const broken = jobIdIn(upgraded.stdout, new RegExp(`upgraded: job ${v1} → job (${HEX32}) from savepoint`));
    const rolledBack = await cluster.api.waitFor(
      'the rollback',
      async () => {
        const d = await deployment('rb');
        return d.status === 'ROLLED_BACK' ? d : undefined;
      },
      40_000,
    );
    expect(rolledBack.cause).toMatch(
      new RegExp(`^job ${broken} (restarted 2 times within 20 s|FAILING|FAILED).*broken version: cannot count key`),
    );
    const [v2, v3] = rolledBack.history.slice(1);
    expect(v2).toMatchObject({ version: 2, action: 'upgraded', jobId: broken, outcome: 'ROLLED_BACK' });
    expect(v3).toMatchObject({
      version: 3,
      action: 'rolled-back',
      rollbackTo: 1,
      restoredFrom: v2.restoredFrom,
      previousJobId: broken,
      jobId: rolledBack.jobId,
      outcome: 'DEPLOYED',
    });
    expect(v3.changes.map((c: any) => c.field)).toEqual(['bundle']);
    expect((await cluster.api.job(broken)).state).toBe('CANCELED');
    expect((await cluster.api.waitForJob(rolledBack.jobId, ['RUNNING']))['restored-from']).toMatchObject({
      path: v2.restoredFrom,
      'job-id': v1,
    });
    await cluster.api.waitFor('the rollback alert', async () =>
      alerts.some((a) => a.type === 'deployment-alert' && a.deployment === 'rb'),
    );
    expect(alerts.find((a) => a.type === 'deployment-alert' && a.deployment === 'rb')).toMatchObject({
      status: 'ROLLED_BACK',
      fromVersion: 2,
      toVersion: 1,
      jobId: broken,
      rollbackJobId: rolledBack.jobId,
      jobManager: cluster.restUrl,
    });

    // The same broken file again: nothing is retried, and apply says so (non-zero: the spec does not run).
    const again = await weir('apply', '-f', file);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(
      /^weirjob\/rb unchanged \(job [0-9a-f]{32} RUNNING\): this spec was rolled back \(job .*\); change the spec to try again$/m,
    );

    // main() throws: the rollback happens within the apply, once the rolled-back job has made progress.
    await outputAtLeast(out, readCommittedLines(out).length + 200);
    manifest('rb.yaml', { name: 'rb', spec: { ...spec, bundle: THROWS } });
    const planned = await weir('apply', '-f', file);
    expect(planned.code).toBe(1);
    expect(planned.stdout).toMatch(
      new RegExp(
        `^weirjob/rb rolled back: version 4 failed \\(version 4 could not start: Job planning failed: job main\\(\\) threw: boom while building the pipeline\\); version 1 runs again as job (${HEX32}) from savepoint \\S+ \\(entry 5\\)$`,
        'm',
      ),
    );
    expect(planned.stderr).toBe('error: 1 of 1 deployment(s) did not reach their spec: rb\n');
    const d = await deployment('rb');
    expect(d).toMatchObject({ status: 'ROLLED_BACK', runningVersion: 1, version: 4 });
    expect(d.history[3]).toMatchObject({ version: 4, action: 'upgraded', outcome: 'ROLLED_BACK' });
    expect(d.history[3].jobId).toBeUndefined();
    await cluster.api.waitFor(
      'the second rollback alert',
      async () => alerts.filter((a) => a.type === 'deployment-alert' && a.deployment === 'rb').length === 2,
    );

    await cluster.api.waitForJob(d.jobId, ['FINISHED'], 90_000);
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(N, K));
  }, 150_000);

  it('a version after one whose job FINISHED is rolled back to that finished job, which does not run again: its results are not written twice', async () => {
    const N = 600;
    const { out, spec, file, jobId: v1 } = await createCount('fin', N, 3000);
    await cluster.api.waitForJob(v1, ['FINISHED'], 60_000);
    const results = readCommittedLines(out).sort();
    expect(finalCounts(results)).toEqual(referenceCounts(N, K));
    const finAlerts = () => alerts.filter((a) => a.type === 'deployment-alert' && a.deployment === 'fin');

    // main() throws: rolled back within the apply.
    manifest('fin.yaml', { name: 'fin', spec: { ...spec, bundle: THROWS } });
    const planned = await weir('apply', '-f', file);
    expect(planned.code).toBe(1);
    expect(planned.stdout).toMatch(
      new RegExp(
        `^weirjob/fin rolled back: version 2 failed \\(version 2 could not start: .*\\); version 1 had FINISHED as job ${v1} and is not run again \\(entry 3\\)$`,
        'm',
      ),
    );
    let d = await deployment('fin');
    expect(d).toMatchObject({ status: 'ROLLED_BACK', runningVersion: 1, jobId: v1 });
    expect(d.history[2]).toMatchObject({
      version: 3,
      action: 'rolled-back',
      rollbackTo: 1,
      jobId: v1,
      outcome: 'FINISHED',
    });
    await cluster.api.waitFor('the rollback alert', async () => finAlerts().length === 1);
    expect(finAlerts()[0]).toMatchObject({ status: 'ROLLED_BACK', fromVersion: 2, toVersion: 1, rollbackJobId: null });

    // A version that fails at run time: it starts over (its predecessor had finished), fails, and is
    // rolled back to the finished job too.
    manifest('fin.yaml', { name: 'fin', spec: { ...spec, bundle: BROKEN } });
    const upgraded = await weir('apply', '-f', file);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    const broken = jobIdIn(upgraded.stdout, new RegExp(`upgraded: job ${v1} → job (${HEX32}) without state`));
    d = await cluster.api.waitFor(
      'the second rollback',
      async () => {
        const r = await deployment('fin');
        return r.status === 'ROLLED_BACK' && r.history.length === 5 ? r : undefined;
      },
      40_000,
    );
    expect(d).toMatchObject({ runningVersion: 1, jobId: v1 });
    expect(d.history[3]).toMatchObject({ version: 4, action: 'upgraded', jobId: broken, outcome: 'ROLLED_BACK' });
    expect(d.history[4]).toMatchObject({
      version: 5,
      rollbackTo: 1,
      jobId: v1,
      previousJobId: broken,
      outcome: 'FINISHED',
    });
    await cluster.api.waitFor('the second rollback alert', async () => finAlerts().length === 2);
    expect(finAlerts()[1]).toMatchObject({ fromVersion: 4, toVersion: 1, jobId: broken, rollbackJobId: null });
    expect(readCommittedLines(out).sort()).toEqual(results);
  }, 120_000);

  it('savepointNonce takes a savepoint of the running job; restartNonce restarts it from a savepoint', async () => {
    const spec = {
      bundle: JOB,
      args: countArgs(join(cluster.dir, 'nonce-out'), 1_000_000_000, 100),
      upgradeMode: 'savepoint',
      savepointNonce: 0,
      restartNonce: 0,
    };
    const file = manifest('nonces.yaml', { name: 'nonces', spec });
    const v1 = jobIdIn((await weir('apply', '-f', file)).stdout, new RegExp(`created: job (${HEX32})`));
    await cluster.api.waitForJob(v1, ['RUNNING']);

    manifest('nonces.yaml', { name: 'nonces', spec: { ...spec, savepointNonce: 1 } });
    const sp = await weir('apply', '-f', file);
    const path = jobIdIn(sp.stdout, new RegExp(`^weirjob/nonces savepoint (\\S+) \\(job ${v1} keeps running\\)$`, 'm'));
    expect(readdirSync(path)).toContain('_metadata');
    expect((await cluster.api.job(v1)).state).toBe('RUNNING');
    expect((await deployment('nonces')).lastSavepoint).toMatchObject({ path, jobId: v1, reason: 'savepointNonce' });

    manifest('nonces.yaml', { name: 'nonces', spec: { ...spec, savepointNonce: 1, restartNonce: 1 } });
    const restarted = await weir('apply', '-f', file);
    const v2 = jobIdIn(
      restarted.stdout,
      new RegExp(`^weirjob/nonces restarted: job ${v1} → job (${HEX32}) from savepoint \\S+ \\(version 3\\)$`, 'm'),
    );
    await cluster.api.waitForJob(v2, ['RUNNING']);
    expect((await cluster.api.job(v1)).state).toBe('FINISHED');
  }, 90_000);
});

describe('weir diff and refused files', () => {
  it('diff exits 2 on a broken file and on an unreachable JobManager; 1 for a new deployment', async () => {
    const broken = join(cluster.dir, 'broken.yaml');
    writeFileSync(broken, 'apiVersion: weir/v1\nkind: WeirJob\nmetadata:\n  name: broken\nspec:\n  bundle: [\n');
    const r = await weir('diff', '-f', broken);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: ${broken}: document 1: invalid YAML: `));
    const created = await weir(
      'diff',
      '-f',
      manifest('new.yaml', { name: 'new-one', spec: { bundle: JOB, args: ['x'], parallelism: 3 } }),
    );
    expect(created.code).toBe(1);
    expect(created.stdout).toMatch(
      /^weirjob\/new-one would be created\n {2}bundle: \(unset\) → [0-9a-f]{12}\n {2}args: \(unset\) → \["x"\]\n {2}parallelism: \(job default\) → 3\n/,
    );
    const closed = `http://127.0.0.1:${await freePort()}`;
    const offline = await new Promise<Run>((resolve) =>
      execFile(
        process.execPath,
        [WEIR, 'diff', '-f', join(cluster.dir, 'new.yaml'), '--jobmanager', closed],
        (err, stdout, stderr) => resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr }),
      ),
    );
    expect(offline.code).toBe(2);
    expect(offline.stderr).toBe(`error: cannot reach the JobManager at ${closed}: connection refused\n`);
  });

  it('refuses every bad file before anything changes on the cluster', async () => {
    const snapshot = async () => ({
      deployments: (await cluster.api.rest('/deployments')).body.deployments.map((d: any) => [
        d.name,
        d.version,
        d.jobId,
      ]),
      jobs: (await cluster.api.rest('/jobs/overview')).body.jobs.length,
      jars: (await cluster.api.rest('/jars')).body.files.length,
    });
    const before = await snapshot();
    const good = { name: 'refused-good', spec: { bundle: JOB, args: ['x'] } };
    const cases: [string, string[]][] = [
      [
        manifest('bad-1.yaml', good, { name: 'Bad_Name', spec: { bundle: JOB } }),
        ['document 2 (Bad_Name): metadata.name: the string "Bad_Name" is not a valid name'],
      ],
      [
        manifest('bad-2.yaml', good, { name: 'typo', spec: { bundle: JOB, paralelism: 2, parallelism: 'two' } }),
        [
          'document 2 (typo): spec.paralelism: unknown field',
          'document 2 (typo): spec.parallelism: must be an integer, got the string "two"',
        ],
      ],
      [
        manifest('bad-3.yaml', good, { name: 'nobundle', spec: { args: [] } }),
        ['document 2 (nobundle): spec.bundle: required field is missing'],
      ],
      [
        manifest('bad-4.yaml', good, { name: 'missing', spec: { bundle: './nowhere.weir' } }),
        ['document 2 (missing): spec.bundle: bundle file not found: '],
      ],
      [
        manifest('bad-5.yaml', good, { name: 'cluster-key', spec: { bundle: JOB, config: { 'rest.port': 9999 } } }),
        [
          "document 2 (cluster-key): spec.config: these settings cannot be set per job (they belong to the cluster's processes): rest.port",
        ],
      ],
      [
        manifest('bad-6.yaml', good, {
          name: 'bad-duration',
          spec: { bundle: JOB, config: { 'execution.checkpointing.interval': 'often' } },
        }),
        ['document 2 (bad-duration): spec.config["execution.checkpointing.interval"]: configuration key'],
      ],
      [manifest('bad-7.yaml', good, good), ['document 2: metadata.name: refused-good is already defined by']],
    ];
    for (const [file, expected] of cases) {
      const r = await weir('apply', '-f', file);
      expect(r.code, `${file}: ${r.stdout}`).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(expected.length);
      expected.forEach((e, i) => expect(lines[i]!.startsWith(`error: ${file}: ${e}`), r.stderr).toBe(true));
    }
    // A directory: its good file is not applied either when another is bad.
    const dir = join(cluster.dir, 'bad-dir');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'a.yaml'),
      stringify({ apiVersion: 'weir/v1', kind: 'WeirJob', metadata: { name: 'dir-good' }, spec: { bundle: JOB } }),
    );
    writeFileSync(
      join(dir, 'b.yml'),
      stringify({ apiVersion: 'weir/v2', kind: 'WeirJob', metadata: { name: 'dir-bad' }, spec: { bundle: JOB } }),
    );
    const r = await weir('apply', '-f', dir);
    expect([r.code, r.stderr]).toEqual([
      1,
      `error: ${join(dir, 'b.yml')}: document 1 (dir-bad): apiVersion: must be "weir/v1", got the string "weir/v2"\n`,
    ]);
    expect(await snapshot()).toEqual(before);
  }, 90_000);
});

describe('one job per name, and a JobManager restart', () => {
  it('two applies of one name at once run one after the other, never two jobs', async () => {
    const spec = {
      bundle: JOB,
      args: countArgs(join(cluster.dir, 'race-out'), 1_000_000_000, 100),
      upgradeMode: 'savepoint',
      parallelism: 1,
    };
    const first = jobIdIn(
      (await weir('apply', '-f', manifest('race.yaml', { name: 'race', spec }))).stdout,
      new RegExp(`created: job (${HEX32})`),
    );
    await cluster.api.waitForJob(first, ['RUNNING']);
    const [a, b] = await Promise.all([
      weir('apply', '-f', manifest('race-2.yaml', { name: 'race', spec: { ...spec, parallelism: 2 } })),
      weir('apply', '-f', manifest('race-3.yaml', { name: 'race', spec: { ...spec, parallelism: 3 } })),
    ]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const d = await deployment('race');
    expect(d.history.map((v: any) => v.action)).toEqual(['created', 'upgraded', 'upgraded']);
    const live = (await cluster.api.rest('/jobs/overview')).body.jobs.filter(
      (j: any) =>
        d.history.some((v: any) => v.jobId === j.jid) && !['FINISHED', 'CANCELED', 'FAILED'].includes(j.state),
    );
    expect(live.map((j: any) => j.jid)).toEqual([d.jobId]);
    expect([2, 3]).toContain(d.parallelism);
    await cluster.api.waitForJob(d.jobId, ['RUNNING']);
  }, 90_000);

  it('deployments and their history survive a JobManager restart; the next apply continues from them', async () => {
    const before = await deployment('nonces');
    expect(before.jobState).toBe('RUNNING');
    // Started again at once: the TaskManagers' old tasks are told apart from the recovered job's (new
    // execution ids) and dropped when they meet the new JobManager.
    await cluster.killJobManager('SIGKILL');
    await cluster.startJobManager();
    const after = await cluster.api.waitFor(
      'the deployment after the restart',
      async () => {
        const d = await deployment('nonces');
        return d.jobState === 'RUNNING' ? d : undefined;
      },
      60_000,
    );
    // High availability recovered the job with the same id; the record points at it.
    expect(after.jobId).toBe(before.jobId);
    const versions = (d: any) =>
      d.history.map((v: any) => [v.version, v.time, v.action, v.jobId, v.restoredFrom, v.savepoint]);
    expect(versions(after)).toEqual(versions(before));
    const file = join(cluster.dir, 'nonces.yaml');
    const again = await weir('apply', '-f', file);
    expect(again.stdout.trim()).toBe(`weirjob/nonces unchanged (job ${before.jobId} RUNNING)`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('restartNonce: 1', 'restartNonce: 2'));
    const restarted = await weir('apply', '-f', file);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stdout).toMatch(
      new RegExp(
        `^weirjob/nonces restarted: job ${before.jobId} → job ${HEX32} from savepoint \\S+ \\(version 4\\)$`,
        'm',
      ),
    );
    expect((await deployment('nonces')).history).toHaveLength(4);
  }, 120_000);
});
