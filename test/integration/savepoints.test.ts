// Savepoints across real processes: a savepoint taken from a running job restores into a newer
// bundle at another parallelism with every key's count continuing; stop-with-savepoint and resume
// loses and repeats nothing; restores refuse state without a home unless asked to skip it.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { keyOf } from '../jobs/keyed-count.js';
import { tsOf, WINDOW_MS } from '../jobs/sp-windows.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { referenceCounts } from '../reference/counts.js';
import { disposeSavepoint, runFrom, savepoint, stopWithSavepoint, submitFrom } from '../helpers/savepoints.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

// The savepoint and stop-with-savepoint cases share one cluster, each in a folder of its own.
let shared: TestCluster | undefined;
afterAll(async () => {
  await shared?.stop();
  shared = undefined;
});
async function sharedCluster(folder: string): Promise<{ c: TestCluster; dir: string }> {
  shared ??= await startCluster({ taskManagers: 2, slots: 3 });
  const dir = join(shared.dir, folder);
  mkdirSync(dir, { recursive: true });
  return { c: shared, dir };
}

describe('savepoints', () => {
  it('savepoint, cancel, and version 2 at parallelism 3 continues every count; the added operator starts empty', async () => {
    const { c, dir } = await sharedCluster('v2');
    const out = join(dir, 'counts');
    const since = join(dir, 'since');
    const spDir = join(dir, 'savepoints');
    const N = 12_000;
    const K = 40;
    // No periodic checkpoints in version 1: one completing between the savepoint and the cancel
    // would commit output that version 2 produces again (savepoint-then-cancel is exact only without).
    const v1 = await c.submit('test/jobs/sp-count.ts', [out, String(N), String(K), '3000', '0'], 2);
    await c.waitFor('records read', async () => (await c.job(v1)).vertices[0].metrics['source-records'] > 1500, 30_000);
    const sp = await savepoint(c, v1, { 'target-directory': spDir });
    expect(sp.failure).toBeUndefined();
    expect(sp.location!.startsWith(join(spDir, `savepoint-${v1.slice(0, 6)}-`))).toBe(true);
    await c.rest(`/jobs/${v1}`, { method: 'PATCH' });
    await c.waitForJob(v1, ['CANCELED']);
    const cp = (await c.rest(`/jobs/${v1}/checkpoints`)).body;
    expect(cp.latest.savepoint).toMatchObject({ is_savepoint: true, external_path: sp.location, status: 'COMPLETED' });

    const v2 = await submitFrom(c, 'test/jobs/sp-count-v2.ts', [out, String(N), String(K), '3000', '300', '', since], {
      parallelism: 3,
      savepointPath: sp.location!,
    });
    const done = await c.waitForJob(v2, ['FINISHED'], 60_000);
    expect(done.vertices.every((v: { parallelism: number }) => v.parallelism === 3)).toBe(true);
    expect(done['restored-from']).toMatchObject({ path: sp.location, 'job-id': v1, 'is-savepoint': true });
    // Counts over both versions: every key exactly 1..N, no gap, no repeat.
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(N, K));
    // The added operator saw only what came after the savepoint, starting from 1.
    const sinceCounts = finalCounts(readCommittedLines(since));
    expect(sinceCounts.size).toBe(K);
    const restored = (await c.rest(`/jobs/${v2}/checkpoints`)).body.latest.restored;
    expect(restored).toMatchObject({ is_savepoint: true, external_path: sp.location });
    // Duration, size and the restore in Prometheus and in the JobManager log.
    const metrics = (await c.rest('/metrics')).body as string;
    expect(metrics).toMatch(new RegExp(`weir_job_last_savepoint_duration_ms\\{job_id="${v1}"[^}]*\\} \\d+`));
    expect(metrics).toMatch(new RegExp(`weir_job_last_savepoint_size_bytes\\{job_id="${v1}"[^}]*\\} [1-9]\\d*`));
    expect(metrics).toMatch(new RegExp(`weir_job_last_restore_timestamp_ms\\{job_id="${v2}"[^}]*\\} [1-9]`));
    const log = readFileSync(join(c.dir, 'jobmanager', 'jobmanager.log'), 'utf8');
    expect(log).toMatch(/"savepoint":true,"stateSize":\d+,"durationMs":\d+[^\n]*savepoint completed/);
    expect(log).toContain(`job submitted, restoring from savepoint ${sp.location}`);
  }, 120_000);
});

/** Window results "key,start,count" summed per (key, start); each window must fire once. */
function windowCounts(lines: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) {
    const [key, start, n] = l.split(',');
    const id = `${key},${start}`;
    if (m.has(id)) throw new Error(`window ${id} fired twice`);
    m.set(id, Number(n));
  }
  return m;
}

function referenceWindows(count: number, keys: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const id = `${keyOf(i, keys)},${Math.floor(tsOf(i) / WINDOW_MS) * WINDOW_MS}`;
    m.set(id, (m.get(id) ?? 0) + 1);
  }
  return m;
}

const sumOf = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('stop-with-savepoint', () => {
  it('stop then resume loses and repeats nothing (counts and event-time windows)', async () => {
    const { c, dir } = await sharedCluster('stop-resume');
    const counts = join(dir, 'counts');
    const windows = join(dir, 'windows');
    const N = 10_000;
    const K = 30;
    const a = await c.submit('test/jobs/sp-count.ts', [counts, String(N), String(K), '2500', '250'], 2);
    const w = await c.submit('test/jobs/sp-windows.ts', [windows, String(N), '5', '2500', '250'], 2);
    await c.waitFor(
      'output of both jobs',
      async () => readCommittedLines(counts).length > 1000 && readCommittedLines(windows).length > 10,
      30_000,
    );
    const [sa, sw] = await Promise.all([
      stopWithSavepoint(c, a, { targetDirectory: join(dir, 'sp') }),
      stopWithSavepoint(c, w, { targetDirectory: join(dir, 'sp') }),
    ]);
    expect(sa.failure).toBeUndefined();
    expect(sw.failure).toBeUndefined();
    expect((await c.job(a)).state).toBe('FINISHED');
    expect((await c.job(w)).state).toBe('FINISHED');
    // Not drained: the windows still open stay in the savepoint, unfired.
    const firedBefore = windowCounts(readCommittedLines(windows));
    expect(sumOf(firedBefore)).toBeLessThan(N);
    const a2 = await submitFrom(c, 'test/jobs/sp-count.ts', [counts, String(N), String(K), '5000', '250'], {
      parallelism: 1,
      savepointPath: sa.location!,
    });
    const w2 = await submitFrom(c, 'test/jobs/sp-windows.ts', [windows, String(N), '5', '5000', '250'], {
      parallelism: 2,
      savepointPath: sw.location!,
    });
    await c.waitForJob(a2, ['FINISHED'], 60_000);
    await c.waitForJob(w2, ['FINISHED'], 60_000);
    expect(finalCounts(readCommittedLines(counts))).toEqual(referenceCounts(N, K));
    expect(windowCounts(readCommittedLines(windows))).toEqual(referenceWindows(N, 5));
  }, 120_000);

  it('a job scaled up from a savepoint keeps checkpointing although a source subtask has nothing to read', async () => {
    const { c, dir } = await sharedCluster('scale-up');
    const out = join(dir, 'counts');
    const N = 60_000;
    const K = 20;
    const args = (rate: string) => [out, String(N), String(K), rate, '200'];
    const a = await c.submit('test/jobs/sp-count.ts', args('2000'), 1);
    await c.waitFor('output', async () => readCommittedLines(out).length > 500, 30_000);
    const sp1 = await stopWithSavepoint(c, a, { targetDirectory: join(dir, 'sp') });
    // One generator split for two subtasks: subtask 2 reaches its end at once and must not stall checkpoints.
    const b = await submitFrom(c, 'test/jobs/sp-count.ts', args('2000'), {
      parallelism: 2,
      savepointPath: sp1.location!,
    });
    const before = readCommittedLines(out).length;
    await c.waitFor(
      'checkpoints of the scaled-up job',
      async () => (await c.rest(`/jobs/${b}/checkpoints`)).body.counts.completed >= 3,
      30_000,
    );
    await c.waitFor('new output committed', async () => readCommittedLines(out).length > before + 300, 30_000);
    const sp2 = await stopWithSavepoint(c, b, { targetDirectory: join(dir, 'sp') });
    expect(sp2.failure).toBeUndefined();
    expect((await c.job(b)).state).toBe('FINISHED');
    const d = await submitFrom(c, 'test/jobs/sp-count.ts', args('20000'), {
      parallelism: 3,
      savepointPath: sp2.location!,
    });
    await c.waitForJob(d, ['FINISHED'], 60_000);
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(N, K));
  }, 120_000);

  it('--drain fires every window before the job finishes', async () => {
    const { c, dir } = await sharedCluster('drain');
    const windows = join(dir, 'windows');
    const w = await c.submit('test/jobs/sp-windows.ts', [windows, '1000000', '5', '3000', '250'], 2);
    await c.waitFor('some windows', async () => readCommittedLines(windows).length > 10, 30_000);
    const sw = await stopWithSavepoint(c, w, { targetDirectory: join(dir, 'sp'), drain: true });
    expect(sw.failure).toBeUndefined();
    const job = await c.job(w);
    expect(job.state).toBe('FINISHED');
    const emitted = job.vertices.reduce(
      (n: number, v: { metrics: Record<string, number> }) => n + v.metrics['source-records']!,
      0,
    );
    expect(emitted).toBeGreaterThan(0);
    // Every record the sources emitted is in a fired window: nothing was left open.
    expect(sumOf(windowCounts(readCommittedLines(windows)))).toBe(emitted);
  }, 90_000);
});

describe('restoring from a savepoint', () => {
  it('refuses state without a home (unless allowNonRestoredState) and a changed maxParallelism', async () => {
    cluster = await startCluster({ taskManagers: 1, slots: 2 });
    const c = cluster;
    const out = join(c.dir, 'counts');
    const since = join(c.dir, 'since');
    const a = await c.submit('test/jobs/sp-count.ts', [out, '100000000', '20', '2000', '0'], 1);
    await c.waitForJob(a, ['RUNNING']);
    await c.waitFor(
      'all tasks running',
      async () => (await c.job(a)).vertices.every((v: { status: string }) => v.status === 'RUNNING'),
      20_000,
    );
    // This job does not checkpoint periodically; savepoints still work and are counted.
    const sp = await stopWithSavepoint(c, a, { targetDirectory: join(c.dir, 'sp') });
    expect(sp.failure).toBeUndefined();
    const stats = (await c.rest(`/jobs/${a}/checkpoints`)).body;
    expect(stats.counts.completed).toBe(1);
    expect(stats.latest.savepoint.is_savepoint).toBe(true);
    expect((await c.rest(`/jobs/${a}/checkpoints/config`)).status).toBe(404);

    const args = (variant: string, maxParallelism = '') => [
      out,
      '100000000',
      '20',
      '2000',
      '0',
      maxParallelism,
      since,
      variant,
    ];
    const refused = await runFrom(c, 'test/jobs/sp-count-v2.ts', args('no-counter'), { savepointPath: sp.location! });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatch(
      /operator uid 'counter'.*not available in the new program.*allowNonRestoredState/,
    );
    const mp = await runFrom(c, 'test/jobs/sp-count-v2.ts', args('normal', '64'), { savepointPath: sp.location! });
    expect(mp.status).toBe(400);
    expect(mp.body.errors[0]).toMatch(/maximum parallelism \(64\).*uid 'counter'.*\(128\)/);
    expect((await c.rest('/overview')).body['jobs-running']).toBe(0);

    const ok = await submitFrom(c, 'test/jobs/sp-count-v2.ts', args('no-counter'), {
      savepointPath: sp.location!,
      allowNonRestoredState: true,
    });
    await c.waitForJob(ok, ['RUNNING']);
    const log = readFileSync(join(c.dir, 'jobmanager', 'jobmanager.log'), 'utf8');
    expect(log).toMatch(/state of an operator that is not in the new job is skipped/);
    await c.rest(`/jobs/${ok}`, { method: 'PATCH' });
    await c.waitForJob(ok, ['CANCELED']);
  }, 90_000);

  it("starts from a canceled job's retained checkpoint (Flink's -s chk-N)", async () => {
    cluster = await startCluster({
      taskManagers: 1,
      slots: 2,
      config: { 'execution.checkpointing.externalized-checkpoint-retention': 'RETAIN_ON_CANCELLATION' },
    });
    const c = cluster;
    const out = join(c.dir, 'counts');
    const N = 8000;
    const K = 20;
    const args = [out, String(N), String(K), '2500', '200'];
    const a = await c.submit('test/jobs/sp-count.ts', args, 2);
    await c.waitFor(
      'a checkpoint and output',
      async () =>
        (await c.rest(`/jobs/${a}/checkpoints`)).body.counts.completed >= 2 && readCommittedLines(out).length > 500,
      30_000,
    );
    await c.rest(`/jobs/${a}`, { method: 'PATCH' });
    await c.waitForJob(a, ['CANCELED']);
    const chk = (await c.rest(`/jobs/${a}/checkpoints`)).body.latest.completed.external_path as string;
    expect(chk).toMatch(/chk-\d+$/);
    const b = await submitFrom(c, 'test/jobs/sp-count.ts', args, { parallelism: 1, savepointPath: chk });
    const done = await c.waitForJob(b, ['FINISHED'], 60_000);
    expect(done['restored-from']).toMatchObject({ path: chk, 'job-id': a, 'is-savepoint': false });
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(N, K));
  }, 90_000);

  it('a moved savepoint restores, heap into level and level into heap', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'weir-sp-'));
    try {
      const out = join(shared, 'counts');
      const N = 9000;
      const K = 25;
      const args = (rate: string) => [out, String(N), String(K), rate, '200'];
      // Heap: run, stop with a savepoint.
      cluster = await startCluster({
        taskManagers: 2,
        slots: 2,
        config: {
          'state.backend': 'heap',
          'state.savepoints.dir': join(shared, 'sp'),
          'security.rest.allowed-dirs': shared,
        },
      });
      let c = cluster;
      const a = await c.submit('test/jobs/sp-count.ts', args('3000'), 2);
      await c.waitFor('some output', async () => readCommittedLines(out).length > 1000, 30_000);
      const sp1 = await stopWithSavepoint(c, a);
      expect(sp1.location!.startsWith(join(shared, 'sp'))).toBe(true);
      await c.stop();
      // Level, from the savepoint moved elsewhere; stop again.
      const moved = join(shared, 'moved', 'sp1');
      mkdirSync(dirname(moved), { recursive: true });
      renameSync(sp1.location!, moved);
      cluster = await startCluster({
        taskManagers: 2,
        slots: 2,
        config: {
          'state.backend': 'level',
          'state.savepoints.dir': join(shared, 'sp'),
          'security.rest.allowed-dirs': shared,
        },
      });
      c = cluster;
      const b = await submitFrom(c, 'test/jobs/sp-count.ts', args('3000'), { parallelism: 2, savepointPath: moved });
      const before = readCommittedLines(out).length;
      await c.waitFor('more output', async () => readCommittedLines(out).length > before + 1000, 30_000);
      const sp2 = await stopWithSavepoint(c, b);
      expect(sp2.failure).toBeUndefined();
      await c.stop();
      // Heap again, to the end.
      cluster = await startCluster({
        taskManagers: 1,
        slots: 2,
        config: { 'state.backend': 'heap', 'security.rest.allowed-dirs': shared },
      });
      c = cluster;
      const d = await submitFrom(c, 'test/jobs/sp-count.ts', args('10000'), {
        parallelism: 1,
        savepointPath: sp2.location!,
      });
      await c.waitForJob(d, ['FINISHED'], 60_000);
      expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(N, K));
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  }, 150_000);
});

describe('bad savepoints and requests', () => {
  it('gives clear errors for bad paths, damaged files, changed state types and bad requests; disposal deletes; the JobManager stays up', async () => {
    cluster = await startCluster({ taskManagers: 1, slots: 2 });
    const c = cluster;
    const out = join(c.dir, 'counts');
    const since = join(c.dir, 'since');
    const spDir = join(c.dir, 'sp');
    const args = [out, '100000000', '20', '2000', '300'];
    const a = await c.submit('test/jobs/sp-count.ts', args, 1);
    await c.waitFor('output', async () => readCommittedLines(out).length > 200, 30_000);

    // REST error paths.
    const post = (path: string, body: unknown) =>
      c.rest(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const unknown = '0123456789abcdef0123456789abcdef';
    expect((await post(`/jobs/${unknown}/savepoints`, { 'target-directory': spDir })).status).toBe(404);
    expect((await post('/jobs/not-a-job/savepoints', {})).status).toBe(400);
    const noDir = await post(`/jobs/${a}/savepoints`, {});
    expect(noDir.status).toBe(400);
    expect(noDir.body.errors[0]).toMatch(/state\.savepoints\.dir is not configured/);
    expect((await post(`/jobs/${a}/savepoints`, { 'target-directory': 'relative/dir' })).body.errors[0]).toMatch(
      /must be an absolute path/,
    );
    expect((await post(`/jobs/${a}/savepoints`, { 'target-directory': 7 })).status).toBe(400);
    expect((await post(`/jobs/${a}/stop`, { drain: 'yes' })).body.errors[0]).toMatch(/'drain' must be true or false/);
    expect((await post(`/jobs/${a}/savepoints`, '{not json')).status).toBe(400);
    expect((await c.rest(`/jobs/${a}/savepoints/ffffffffffffffffffffffffffffffff`)).status).toBe(404);
    expect((await c.rest('/savepoint-disposal/ffffffffffffffffffffffffffffffff')).status).toBe(404);

    const sp = await savepoint(c, a, { 'target-directory': spDir, 'cancel-job': true });
    expect(sp.failure).toBeUndefined();
    await c.waitForJob(a, ['CANCELED']);
    const ended = await post(`/jobs/${a}/savepoints`, { 'target-directory': spDir });
    expect(ended.status).toBe(409);
    expect(ended.body.errors[0]).toMatch(/is CANCELED, not running/);

    // Bad restore paths: each a 400 naming the problem, and nothing starts.
    const run = (path: string, extra: Record<string, unknown> = {}) =>
      runFrom(c, 'test/jobs/sp-count.ts', args, { savepointPath: path, ...extra });
    expect((await run(join(c.dir, 'nowhere'))).body.errors[0]).toMatch(/does not exist/);
    expect((await run(c.dir)).body.errors[0]).toMatch(/is not a savepoint or checkpoint: it has no _metadata/);
    expect((await run('relative/sp')).body.errors[0]).toMatch(/must be absolute/);
    const damaged = join(c.dir, 'damaged');
    cpSync(sp.location!, damaged, { recursive: true });
    const stateFile = readdirSync(damaged).find((f) => f.endsWith('.state'))!;
    truncateSync(join(damaged, stateFile), 5);
    const bad = await run(damaged);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatch(new RegExp(`${stateFile}: has 5 bytes, _metadata records \\d+`));
    // A byte changed in place: found by its sha256 (checked while the job's main() plans it).
    const flipped = join(c.dir, 'flipped');
    cpSync(sp.location!, flipped, { recursive: true });
    const bytes = readFileSync(join(flipped, stateFile));
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(join(flipped, stateFile), bytes);
    const mismatch = await run(flipped);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors[0]).toMatch(new RegExp(`${stateFile}: sha256 mismatch`));
    // The savepoint's _metadata path works as well as its directory.
    const viaMetadata = await run(join(sp.location!, '_metadata'));
    expect(viaMetadata.status).toBe(200);
    await c.rest(`/jobs/${viaMetadata.body.jobid}`, { method: 'PATCH' });
    await c.waitForJob(viaMetadata.body.jobid, ['CANCELED']);

    // A state declared differently under the same name fails the job, naming operator and state.
    const changed = await submitFrom(c, 'test/jobs/sp-count-v2.ts', [...args, '', since, 'list-state'], {
      savepointPath: sp.location!,
    });
    const failed = await c.waitFor(
      'the changed job to fail',
      async () => {
        const j = await c.job(changed);
        return j.state === 'FAILED' ? j : undefined;
      },
      30_000,
    );
    expect(failed.state).toBe('FAILED');
    const ex = (await c.rest(`/jobs/${changed}/exceptions`)).body['root-exception'] as string;
    expect(ex).toMatch(/Counter v2/);
    expect(ex).toMatch(/'count'/);
    expect(c.taskManagers.every((t) => t.proc.exitCode === null)).toBe(true);

    // Disposal: refuses what is not a savepoint, deletes a savepoint.
    const notSp = await disposeSavepoint(c, c.dir);
    expect(notSp.failure).toMatch(/is not a savepoint/);
    expect((await post('/savepoint-disposal', {})).status).toBe(400);
    const disposed = await disposeSavepoint(c, sp.location!);
    expect(disposed.failure).toBeUndefined();
    expect(existsSync(sp.location!)).toBe(false);
    expect((await c.rest('/overview')).status).toBe(200);
  }, 120_000);
});
