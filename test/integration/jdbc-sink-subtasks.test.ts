// JdbcSink subtasks driven directly (as their tasks would drive them) against a real MariaDB: when
// batches reach the database, retries after a killed connection, errors that are not retried, and
// the XA protocol step by step: prepare at the barrier, commit on completion, and a restore after
// a crash that commits what its checkpoint recorded and rolls back what it did not.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  JdbcConnectionOptions,
  JdbcExactlyOnceOptions,
  JdbcExecutionOptions,
  JdbcSink,
  type JdbcSinkFunction,
} from '../../api/jdbc-sink.js';
import { FINAL_CHECKPOINT_ID } from '../../common/checkpoint.js';
import { mariaDbSkipReason, startJdbcSubtask, startMariaDb, type MariaDb } from '../helpers/mariadb.js';
import { ManualTime } from '../helpers/manual-time.js';

const skipReason = mariaDbSkipReason();
const suite = skipReason === undefined ? describe : describe.skip;

type Rec = { id: number; name: string | null };

const SINK_USER = 'sinkuser';
const SINK_PASSWORD = 'sink-pw-1';

suite(
  `JdbcSink subtasks on MariaDB${skipReason ? ` (skipped: ${skipReason}; set WEIR_REQUIRE_SERVICES=1 to fail instead)` : ''}`,
  () => {
    let db: MariaDb | undefined;

    beforeAll(async () => {
      db = await startMariaDb();
      // The sinks log in as their own user, so the test can kill their connections alone.
      await db.rootQuery(`CREATE USER '${SINK_USER}'@'127.0.0.1' IDENTIFIED BY '${SINK_PASSWORD}'`);
      await db.rootQuery(`GRANT ALL PRIVILEGES ON \`${db.database}\`.* TO '${SINK_USER}'@'127.0.0.1'`);
    }, 60_000);

    afterAll(async () => {
      await db?.stop();
    }, 30_000);

    beforeEach(async () => {
      const d = db!;
      // Earlier tests may leave prepared transactions on purpose; they must not hold locks on the next test's tables.
      for (const x of await d.rootQuery<
        { formatID: number; gtrid_length: number; bqual_length: number; data: Buffer }[]
      >('XA RECOVER')) {
        const g = x.data.subarray(0, x.gtrid_length).toString('hex');
        const b = x.data.subarray(x.gtrid_length).toString('hex');
        await d.rootQuery(`XA ROLLBACK X'${g}',X'${b}',${x.formatID}`);
      }
      await d.query('DROP TABLE IF EXISTS items');
      await d.query(
        'CREATE TABLE items (id INT NOT NULL, name VARCHAR(40) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
      );
    });

    const connection = () =>
      new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
        .withUrl(db!.jdbcUrl)
        .withUsername(SINK_USER)
        .withPassword(SINK_PASSWORD)
        .withConnectionCheckTimeoutSeconds(5)
        .build();
    const insert = 'INSERT INTO items (id, name) VALUES (?, ?)';
    const builder = (
      ps: { setInt(i: number, v: number): void; setString(i: number, v: string | null): void },
      r: Rec,
    ) => {
      ps.setInt(1, r.id);
      ps.setString(2, r.name);
    };
    const recs = (from: number, to: number): Rec[] =>
      Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, name: `item-${from + i}` }));
    const ids = async (): Promise<number[]> =>
      (await db!.query<{ id: number }[]>('SELECT id FROM items ORDER BY id')).map((r) => r.id);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    /** The id of the sink connection running an INSERT, once there is one. */
    const waitForSinkInsert = async (): Promise<{ id: number }> => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const rows = await db!.rootQuery<{ id: number; info: string | null }[]>(
          `SELECT id, info FROM information_schema.processlist WHERE user = '${SINK_USER}'`,
        );
        const r = rows.find((x) => x.info?.startsWith('INSERT'));
        if (r) return r;
        if (Date.now() > deadline) throw new Error('the sink never ran its INSERT');
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    const prepared = async (): Promise<number> => (await db!.rootQuery<unknown[]>('XA RECOVER')).length;

    describe('at least once', () => {
      const sink = (batchSize: number, intervalMs: number, retries = 3): JdbcSinkFunction<Rec> =>
        JdbcSink.sink(
          insert,
          builder,
          JdbcExecutionOptions.builder()
            .withBatchSize(batchSize)
            .withBatchIntervalMs(intervalMs)
            .withMaxRetries(retries)
            .build(),
          connection(),
        );

      it('writes a batch when it is full, when the interval elapses, at a checkpoint barrier and at the end of input', async () => {
        const time = new ManualTime();
        const s = await startJdbcSubtask(sink(3, 1000), { time });
        try {
          await s.write(...recs(1, 2));
          expect(await ids()).toEqual([]);
          await s.write(...recs(3, 3));
          expect(await ids()).toEqual(range(1, 3));
          await s.write(...recs(4, 4));
          time.advance(999);
          expect(await ids()).toEqual(range(1, 3));
          time.advance(1000);
          // The timer's write runs without a record waiting for it.
          await expect.poll(ids, { timeout: 5000 }).toEqual(range(1, 4));
          await s.write(...recs(5, 5));
          await s.checkpoint(1);
          expect(await ids()).toEqual(range(1, 5));
          await s.write(...recs(6, 7));
          await s.finish();
          expect(await ids()).toEqual(range(1, 7));
          expect(s.services.sinkRecords).toBe(7);
        } finally {
          await s.close();
        }
      });

      it('retries a batch on a new connection after the server killed the connection', async () => {
        const s = await startJdbcSubtask(sink(2, 0));
        try {
          await s.write(...recs(1, 2));
          const before = await db!.rootQuery<{ id: number }[]>(
            `SELECT id FROM information_schema.processlist WHERE user = '${SINK_USER}'`,
          );
          expect(before.length).toBe(1);
          await db!.rootQuery(`KILL CONNECTION ${before[0]!.id}`);
          await s.write(...recs(3, 4));
          expect(await ids()).toEqual(range(1, 4));
          const after = await db!.rootQuery<{ id: number }[]>(
            `SELECT id FROM information_schema.processlist WHERE user = '${SINK_USER}'`,
          );
          expect(after.map((r) => r.id)).not.toContain(before[0]!.id);
        } finally {
          await s.close();
        }
      });

      it('retries a batch on a new connection when the connection is killed in the middle of the write', async () => {
        await db!.query('ALTER TABLE items ADD PRIMARY KEY (id)');
        // Another transaction holds the key the batch needs, so the batch waits inside the server.
        const locker = await db!.connect();
        const s = await startJdbcSubtask(sink(4, 0));
        try {
          await locker.query('START TRANSACTION');
          await locker.query("INSERT INTO items (id, name) VALUES (3, 'locker')");
          const writing = s.write(...recs(1, 4));
          const victim = await waitForSinkInsert();
          await db!.rootQuery(`KILL CONNECTION ${victim!.id}`);
          await locker.query('ROLLBACK');
          await writing;
          expect(await ids()).toEqual(range(1, 4));
          expect(s.logs.filter((l) => l.msg.includes('writing a batch failed, retrying')).map((l) => l.retry)).toEqual([
            1,
          ]);
        } finally {
          await s.close();
          await locker.end();
        }
      });

      it("fails at once, with the server's message, on an error that is not transient", async () => {
        const s = await startJdbcSubtask(sink(2, 0), { name: 'Sink: Items' });
        try {
          await expect(s.write({ id: 1, name: 'a' }, { id: 2, name: null })).rejects.toThrow(
            /JdbcSink 'Sink: Items' could not write a batch of 2 records to 127\.0\.0\.1:\d+\/weir \(not retried: the error is not transient\): .*Column 'name' cannot be null/,
          );
          // At once means without a retry (and its backoff), whatever the machine's speed.
          expect(s.logs.filter((l) => l.msg.includes('retrying'))).toEqual([]);
          // A failed sink stays failed.
          expect(() => s.op.processElement({ id: 3, name: 'c' }, undefined)).toThrow(/cannot be null/);
        } finally {
          await s.close();
        }
      });

      it('writes quotes, backslashes and unicode exactly, also on a server in NO_BACKSLASH_ESCAPES mode', async () => {
        const tricky = ["it's", 'back\\slash', 'new\nline', "\\' OR 1=1 -- ", '"dq"', 'ünï😀', '?'];
        const [{ mode }] = await db!.rootQuery<{ mode: string }[]>('SELECT @@GLOBAL.sql_mode AS mode');
        for (const m of [mode, `${mode},NO_BACKSLASH_ESCAPES`]) {
          await db!.query('DELETE FROM items');
          await db!.rootQuery(`SET GLOBAL sql_mode = '${m}'`);
          try {
            const s = await startJdbcSubtask(sink(100, 0));
            try {
              await s.write(...tricky.map((name, id) => ({ id, name })));
              await s.finish();
            } finally {
              await s.close();
            }
          } finally {
            await db!.rootQuery(`SET GLOBAL sql_mode = '${mode}'`);
          }
          expect(
            (await db!.query<{ name: string }[]>('SELECT name FROM items ORDER BY id')).map((r) => r.name),
          ).toEqual(tricky);
        }
      });

      it('writes statements it cannot rewrite into one multi-row statement one row at a time, in a transaction', async () => {
        await db!.query('ALTER TABLE items ADD PRIMARY KEY (id)');
        const upsertAdd = 'INSERT INTO items (id, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = CONCAT(name, ?)';
        const s = await startJdbcSubtask(
          JdbcSink.sink<Rec>(
            upsertAdd,
            (_ps, r) => [r.id, r.name, '+'],
            JdbcExecutionOptions.builder().withBatchSize(3).build(),
            connection(),
          ),
        );
        try {
          await s.write({ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 1, name: 'x' });
          expect(await db!.query('SELECT id, name FROM items ORDER BY id')).toEqual([
            { id: 1, name: 'a+' },
            { id: 2, name: 'b' },
          ]);
        } finally {
          await s.close();
        }
      });
    });

    describe('exactly once (XA)', () => {
      const xaSink = (): JdbcSinkFunction<Rec> =>
        JdbcSink.exactlyOnceSink(
          insert,
          builder,
          JdbcExecutionOptions.builder().withBatchSize(2).withMaxRetries(0).build(),
          JdbcExactlyOnceOptions.builder().build(),
          connection(),
        );

      it('prepares at the barrier and commits when the checkpoint completes', async () => {
        const s = await startJdbcSubtask(xaSink());
        try {
          await s.write(...recs(1, 3));
          // Batches went into the open XA transaction: written, not visible.
          expect(await ids()).toEqual([]);
          const state = await s.checkpoint(1);
          expect(state.get('jdbc-xa-sink-state')!.items).toHaveLength(1);
          expect(await prepared()).toBe(1);
          expect(await ids()).toEqual([]);
          await s.write(...recs(4, 4));
          await s.complete(1);
          expect(await ids()).toEqual(range(1, 3));
          expect(await prepared()).toBe(0);
          // End of input: the final checkpoint prepares the rest, its completion commits it.
          await s.finish();
          await s.checkpoint(FINAL_CHECKPOINT_ID);
          expect(await ids()).toEqual(range(1, 3));
          await s.complete(FINAL_CHECKPOINT_ID);
          expect(await ids()).toEqual(range(1, 4));
        } finally {
          await s.close();
        }
      });

      it('after a crash, commits what the restored checkpoint recorded and rolls back the rest, subtask by subtask', async () => {
        const opts = (i: number, attempt: number) => ({
          subtaskIndex: i,
          parallelism: 2,
          attempt,
          jobId: 'b'.repeat(32),
        });
        const a0 = await startJdbcSubtask(xaSink(), opts(0, 0));
        const a1 = await startJdbcSubtask(xaSink(), opts(1, 0));
        let snapshots;
        try {
          await a0.write(...recs(1, 3));
          await a1.write(...recs(101, 102));
          // Checkpoint 1 completes everywhere, but the crash comes before any commit.
          snapshots = [await a0.checkpoint(1), await a1.checkpoint(1)];
          await a0.write(...recs(4, 5));
          await a1.write(...recs(103, 103));
          // Checkpoint 2 is prepared but never completes; then an open transaction.
          await a0.checkpoint(2);
          await a1.checkpoint(2);
          await a0.write(...recs(6, 7));
        } finally {
          // The crash: connections dropped. Open transactions vanish, prepared ones stay.
          await a0.close();
          await a1.close();
        }
        expect(await ids()).toEqual([]);
        await expect.poll(prepared, { timeout: 5000 }).toBe(4);

        // Subtask 0 restores alone first: it must touch nothing of subtask 1.
        const b0 = await startJdbcSubtask(xaSink(), { ...opts(0, 1), restoreFrom: snapshots });
        expect(await ids()).toEqual(range(1, 3));
        expect(await prepared()).toBe(2);
        expect(b0.logs.find((l) => l.msg.includes('rolled back prepared transactions'))?.transactions).toBe(1);
        const b1 = await startJdbcSubtask(xaSink(), { ...opts(1, 1), restoreFrom: snapshots });
        try {
          expect(await ids()).toEqual([...range(1, 3), 101, 102]);
          expect(await prepared()).toBe(0);
          // The replay after checkpoint 1 writes each record once more, and only once.
          await b0.write(...recs(4, 7));
          await b1.write(...recs(103, 103));
          await b0.checkpoint(2);
          await b1.checkpoint(2);
          await b0.complete(2);
          await b1.complete(2);
          expect(await ids()).toEqual([...range(1, 7), 101, 102, 103]);
        } finally {
          await b0.close();
          await b1.close();
        }
      });

      it('a restore whose transactions were already committed commits nothing twice', async () => {
        const a = await startJdbcSubtask(xaSink(), { attempt: 0 });
        let snapshot;
        try {
          await a.write(...recs(1, 2));
          snapshot = await a.checkpoint(1);
          await a.complete(1);
        } finally {
          await a.close();
        }
        const b = await startJdbcSubtask(xaSink(), { attempt: 1, restoreFrom: [snapshot] });
        try {
          expect(await ids()).toEqual(range(1, 2));
          expect(await prepared()).toBe(0);
          expect(b.logs.some((l) => l.msg.includes('a restored transaction was committed before the failure'))).toBe(
            true,
          );
        } finally {
          await b.close();
        }
      });

      it('a stop-with-savepoint commits when the savepoint completes; without periodic checkpoints the end of input commits', async () => {
        const s = await startJdbcSubtask(xaSink());
        try {
          await s.write(...recs(1, 3));
          await s.checkpoint(7, { savepoint: true, stop: true });
          expect(await ids()).toEqual([]);
          await s.complete(7);
          expect(await ids()).toEqual(range(1, 3));
        } finally {
          await s.close();
        }
        const t = await startJdbcSubtask(xaSink(), { checkpointing: false });
        try {
          await t.write(...recs(4, 6));
          expect(await ids()).toEqual(range(1, 3));
          await t.finish();
          expect(await ids()).toEqual(range(1, 6));
          expect(await prepared()).toBe(0);
        } finally {
          await t.close();
        }
      });
    });
  },
);
