// The JobManager's store of ended jobs is bounded as Flink's job store: jobstore.expiration-time
// and jobstore.max-capacity, in memory and in LevelDB, checked on put and periodically.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Configuration } from '../../common/config.js';
import { silentLogger } from '../../common/logging.js';
import { JobArchive, jobStoreOptions, type ArchivedJob } from '../../jobmanager/job-archive.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
function storeDir(): string {
  const r = mkdtempSync(join(tmpdir(), 'weir-jobstore-'));
  roots.push(r);
  return join(r, 'store');
}

function job(n: number): ArchivedJob {
  const jid = n.toString(16).padStart(32, '0');
  return { jid, overview: { jid, state: 'FINISHED', 'end-time': 1000 + n }, details: {}, exceptions: {}, plan: {} };
}

const HOUR = 3_600_000;

describe('JobArchive expiry', () => {
  it('removes ended jobs older than the expiration time, from memory and from the store', async () => {
    const dir = storeDir();
    let now = 1_000_000;
    const removed: string[][] = [];
    const a = new JobArchive(dir, silentLogger(), { expirationMs: HOUR, now: () => now });
    a.onRemoved((ids) => removed.push(ids));
    await a.open();
    await a.put(job(1));
    now += 30 * 60_000;
    await a.put(job(2));
    expect(a.expire()).toEqual([]);
    now += 30 * 60_000; // job 1 is one hour old now
    expect(a.expire()).toEqual([job(1).jid]);
    expect(removed).toEqual([[job(1).jid]]);
    expect(a.get(job(1).jid)).toBeUndefined();
    expect(a.list().map((j) => j.jid)).toEqual([job(2).jid]);
    await a.close();

    // The store no longer has it either; job 2 expires while the JobManager is down.
    const b = new JobArchive(dir, silentLogger(), { expirationMs: HOUR, now: () => now });
    await b.open();
    expect(b.list().map((j) => j.jid)).toEqual([job(2).jid]);
    await b.close();
    now += 31 * 60_000;
    const c = new JobArchive(dir, silentLogger(), { expirationMs: HOUR, now: () => now });
    await c.open();
    expect(c.size).toBe(0);
    await c.close();
    const d = new JobArchive(dir, silentLogger(), { expirationMs: HOUR * 10, now: () => now });
    await d.open();
    expect(d.size).toBe(0);
    await d.close();
  });

  it('keeps at most max-capacity ended jobs, removing the oldest on put', async () => {
    const dir = storeDir();
    let now = 5_000;
    const removed: string[] = [];
    const a = new JobArchive(dir, silentLogger(), { maxCapacity: 2, now: () => now });
    a.onRemoved((ids) => removed.push(...ids));
    await a.open();
    for (const n of [1, 2, 3]) {
      now += 1000;
      await a.put(job(n));
    }
    expect(a.list().map((j) => j.jid)).toEqual([job(2).jid, job(3).jid]);
    expect(removed).toEqual([job(1).jid]);
    // Archiving a job again makes it the newest.
    now += 1000;
    await a.put(job(2));
    now += 1000;
    await a.put(job(4));
    expect(a.list().map((j) => j.jid)).toEqual([job(2).jid, job(4).jid]);
    await a.close();
    const b = new JobArchive(dir, silentLogger(), { maxCapacity: 10, now: () => now });
    await b.open();
    expect(
      b
        .list()
        .map((j) => j.jid)
        .sort(),
    ).toEqual([job(2).jid, job(4).jid].sort());
    await b.close();
  });

  it('checks periodically, without any put', async () => {
    let now = 0;
    const a = new JobArchive(storeDir(), silentLogger(), { expirationMs: 1000, now: () => now, checkIntervalMs: 10 });
    const removed: string[] = [];
    a.onRemoved((ids) => removed.push(...ids));
    await a.open();
    await a.put(job(7));
    now = 1000;
    const end = Date.now() + 3000;
    while (removed.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(removed).toEqual([job(7).jid]);
    await a.close();
  });

  it('reads jobstore.expiration-time as Flink does (plain seconds) or as a duration, and max-capacity as unbounded by default', () => {
    expect(jobStoreOptions(new Configuration())).toEqual({ expirationMs: HOUR });
    expect(jobStoreOptions(new Configuration({ 'jobstore.expiration-time': '600' })).expirationMs).toBe(600_000);
    expect(jobStoreOptions(new Configuration({ 'jobstore.expiration-time': '30 min' })).expirationMs).toBe(1_800_000);
    expect(
      jobStoreOptions(new Configuration({ 'jobstore.expiration-time': '1 h', 'jobstore.max-capacity': '2' })),
    ).toEqual({ expirationMs: HOUR, maxCapacity: 2 });
    expect(() => jobStoreOptions(new Configuration({ 'jobstore.expiration-time': '0' }))).toThrow(/positive/);
    expect(() => jobStoreOptions(new Configuration({ 'jobstore.max-capacity': '-1' }))).toThrow(/negative/);
  });
});
