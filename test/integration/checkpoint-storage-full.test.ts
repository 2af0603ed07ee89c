// A full, then read-only checkpoint directory across real processes: checkpoints fail with a
// reason naming the directory and the error, the job keeps running even though it tolerates no
// failed checkpoint, one `checkpoint-storage` alert reaches the webhook per episode, and
// checkpoints complete again by themselves once the directory is writable. The directory really
// refuses writes: see test/helpers/storage-faults.ts for how, as root or not.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { CheckpointStorageFaults, type StorageFault } from '../helpers/storage-faults.js';

let cluster: TestCluster | undefined;
let faults: CheckpointStorageFaults | undefined;
let server: Server | undefined;
afterEach(async () => {
  await cluster?.stop();
  faults?.cleanup();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  cluster = faults = server = undefined;
});

async function webhook(received: any[]): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

describe('checkpoint storage that cannot be written', () => {
  it('declines checkpoints, keeps the job running, alerts once per episode and recovers by itself', async () => {
    const received: any[] = [];
    const url = await webhook(received);
    faults = new CheckpointStorageFaults();
    const f = faults;
    console.log(`checkpoint storage faults by ${f.method}: ${f.codeOf('full')}, then ${f.codeOf('read-only')}`);
    cluster = await startCluster({
      taskManagers: 1,
      slots: 2,
      config: {
        'state.checkpoints.dir': f.root,
        'alerts.webhook.url': url,
        'execution.checkpointing.tolerable-failed-checkpoints': '0',
      },
    });
    const c = cluster;
    const jobId = await c.submit(
      'test/jobs/cpf-union.ts',
      [join(c.dir, 'counts'), '200', '1000', 'inf', '500', '20', '7', '300'],
      2,
    );
    const jobDir = join(f.root, jobId);
    const stats = async () => (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
    await c.waitFor('a completed checkpoint', async () => (await stats()).counts.completed >= 1, 30_000);

    for (const [episode, fault] of (['full', 'read-only'] as StorageFault[]).entries()) {
      const code = f.codeOf(fault);
      await f.break(fault, jobDir);
      const failedBefore = (await stats()).counts.failed;
      // What the statistics said last, for the message of a timeout.
      let seen = '';
      const failure = await c
        .waitFor(
          `a checkpoint failing with ${code}`,
          async () => {
            const s = await stats();
            const m: string | undefined = s.latest.failed?.failure_message;
            seen = JSON.stringify({ counts: s.counts, latestFailed: m ?? null });
            return s.counts.failed > failedBefore && m?.includes(code) ? m : undefined;
          },
          30_000,
        )
        .catch((e: Error) => {
          throw new Error(`${e.message} (failed before: ${failedBefore}; last seen: ${seen})`, { cause: e });
        });
      expect(failure).toContain(f.root);
      await c.waitFor('the storage alert', async () => received.length > episode || undefined, 10_000);
      // More checkpoints fail the same way, with no further alert and no failover.
      await c.waitFor(
        'three more failed checkpoints',
        async () => (await stats()).counts.failed >= failedBefore + 4,
        30_000,
      );
      expect(received).toHaveLength(episode + 1);
      expect(received[episode]).toMatchObject({
        type: 'checkpoint-storage',
        jobId,
        jobName: expect.any(String),
        error: code,
        jobManager: c.restUrl,
      });
      expect(received[episode].directory.startsWith(f.root)).toBe(true);
      expect(received[episode].cause).toContain(code);
      expect((await c.job(jobId)).state).toBe('RUNNING');

      f.fix();
      const completedBefore = (await stats()).counts.completed;
      await c.waitFor(
        'checkpoints completing again',
        async () => (await stats()).counts.completed >= completedBefore + 2,
        30_000,
      );
    }

    expect(received.map((a) => a.type)).toEqual(['checkpoint-storage', 'checkpoint-storage']);
    const ex = (await c.rest(`/jobs/${jobId}/exceptions`)).body;
    expect(ex['root-exception']).toBeFalsy();
    const log = (await c.rest('/jobmanager/log')).body as string;
    expect(log).toContain('checkpoint storage is writable again');
    await c.rest(`/jobs/${jobId}`, { method: 'PATCH' });
    await c.waitForJob(jobId, ['CANCELED'], 20_000);
  }, 150_000);
});
