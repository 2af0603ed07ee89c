// A data connection cut between two TaskManagers. One TaskManager announces its data server at a
// TCP proxy's port (taskmanager.data.port, bound at taskmanager.data.bind-port, as behind port
// forwarding), so every stream from it to the other TaskManager runs through the proxy. Cutting the
// proxy breaks those streams mid-run: the consuming tasks fail with the broken connection as cause,
// the job restarts from its latest checkpoint (failing again while the link stays down), and once
// the link is back it finishes with exactly the reference output.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAndWait, startCluster, startProcess, type ProcessHandle, type TestCluster } from '../helpers/cluster.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { freePort } from '../helpers/ports.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { referenceCounts } from '../reference/counts.js';

const CONFIG = {
  'heartbeat.interval': '250 ms',
  'heartbeat.timeout': '4 s',
  // A producer that stays unreachable fails its consumers' channel after 100 + 200 + ... + 1600 ms,
  // not 10 s; still long enough to wait out a producer's slot thread being replaced at a restart.
  'taskmanager.network.request-backoff.initial': '100 ms',
  'taskmanager.network.request-backoff.max': '2 s',
};

let cluster: TestCluster | undefined;
let proxied: ProcessHandle | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  if (proxied) await killAndWait(proxied.proc, 'SIGTERM', 8000);
  proxied = undefined;
  await proxy?.cut();
  proxy = undefined;
  await cluster?.stop();
  cluster = undefined;
});

describe('a cut data connection', () => {
  it('fails the job over with the broken connection as cause, and with the link back the output is exact', async () => {
    cluster = await startCluster({ taskManagers: 1, slots: 2, config: CONFIG });
    const c = cluster;
    const bindPort = await freePort();
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: bindPort });
    const defines = Object.entries({
      ...CONFIG,
      'taskmanager.data.bind-port': String(bindPort),
      'taskmanager.data.port': String(proxy.port),
    }).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
    proxied = (
      await startProcess(c.dir, 'taskmanager-proxied', [
        'taskmanager',
        '--jobmanager',
        c.rpcAddress,
        '--slots',
        '1',
        '--dir',
        join(c.dir, 'taskmanager-proxied'),
        ...defines,
      ])
    ).handle;
    const announced = `127.0.0.1:${proxy.port}`;
    const tms = (await c.rest('/taskmanagers')).body.taskmanagers;
    expect(tms).toHaveLength(2);

    const out = join(c.dir, 'counts');
    const count = 12_000;
    const keys = 40;
    const jobId = await c.submit('test/jobs/cp-count.ts', [out, String(count), String(keys), '1000', '-1', '300'], 2);
    await c.waitFor('the job running on both TaskManagers', async () => {
      const j = await c.job(jobId);
      const on = new Set(j.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s['taskmanager-id'])));
      return j.vertices.every((v: any) => v.status === 'RUNNING') && on.has(proxied!.id) && on.size === 2;
    });
    await c.waitFor(
      'two completed checkpoints',
      async () => (await c.rest(`/jobs/${jobId}/checkpoints`)).body.counts.completed >= 2,
      30_000,
    );
    // The other TaskManager reads the proxied one's partitions through the proxy, not around it.
    expect(proxy.accepted).toBeGreaterThan(0);

    await proxy.cut();
    const ex = await c.waitFor(
      'the failover',
      async () => {
        const body = (await c.rest(`/jobs/${jobId}/exceptions`)).body;
        return body.exceptionHistory.entries.length > 0 ? body : undefined;
      },
      20_000,
    );
    const first = ex.exceptionHistory.entries[0];
    // The cause names the broken channel: the producer behind the proxy and the lost connection.
    expect(first.stacktrace).toContain(announced);
    expect(first.stacktrace).toMatch(/connection|closed the stream/i);
    expect(first.stacktrace).toContain(proxied.id);
    // Restarts keep failing while the link is down: the proxy refuses the new connections.
    await c.waitFor(
      'a restart that failed on the cut link',
      async () => {
        const entries: { stacktrace: string }[] = (await c.rest(`/jobs/${jobId}/exceptions`)).body.exceptionHistory
          .entries;
        return entries
          .slice(1)
          .some((e) => e.stacktrace.includes(announced) && /ECONNREFUSED|No connection established/.test(e.stacktrace));
      },
      30_000,
    );
    expect((await c.job(jobId)).state).not.toBe('FAILED');

    await proxy.restore();
    const done = await c.waitForJob(jobId, ['FINISHED'], 60_000);
    expect(done.state).toBe('FINISHED');
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(count, keys));
    expect((await c.rest(`/jobs/${jobId}/checkpoints`)).body.counts.restored).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
