// The JDBC sink against a real MariaDB and a real cluster: two running-count jobs (an upsert
// JdbcSink and an exactly-once XA JdbcSink with a plain INSERT) run side by side while
// TaskManagers are SIGKILLed three times; at the end the tables equal the reference computation
// exactly (the XA table has no unique key, so an equal row count proves nothing was written twice).
// Then bad input: a missing table and an unreachable server fail their jobs with clear messages.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type ProcessHandle, type TestCluster } from '../helpers/cluster.js';
import { mariaDbSkipReason, startMariaDb, type MariaDb } from '../helpers/mariadb.js';
import { freePort } from '../helpers/ports.js';
import { mulberry32 } from '../reference/random.js';
import { jdbcFinalCounts, jdbcUpdates, type JdbcCount } from '../jobs/jdbc-input.js';

const skipReason = mariaDbSkipReason();
const suite = skipReason === undefined ? describe : describe.skip;

const JOB = 'test/jobs/jdbc-counts.ts';
const EVENTS = 9000;
const RATE = 300;
const KILLS = 3;

const TABLE_COLUMNS = 'k INT NOT NULL, cnt BIGINT NOT NULL, total BIGINT NOT NULL, max_ts DATETIME(3) NOT NULL';

interface Row {
  k: number;
  cnt: number | string;
  total: number | string;
  max_ts: Date;
}

const asCount = (r: Row): JdbcCount => ({
  key: Number(r.k),
  count: Number(r.cnt),
  total: Number(r.total),
  maxTs: r.max_ts.getTime(),
});
const byKeyAndCount = (a: JdbcCount, b: JdbcCount) => a.key - b.key || a.count - b.count;

async function allRunning(c: TestCluster, jobId: string): Promise<boolean> {
  const j = await c.job(jobId);
  return j.state === 'RUNNING' && j.vertices.every((v: any) => v.status === 'RUNNING');
}

async function completedCheckpoints(c: TestCluster, jobId: string): Promise<number> {
  const cp = (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
  return Number(cp?.counts?.completed ?? 0);
}

async function rootException(c: TestCluster, jobId: string): Promise<string> {
  const ex = (await c.rest(`/jobs/${jobId}/exceptions`)).body;
  return String(ex['root-exception'] ?? '');
}

suite(
  `JdbcSink on MariaDB${skipReason ? ` (skipped: ${skipReason}; set WEIR_REQUIRE_SERVICES=1 to fail instead)` : ''}`,
  () => {
    let db: MariaDb | undefined;
    let cluster: TestCluster | undefined;

    beforeAll(async () => {
      // Both start at once; whichever started is stopped in afterAll even if the other failed.
      const started = await Promise.allSettled([
        startMariaDb().then((d) => (db = d)),
        startCluster({
          taskManagers: 2,
          slots: 2,
          config: { 'heartbeat.timeout': '3 s', 'state.checkpoints.num-retained': '3' },
        }).then((c) => (cluster = c)),
      ]);
      for (const r of started) if (r.status === 'rejected') throw r.reason;
      if (!db) throw new Error('MariaDB did not start');
      await db.query(`CREATE TABLE counts_upsert (${TABLE_COLUMNS}, PRIMARY KEY (k)) ENGINE=InnoDB`);
      // No key at all: a record written twice would be a second row.
      await db.query(`CREATE TABLE counts_xa (${TABLE_COLUMNS}) ENGINE=InnoDB`);
    }, 60_000);

    afterAll(async () => {
      // Both always stop, whatever failed.
      await Promise.allSettled([cluster?.stop(), db?.stop()]);
    }, 60_000);

    it('upserts (at least once) and XA inserts (exactly once) equal the reference after three TaskManager kills', async () => {
      const c = cluster!;
      const d = db!;
      const args = (mode: string, table: string) => [
        mode,
        d.jdbcUrl,
        d.user,
        d.password,
        table,
        String(EVENTS),
        String(RATE),
        '1000',
        'fixed',
      ];
      const upsertJob = await c.submit(JOB, args('upsert', 'counts_upsert'), 2);
      const xaJob = await c.submit(JOB, args('xa', 'counts_xa'), 2);
      const jobs = [upsertJob, xaJob];
      const live: ProcessHandle[] = [...c.taskManagers];
      const random = mulberry32(7);
      let sawPartialXa = false;
      for (let kills = 0; kills < KILLS; kills++) {
        // Kill only once both jobs run again and each completed a checkpoint since the last restart.
        for (const j of jobs) await c.waitFor(`job ${j} RUNNING`, () => allRunning(c, j), 60_000);
        const before = await Promise.all(jobs.map((j) => completedCheckpoints(c, j)));
        for (const [i, j] of jobs.entries())
          await c.waitFor(
            'a new completed checkpoint',
            async () => (await completedCheckpoints(c, j)) > before[i]!,
            30_000,
          );
        await new Promise((r) => setTimeout(r, 200 + Math.floor(random() * 800)));
        const states = await Promise.all(jobs.map((j) => c.job(j)));
        for (const s of states)
          expect(s.state, 'both jobs must still run when the next TaskManager is killed (raise EVENTS)').toBe(
            'RUNNING',
          );
        // Committed XA rows only ever grow by whole checkpoints: never more than the input.
        const [{ n }] = await d.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM counts_xa');
        if (Number(n) > 0 && Number(n) < EVENTS) sawPartialXa = true;
        expect(Number(n)).toBeLessThanOrEqual(EVENTS);
        const hosting = new Set(
          states.flatMap((s) => s.vertices.flatMap((v: any) => v.subtasks.map((st: any) => st['taskmanager-id']))),
        );
        const candidates = live.filter((p) => hosting.has(p.id));
        const victim = candidates[Math.floor(random() * candidates.length)]!;
        live.splice(live.indexOf(victim), 1);
        victim.proc.kill('SIGKILL');
        live.push(await c.addTaskManager(2));
      }
      for (const j of jobs) await c.waitForJob(j, ['FINISHED'], 120_000);
      let totalRestarts = 0;
      for (const j of jobs) {
        const restarts = (await c.rest(`/jobs/${j}/exceptions`)).body.exceptionHistory.entries.length;
        expect(restarts, `job ${j} restarts`).toBeGreaterThanOrEqual(1);
        totalRestarts += restarts;
      }
      // Every kill hit a TaskManager running tasks of at least one of the jobs.
      expect(totalRestarts).toBeGreaterThanOrEqual(KILLS);
      expect(sawPartialXa, 'the XA table showed committed checkpoints while the job ran').toBe(true);

      // Upsert: one row per key, holding the key's final count, sum and latest timestamp.
      const upserted = (await d.query<Row[]>('SELECT k, cnt, total, max_ts FROM counts_upsert ORDER BY k')).map(
        asCount,
      );
      expect(upserted).toEqual(jdbcFinalCounts(EVENTS));

      // XA: every update exactly once, nothing lost, nothing twice.
      const inserted = (await d.query<Row[]>('SELECT k, cnt, total, max_ts FROM counts_xa'))
        .map(asCount)
        .sort(byKeyAndCount);
      const expected = jdbcUpdates(EVENTS).sort(byKeyAndCount);
      expect(inserted.length).toBe(EVENTS);
      expect(inserted).toEqual(expected);
      // No prepared transaction is left behind: the restores rolled back what no checkpoint covered.
      expect(await d.query('XA RECOVER')).toEqual([]);
    }, 150_000);

    it('fails the job at once when the table does not exist, naming the table', async () => {
      const c = cluster!;
      const d = db!;
      // The TaskManagers' output since the submission (added TaskManagers included).
      const logs = () =>
        new Map(
          readdirSync(c.dir)
            .filter((f) => f.startsWith('taskmanager-') && f.endsWith('.out'))
            .map((f) => [f, readFileSync(join(c.dir, f), 'utf8')]),
        );
      const before = logs();
      const jobId = await c.submit(
        JOB,
        ['upsert', d.jdbcUrl, d.user, d.password, 'no_such_table', '1000', '1000', '1000', 'none'],
        1,
      );
      const j = await c.waitForJob(jobId, ['FAILED'], 30_000);
      expect(j.state).toBe('FAILED');
      const msg = await rootException(c, jobId);
      expect(msg).toContain("Table 'weir.no_such_table' doesn't exist");
      expect(msg).toContain("JdbcSink 'Sink: Counts (upsert)'");
      expect(msg).toContain(`127.0.0.1:${d.port}/weir`);
      // At once means without retries (and their backoff), whatever the machine's speed.
      expect(msg).not.toContain('retries');
      const ours = [...logs()].map(([f, text]) => text.slice(before.get(f)?.length ?? 0));
      expect(ours.join('\n')).not.toContain('writing a batch failed, retrying');
    }, 40_000);

    it('fails the job after the retries when the server is unreachable, with a clear message', async () => {
      const c = cluster!;
      const d = db!;
      const port = await freePort();
      const url = `jdbc:mysql://127.0.0.1:${port}/weir`;
      const jobId = await c.submit(
        JOB,
        ['upsert', url, d.user, d.password, 'counts_upsert', '1000', '1000', '1000', 'none', '2'],
        1,
      );
      const j = await c.waitForJob(jobId, ['FAILED'], 30_000);
      expect(j.state).toBe('FAILED');
      const msg = await rootException(c, jobId);
      expect(msg).toContain(
        `JdbcSink 'Sink: Counts (upsert)' could not connect to 127.0.0.1:${port}/weir after 2 retries`,
      );
      expect(msg).toContain('ECONNREFUSED');
      // The password never shows.
      expect(msg).not.toContain(d.password);
    }, 40_000);
  },
);
