// The JDBC sink's batching and failure handling against a scripted fake database: when batches
// are written, which errors are retried (on a new connection, with backoff) and which fail at
// once, and the XA statements in their order.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JdbcConnectionOptions, JdbcExactlyOnceOptions, JdbcExecutionOptions, JdbcSink } from '../../api/jdbc-sink.js';
import { jdbcDriver, connectMysql, type JdbcConnection } from '../../taskmanager/connectors/jdbc-connection.js';
import { isTransientSqlError } from '../../taskmanager/connectors/jdbc-errors.js';
import { startJdbcSubtask } from '../helpers/mariadb.js';
import { ManualTime } from '../helpers/manual-time.js';
import { waitFor } from '../helpers/eventually.js';

type Fault = (sql: string, conn: number) => unknown;

/** A database that records statements per connection and fails where the test says. */
class FakeDb {
  readonly statements: { conn: number; sql: string }[] = [];
  connects = 0;
  /** Consulted for every statement (and with sql 'CONNECT' for every connect); a returned error is thrown. */
  fault: Fault = () => undefined;
  /** XA RECOVER's answer. */
  prepared: { formatID: number; gtrid_length: number; bqual_length: number; data: Buffer }[] = [];

  connect = async (): Promise<JdbcConnection> => {
    const id = ++this.connects;
    const e = this.fault('CONNECT', id);
    if (e) throw e;
    let broken = false;
    const run = async (sql: string) => {
      if (broken)
        throw Object.assign(new Error("Can't add new command when connection is in closed state"), { fatal: true });
      this.statements.push({ conn: id, sql });
      const err = this.fault(sql, id) as { fatal?: boolean } | undefined;
      if (err) {
        if (err.fatal) broken = true;
        throw err;
      }
      return sql === 'XA RECOVER' ? this.prepared : { affectedRows: 1 };
    };
    return {
      query: async <R>(sql: string) => (await run(sql)) as R,
      execute: async (sql: string, params: unknown[]) => run(`${sql} -- ${JSON.stringify(params)}`),
      validate: async (sql: string) => void (await run(`PREPARE ${sql}`)),
      escape: (v: unknown) => (typeof v === 'string' ? `'${v}'` : String(v)),
      get broken() {
        return broken;
      },
      close: async () => void (broken = true),
      destroy: () => void (broken = true),
    };
  };

  sql(filter: RegExp = /./): string[] {
    return this.statements.map((s) => s.sql).filter((s) => filter.test(s));
  }
}

const lost = () =>
  Object.assign(new Error('Connection lost: The server closed the connection.'), {
    code: 'PROTOCOL_CONNECTION_LOST',
    fatal: true,
  });
const noTable = () =>
  Object.assign(new Error("Table 'db.t' doesn't exist"), {
    code: 'ER_NO_SUCH_TABLE',
    errno: 1146,
    sqlState: '42S02',
    sqlMessage: "Table 'db.t' doesn't exist",
  });

const connection = new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
  .withUrl('jdbc:mysql://fake:3306/db')
  .withUsername('u')
  .withPassword('p')
  .build();
const SQL = 'INSERT INTO t (a) VALUES (?)';
const sink = (batchSize: number, intervalMs = 0, retries = 3) =>
  JdbcSink.sink<number>(
    SQL,
    (ps, v) => ps.setInt(1, v),
    JdbcExecutionOptions.builder()
      .withBatchSize(batchSize)
      .withBatchIntervalMs(intervalMs)
      .withMaxRetries(retries)
      .build(),
    connection,
  );

let db: FakeDb;
beforeEach(() => {
  db = new FakeDb();
  jdbcDriver.connect = db.connect;
});
afterEach(() => {
  jdbcDriver.connect = connectMysql;
});

describe('batching', () => {
  it('writes one multi-row statement per batch: full batch, interval, barrier, end of input', async () => {
    const time = new ManualTime();
    const s = await startJdbcSubtask(sink(3, 500), { time });
    expect(db.sql()).toEqual([`PREPARE ${SQL}`]);
    await s.write(1, 2, 3, 4);
    expect(db.sql(/^INSERT/)).toEqual(['INSERT INTO t (a) VALUES (1), (2), (3)']);
    time.advance(499);
    await Promise.resolve();
    expect(db.sql(/^INSERT/)).toHaveLength(1);
    time.advance(500);
    await expect.poll(() => db.sql(/^INSERT/)).toHaveLength(2);
    expect(db.sql(/^INSERT/)[1]).toBe('INSERT INTO t (a) VALUES (4)');
    await s.write(5);
    await s.checkpoint(1);
    await s.write(6, 7);
    await s.finish();
    expect(db.sql(/^INSERT/).slice(2)).toEqual(['INSERT INTO t (a) VALUES (5)', 'INSERT INTO t (a) VALUES (6), (7)']);
    // The interval timer of record 5 was cancelled by the barrier's write: nothing more is written.
    time.advance(10_000);
    await Promise.resolve();
    expect(db.sql(/^INSERT/)).toHaveLength(4);
    expect(db.connects).toBe(1);
    await s.close();
  });

  it('keeps a row-by-row statement in one transaction per batch', async () => {
    const upd = 'UPDATE t SET a = ? WHERE b = ?';
    const s = await startJdbcSubtask(
      JdbcSink.sink<number>(
        upd,
        (_ps, v) => [v, v * 10],
        JdbcExecutionOptions.builder().withBatchSize(2).build(),
        connection,
      ),
    );
    await s.write(1, 2);
    expect(db.sql().slice(1)).toEqual(['START TRANSACTION', `${upd} -- [1,10]`, `${upd} -- [2,20]`, 'COMMIT']);
    await s.close();
  });
});

describe('failures', () => {
  it('retries a batch that lost its connection on a new connection, with backoff', async () => {
    let failures = 2;
    db.fault = (sql) => (sql.startsWith('INSERT') && failures-- > 0 ? lost() : undefined);
    const s = await startJdbcSubtask(sink(2));
    const t0 = Date.now();
    await s.write(1, 2);
    // 250 ms, then 500 ms.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect(db.statements.filter((x) => x.sql.startsWith('INSERT')).map((x) => x.conn)).toEqual([1, 2, 3]);
    expect(s.logs.filter((l) => l.level === 40).map((l) => [l.retry, l.delayMs])).toEqual([
      [1, 250],
      [2, 500],
    ]);
    await s.close();
  });

  it('fails after maxRetries with the last error, naming the operator and server', async () => {
    db.fault = (sql) => (sql.startsWith('INSERT') ? lost() : undefined);
    const s = await startJdbcSubtask(sink(2, 0, 1), { name: 'Sink: T' });
    await expect(s.write(1, 2)).rejects.toThrow(
      "JdbcSink 'Sink: T' could not write a batch of 2 records to fake:3306/db after 1 retry: PROTOCOL_CONNECTION_LOST: Connection lost: The server closed the connection.. SQL: INSERT INTO t (a) VALUES (?)",
    );
    expect(db.sql(/^INSERT/)).toHaveLength(2);
    // Later records and the barrier fail with the same error.
    expect(() => s.op.processElement(3, undefined)).toThrow(/after 1 retry/);
    await expect(s.checkpoint(1)).rejects.toThrow(/after 1 retry/);
    await s.close();
  });

  it('does not retry errors that are not transient', async () => {
    db.fault = (sql) => (sql.startsWith('INSERT') ? noTable() : undefined);
    const s = await startJdbcSubtask(sink(1));
    await expect(s.write(1)).rejects.toThrow(
      "could not write a batch of 1 record to fake:3306/db (not retried: the error is not transient): ER_NO_SUCH_TABLE (errno 1146, SQLSTATE 42S02): Table 'db.t' doesn't exist",
    );
    expect(db.sql(/^INSERT/)).toHaveLength(1);
    await s.close();
  });

  it('fails at open when the server refuses the statement, and after retries when it cannot connect', async () => {
    db.fault = (sql) => (sql.startsWith('PREPARE') ? noTable() : undefined);
    await expect(startJdbcSubtask(sink(1), { name: 'Sink: T' })).rejects.toThrow(
      "JdbcSink 'Sink: T': fake:3306/db refused the statement: ER_NO_SUCH_TABLE (errno 1146, SQLSTATE 42S02): Table 'db.t' doesn't exist. SQL: INSERT INTO t (a) VALUES (?)",
    );
    db.fault = (sql) =>
      sql === 'CONNECT'
        ? Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:3306'), {
            code: 'ECONNREFUSED',
            errno: -111,
            fatal: true,
          })
        : undefined;
    const before = db.connects;
    await expect(startJdbcSubtask(sink(1, 0, 2), { name: 'Sink: T' })).rejects.toThrow(
      "JdbcSink 'Sink: T' could not connect to fake:3306/db after 2 retries: connect ECONNREFUSED 10.0.0.1:3306",
    );
    expect(db.connects - before).toBe(3);
  });

  it('a failed interval write fails the task through its mailbox', async () => {
    const time = new ManualTime();
    const s = await startJdbcSubtask(sink(10, 100, 0), { time });
    db.fault = (sql) => (sql.startsWith('INSERT') ? noTable() : undefined);
    await s.write(1);
    time.advance(100);
    // The failed write reaches the mailbox asynchronously; advancing to the same time again only runs what is due.
    const failure = await waitFor(
      'the failed write to reach the mailbox',
      () => {
        try {
          time.advance(100);
          return undefined;
        } catch (e) {
          return e as Error;
        }
      },
      { timeoutMs: 5000 },
    );
    expect(failure?.message).toMatch(/doesn't exist/);
    await s.close();
  });

  it('classifies errors', () => {
    const t = (e: object) => isTransientSqlError(e);
    expect(t(lost())).toBe(true);
    expect(t({ code: 'ECONNREFUSED', errno: -111, fatal: true })).toBe(true);
    expect(t({ code: 'ER_LOCK_DEADLOCK', errno: 1213, sqlState: '40001' })).toBe(true);
    expect(t({ code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 })).toBe(true);
    expect(t({ code: 'ER_CONNECTION_KILLED', errno: 1927, sqlState: '70100' })).toBe(true);
    expect(t({ code: 'ER_CON_COUNT_ERROR', errno: 1040, sqlState: '08004' })).toBe(true);
    expect(t(noTable())).toBe(false);
    expect(t({ code: 'ER_PARSE_ERROR', errno: 1064, sqlState: '42000' })).toBe(false);
    expect(t({ code: 'ER_ACCESS_DENIED_ERROR', errno: 1045, sqlState: '28000', fatal: true })).toBe(false);
    expect(t({ code: 'ER_BAD_NULL_ERROR', errno: 1048, sqlState: '23000' })).toBe(false);
  });
});

describe('XA', () => {
  const xaSink = () =>
    JdbcSink.exactlyOnceSink<number>(
      SQL,
      (ps, v) => ps.setInt(1, v),
      JdbcExecutionOptions.builder().withBatchSize(2).withMaxRetries(0).build(),
      JdbcExactlyOnceOptions.defaults(),
      connection,
    );
  const xa = (s: string) =>
    s.replace(/X'[0-9a-f]+',X'([0-9a-f]+)',\d+/, (_m, b: string) => Buffer.from(b, 'hex').toString());

  it('starts a transaction with the first batch, prepares it at the barrier, commits it on completion', async () => {
    const s = await startJdbcSubtask(xaSink(), { attempt: 3 });
    const token = () => /0\.3\.([0-9a-f]{8})\.0/.exec(db.sql(/^XA START/).map(xa)[0]!)![1];
    await s.write(1, 2, 3);
    await s.checkpoint(1);
    await s.complete(1);
    const tk = token();
    expect(db.sql().map(xa)).toEqual([
      'XA RECOVER',
      `PREPARE ${SQL}`,
      `XA START 0.3.${tk}.0`,
      'INSERT INTO t (a) VALUES (1), (2)',
      'INSERT INTO t (a) VALUES (3)',
      `XA END 0.3.${tk}.0`,
      `XA PREPARE 0.3.${tk}.0`,
      `XA COMMIT 0.3.${tk}.0`,
    ]);
    // No records, no transaction.
    await s.checkpoint(2);
    await s.complete(2);
    expect(db.sql()).toHaveLength(8);
    await s.close();
  });

  it('commits on another connection when the owner lost its connection, and takes XAER_NOTA for "already committed" once XA RECOVER no longer lists it', async () => {
    const s = await startJdbcSubtask(xaSink());
    await s.write(1, 2);
    await s.checkpoint(1);
    const owner = db.statements.find((x) => x.sql.startsWith('XA PREPARE'))!.conn;
    let n = 0;
    db.fault = (sql, conn) => {
      if (!sql.startsWith('XA COMMIT')) return undefined;
      n++;
      if (conn === owner) return lost();
      return Object.assign(new Error('XAER_NOTA: Unknown XID'), { code: 'ER_XAER_NOTA', errno: 1397 });
    };
    await s.complete(1);
    expect(n).toBe(2);
    const commits = db.statements.filter((x) => x.sql.startsWith('XA COMMIT') || x.sql === 'XA RECOVER').slice(1);
    expect(commits.map((c) => c.sql.split(' ').slice(0, 2).join(' '))).toEqual([
      'XA COMMIT',
      'XA COMMIT',
      'XA RECOVER',
    ]);
    expect(commits[0]!.conn).toBe(owner);
    expect(commits[1]!.conn).not.toBe(owner);
    await s.close();
  });
});
