// JobManager high availability with etcd: two JobManagers elect a leader through an etcd lease;
// TaskManagers follow the leader through etcd; when the leader is SIGKILLed the standby takes over
// within the lease time and resumes the job (same id) from its latest checkpoint with exact output;
// the old leader, started again, stands by.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAndWait, startProcess, type ProcessHandle } from '../helpers/cluster.js';
import { etcdSkipReason, startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { restApi } from '../helpers/rest-api.js';
import { referenceCounts } from '../reference/counts.js';

const run = promisify(execFile);
const skip = etcdSkipReason();
let etcd: EtcdServer | undefined;
let dir = '';
const processes: ProcessHandle[] = [];

beforeAll(async () => {
  if (skip) return;
  etcd = await startEtcd();
  dir = mkdtempSync(join(tmpdir(), 'weir-ha-etcd-'));
});

afterAll(async () => {
  await Promise.all(processes.map((p) => killAndWait(p.proc, 'SIGKILL', 5000)));
  await etcd?.stop();
  if (dir && !process.env.WEIR_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
});

const TIMELINE =
  /elected|leadership lost|restor|checkpoint completed|job (RUNNING|RESTARTING|FINISHED|CANCELED)|FileSink|lost the JobManager|TaskManager registered/;

/** The JSON log lines of every process that tell how the job moved between leaders, in time order. */
function timeline(handles: ProcessHandle[]): string {
  const lines: Array<{ time: number; text: string }> = [];
  for (const h of handles) {
    for (const l of readFileSync(h.outFile, 'utf8').split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        const o = JSON.parse(l) as { time: number; msg: string };
        if (TIMELINE.test(o.msg)) lines.push({ time: o.time, text: `${h.name} ${l.slice(0, 400)}` });
      } catch {
        // not a log line
      }
    }
  }
  return lines
    .sort((a, b) => a.time - b.time)
    .map((l) => `${new Date(l.time).toISOString().slice(11, 23)} ${l.text}`)
    .join('\n');
}

const status = async (url: string) =>
  fetch(`${url}/overview`)
    .then((r) => r.status)
    .catch(() => 0);

describe.skipIf(!!skip)('JobManager high availability (etcd)', () => {
  it('a standby takes over within the lease time; the job resumes with exact output; the old leader stands by', async () => {
    const config = {
      'heartbeat.interval': '300 ms',
      'heartbeat.timeout': '2 s',
      'high-availability.type': 'etcd',
      'high-availability.etcd.endpoints': etcd!.endpoint,
      'high-availability.etcd.lease-ttl': '3 s',
      'high-availability.storageDir': join(dir, 'ha'),
      'state.checkpoints.dir': join(dir, 'checkpoints'),
    };
    const defines = Object.entries(config).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
    const startJm = async (name: string) => {
      const { handle, msg } = await startProcess(
        dir,
        name,
        ['jobmanager', '--port', '0', '--rpc-port', '0', '--dir', join(dir, name), ...defines],
        60_000,
      );
      processes.push(handle);
      return { handle, restUrl: msg.restUrl as string };
    };
    const a = await startJm('jobmanager-a');
    const b = await startJm('jobmanager-b');
    const etcdUrl = `etcd://${etcd!.endpoint.replace(/^http:\/\//, '')}`;
    for (let i = 0; i < 2; i++) {
      const { handle } = await startProcess(dir, `taskmanager-${i}`, [
        'taskmanager',
        '--jobmanager',
        etcdUrl,
        '--slots',
        '2',
        '--dir',
        join(dir, `taskmanager-${i}`),
        ...defines,
      ]);
      processes.push(handle);
    }
    // Exactly one leads; the other answers 503 and names the leader.
    const statuses = [await status(a.restUrl), await status(b.restUrl)];
    expect(statuses.sort()).toEqual([200, 503]);
    const [leader, standby] = (await status(a.restUrl)) === 200 ? [a, b] : [b, a];
    const refused = await fetch(`${standby.restUrl}/jobs/overview`);
    expect(refused.status).toBe(503);
    expect(JSON.stringify(await refused.json())).toContain(leader.restUrl);

    let current = leader.restUrl;
    const api = restApi(() => current, dir);
    await api.waitFor(
      'both TaskManagers registered with the leader',
      async () => (await api.rest('/overview')).body.taskmanagers === 2,
    );
    const out = join(dir, 'counts');
    const jobId = await api.submit('test/jobs/cp-count.ts', [out, '20000', '40', '1500', '-1', '1000'], 2);
    await api.waitFor(
      'two completed checkpoints',
      async () => ((await api.rest(`/jobs/${jobId}/checkpoints`)).body.counts?.completed ?? 0) >= 2,
    );

    const killedAt = Date.now();
    await killAndWait(leader.handle.proc, 'SIGKILL', 5000);
    current = standby.restUrl;
    await api.waitFor('the standby to lead', async () => (await status(standby.restUrl)) === 200, 15_000);
    const ledAfter = Date.now() - killedAt;
    await api.waitFor(
      'every task RUNNING on the new leader',
      async () => {
        const j = (await api.rest(`/jobs/${jobId}`)).body;
        return j.state === 'RUNNING' && j.vertices?.every((v: { status: string }) => v.status === 'RUNNING')
          ? j
          : undefined;
      },
      30_000,
    );
    const runningAfter = Date.now() - killedAt;
    // The lease is 3 s: the standby may lead only after it expired, and should not wait much longer.
    expect(ledAfter).toBeLessThan(10_000);
    expect(runningAfter).toBeLessThan(20_000);

    // The CLI finds the new leader through etcd.
    const listed = await run(process.execPath, ['bin/weir.js', 'list', '--jobmanager', etcdUrl]);
    expect(listed.stdout).toContain(jobId);

    // The old leader, started again, stands by.
    const again = await startJm('jobmanager-a2');
    expect(await status(again.restUrl)).toBe(503);

    // Fencing: a leader that hangs (SIGSTOP) past its lease is replaced; when it wakes up it stops at
    // once (exits) instead of acting beside the new leader.
    const hung = standby.handle.proc;
    const hungExit = new Promise<number | null>((r) => hung.once('exit', (code) => r(code)));
    hung.kill('SIGSTOP');
    current = again.restUrl;
    await api.waitFor('the restarted JobManager to lead', async () => (await status(again.restUrl)) === 200, 20_000);
    await api.waitFor(
      'the job RUNNING on the third leader',
      async () => (await api.job(jobId)).state === 'RUNNING',
      30_000,
    );
    hung.kill('SIGCONT');
    const code = await Promise.race([
      hungExit,
      new Promise<string>((r) => setTimeout(() => r('still running'), 10_000)),
    ]);
    expect(code).toBe(1);
    expect(readFileSync(standby.handle.outFile, 'utf8')).toMatch(/leadership lost/);

    const done = await api.waitForJob(jobId, ['FINISHED'], 90_000);
    expect(done.jid).toBe(jobId);
    let counts: Map<string, number>;
    try {
      counts = finalCounts(readCommittedLines(out));
    } catch (e) {
      // The order of leaderships, restores, completions and sink restores is what explains wrong output.
      throw new Error(`${(e as Error).message}\n${timeline(processes)}`, { cause: e });
    }
    expect(counts).toEqual(referenceCounts(20000, 40));
    const cp = (await api.rest(`/jobs/${jobId}/checkpoints`)).body;
    expect(cp.counts.restored).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
