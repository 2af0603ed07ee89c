// The pieces of JobManager high availability that need no processes: job records written durably
// and read back (damaged ones skipped, not fatal), the storage lock of `file` HA, the settings'
// checks, and checkpoint statistics carried from one JobManager to the next.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Configuration } from '../../common/config.js';
import { parseEtcdUrl } from '../../common/etcd-url.js';
import { silentLogger } from '../../common/logging.js';
import { CheckpointStatsTracker } from '../../jobmanager/checkpoint/checkpoint-stats.js';
import { FileJobStore } from '../../jobmanager/ha/file-job-store.js';
import { highAvailabilitySettings } from '../../jobmanager/ha/ha-settings.js';
import { JOB_RECORD_VERSION, type SubmittedJobRecord } from '../../jobmanager/ha/job-record.js';
import { StorageLock } from '../../jobmanager/ha/storage-lock.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
function tempDir(): string {
  const r = mkdtempSync(join(tmpdir(), 'weir-ha-unit-'));
  roots.push(r);
  return r;
}

function record(n: number, status: SubmittedJobRecord['status'] = 'RUNNING'): SubmittedJobRecord {
  return {
    version: JOB_RECORD_VERSION,
    jobId: n.toString(16).padStart(32, '0'),
    jobName: `job ${n}`,
    jarName: 'job.weir',
    bundleId: 'ab'.repeat(32),
    programArgs: ['--n', String(n)],
    parallelism: 2,
    startTime: 1000 + n,
    status,
    exceptionHistory: [],
    updatedAt: 0,
  };
}

describe('FileJobStore', () => {
  it('writes records durably, reads them back in start order, and removes them', async () => {
    const store = new FileJobStore(tempDir(), silentLogger());
    await store.open();
    await Promise.all([store.put(record(2)), store.put(record(1))]);
    // Writes of one job run in order: the last one wins.
    await Promise.all([
      store.put(record(3, 'RUNNING')),
      store.put(record(3, 'RESTARTING')),
      store.put(record(3, 'FAILING')),
    ]);
    const listed = await store.list();
    expect(listed.map((r) => r.jobName)).toEqual(['job 1', 'job 2', 'job 3']);
    expect(listed[2]!.status).toBe('FAILING');
    await store.remove(record(1).jobId);
    expect((await store.list()).map((r) => r.jobName)).toEqual(['job 2', 'job 3']);
    // No temporary file is left behind.
    expect(readdirSync(store.jobsDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('skips damaged records instead of failing, and leaves them for a person to look at', async () => {
    const store = new FileJobStore(tempDir(), silentLogger());
    await store.open();
    await store.put(record(1));
    const bad = join(store.jobsDir, `${'f'.repeat(32)}.json`);
    writeFileSync(bad, '{"version": 1, "jobId": "truncat');
    writeFileSync(
      join(store.jobsDir, `${'e'.repeat(32)}.json`),
      JSON.stringify({ ...record(5), jobId: 'd'.repeat(32) }),
    );
    writeFileSync(
      join(store.jobsDir, `${'c'.repeat(32)}.json`),
      JSON.stringify({ ...record(6), jobId: 'c'.repeat(32), bundleId: '../../etc/passwd' }),
    );
    expect((await store.list()).map((r) => r.jobName)).toEqual(['job 1']);
    expect(readdirSync(store.jobsDir)).toContain(`${'f'.repeat(32)}.json`);
  });

  it('keeps one copy of each bundle and drops those no record uses', async () => {
    const root = tempDir();
    const store = new FileJobStore(join(root, 'ha'), silentLogger());
    await store.open();
    const src = join(root, 'b.weir');
    writeFileSync(src, 'bundle bytes');
    await store.putBundle('ab'.repeat(32), src);
    await store.putBundle('ab'.repeat(32), src);
    await store.putBundle('cd'.repeat(32), src);
    await store.put(record(1));
    await store.collectBundles();
    expect(readdirSync(store.bundlesDir)).toEqual([`${'ab'.repeat(32)}.weir`]);
    expect(() => store.bundlePath('../x')).toThrow(/invalid bundle id/);
  });
});

describe('StorageLock', () => {
  it('lets one JobManager hold the directory and takes over a lock whose process is gone', async () => {
    const dir = tempDir();
    const lock = new StorageLock(dir);
    await lock.acquire();
    // Held by this (live) process under another pid's name: refused.
    writeFileSync(
      join(dir, 'jobmanager.lock'),
      JSON.stringify({ pid: process.ppid, hostname: (await import('node:os')).hostname() }),
    );
    await expect(new StorageLock(dir).acquire()).rejects.toThrow(/held by a running JobManager/);
    // Left by a process that is gone: taken over.
    writeFileSync(
      join(dir, 'jobmanager.lock'),
      JSON.stringify({ pid: 2 ** 22 + 12345, hostname: (await import('node:os')).hostname() }),
    );
    await new StorageLock(dir).acquire();
    await lock.release();
  });
});

describe('high-availability settings', () => {
  const settings = (conf: Record<string, string>) => highAvailabilitySettings(new Configuration(conf));
  it('are off by default and checked when on', () => {
    expect(settings({})).toBeUndefined();
    expect(() => settings({ 'high-availability.type': 'file' })).toThrow(/needs high-availability.storageDir/);
    expect(() =>
      settings({ 'high-availability.type': 'file', 'high-availability.storageDir': 'relative/dir' }),
    ).toThrow(/absolute/);
    expect(() => settings({ 'high-availability.type': 'etcd', 'high-availability.storageDir': '/tmp/x' })).toThrow(
      /etcd.endpoints/,
    );
    expect(() =>
      settings({
        'high-availability.type': 'file',
        'high-availability.storageDir': '/tmp/x',
        'high-availability.cluster-id': '../up',
      }),
    ).toThrow(/cluster-id/);
    const s = settings({
      'high-availability.type': 'etcd',
      'high-availability.storageDir': 'file:///srv/weir-ha',
      'high-availability.etcd.endpoints': 'http://a:2379, http://b:2379',
    })!;
    expect(s).toMatchObject({
      type: 'etcd',
      dir: '/srv/weir-ha/default',
      etcdEndpoints: ['http://a:2379', 'http://b:2379'],
      leaseTtlMs: 3000,
    });
  });

  it('etcd:// addresses name endpoints and, optionally, the cluster', () => {
    expect(parseEtcdUrl('etcd://h1:2379,h2:2379')).toEqual({ endpoints: ['http://h1:2379', 'http://h2:2379'] });
    expect(parseEtcdUrl('etcds://h1:2379/prod')).toEqual({ endpoints: ['https://h1:2379'], clusterId: 'prod' });
    expect(parseEtcdUrl('http://h1:8081')).toBeUndefined();
  });
});

describe('checkpoint statistics across a takeover', () => {
  it('continue where the previous JobManager left them; checkpoints in progress count as failed', () => {
    const a = new CheckpointStatsTracker(10);
    const done = a.reportPending(1, false, 100, 2);
    a.reportCompleted(done, 150, '/cp/chk-1');
    const failed = a.reportPending(2, false, 200, 2);
    a.reportFailed(failed, 260, 'declined');
    a.reportPending(3, false, 300, 2);
    const state = JSON.parse(JSON.stringify(a.exportState()));

    const b = new CheckpointStatsTracker(10);
    b.importState(state, 400);
    const s = b.snapshot(400);
    expect(s.counts).toEqual({ restored: 0, total: 3, in_progress: 0, completed: 1, failed: 2 });
    expect(s.latest.completed?.id).toBe(1);
    expect(s.history.map((h) => [h.id, h.status])).toEqual([
      [3, 'FAILED'],
      [2, 'FAILED'],
      [1, 'COMPLETED'],
    ]);
    expect(s.history[0]!.failure_message).toMatch(/JobManager .* went away/);
    // New checkpoints go on from there.
    b.reportCompleted(b.reportPending(4, false, 500, 2), 520, '/cp/chk-4');
    expect(b.snapshot(600).counts.completed).toBe(2);
    expect(b.snapshot(600).latest.completed?.id).toBe(4);
  });
});
