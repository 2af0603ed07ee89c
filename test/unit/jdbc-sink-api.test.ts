// The JdbcSink API: URL parsing, option builders (Flink's defaults), argument checks, and the
// operator the graph gets (no password in it).
import { describe, expect, it } from 'vitest';
import {
  JdbcConnectionOptions,
  JdbcExactlyOnceOptions,
  JdbcExecutionOptions,
  JdbcSink,
  JdbcSinkFunction,
  parseJdbcUrl,
  redactJdbcUrl,
} from '../../api/jdbc-sink.js';
import { connectSettings } from '../../taskmanager/connectors/jdbc-connection.js';
import { buildGraph, opOfKind } from '../helpers/graph.js';

const conn = (url = 'jdbc:mysql://db:3306/app') =>
  new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
    .withUrl(url)
    .withUsername('u')
    .withPassword('secret')
    .build();

describe('parseJdbcUrl', () => {
  it('reads host, port, database and properties of mysql and mariadb URLs', () => {
    expect(parseJdbcUrl('jdbc:mysql://db.example.com:3307/shop?useSSL=false&connectTimeout=2000')).toEqual({
      protocol: 'mysql',
      host: 'db.example.com',
      port: 3307,
      database: 'shop',
      properties: { useSSL: 'false', connectTimeout: '2000' },
    });
    expect(parseJdbcUrl('jdbc:mariadb://127.0.0.1/weir')).toEqual({
      protocol: 'mariadb',
      host: '127.0.0.1',
      port: 3306,
      database: 'weir',
      properties: {},
    });
    expect(parseJdbcUrl('JDBC:MySQL://h')).toMatchObject({ protocol: 'mysql', host: 'h', port: 3306, database: '' });
    expect(parseJdbcUrl('jdbc:mysql://[::1]:3310/d')).toMatchObject({ host: '::1', port: 3310, database: 'd' });
    expect(parseJdbcUrl('jdbc:mariadb://bob:p%40ss@h:1/d?x')).toMatchObject({
      host: 'h',
      port: 1,
      properties: { user: 'bob', password: 'p@ss', x: '' },
    });
    expect(parseJdbcUrl('jdbc:mysql://h/my%20db?serverTimezone=UTC')).toMatchObject({
      database: 'my db',
      properties: { serverTimezone: 'UTC' },
    });
  });

  it('refuses other databases, several hosts, bad ports and malformed URLs', () => {
    expect(() => parseJdbcUrl('jdbc:postgresql://h/db')).toThrow(/only MySQL and MariaDB are supported/);
    expect(() => parseJdbcUrl('jdbc:mysql://h1,h2/db')).toThrow(/several hosts/);
    expect(() => parseJdbcUrl('jdbc:mysql://h:99999/db')).toThrow(/port '99999'/);
    expect(() => parseJdbcUrl('jdbc:mysql://h:x/db')).toThrow(/port 'x'/);
    expect(() => parseJdbcUrl('mysql://h/db')).toThrow(/malformed/);
    expect(() => parseJdbcUrl('jdbc:mysql://h/a/b')).toThrow(/not a database name/);
    expect(() => parseJdbcUrl('')).toThrow(TypeError);
  });

  it('redacts passwords in URLs', () => {
    expect(redactJdbcUrl('jdbc:mysql://bob:hunter2@h/db')).toBe('jdbc:mysql://bob:***@h/db');
    expect(redactJdbcUrl('jdbc:mysql://h/db?user=bob&password=hunter2&x=1')).toBe(
      'jdbc:mysql://h/db?user=bob&password=***&x=1',
    );
  });

  it('turns options into connect settings: credentials, timeouts, time zone', () => {
    const o = new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
      .withUrl('jdbc:mysql://h:3307/d?connectionTimeZone=UTC&characterEncoding=UTF-8')
      .withUsername('u')
      .withPassword('p')
      .withConnectionCheckTimeoutSeconds(7)
      .build();
    expect(connectSettings(o)).toMatchObject({
      host: 'h',
      port: 3307,
      database: 'd',
      user: 'u',
      password: 'p',
      connectTimeoutMs: 7000,
      timezone: 'Z',
      charset: 'UTF8MB4_GENERAL_CI',
      where: 'h:3307/d',
    });
    const fromUrl = new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
      .withUrl('jdbc:mariadb://a:b@h/d?connectTimeout=1500&serverTimezone=%2B02:00')
      .build();
    expect(connectSettings(fromUrl)).toMatchObject({
      user: 'a',
      password: 'b',
      connectTimeoutMs: 1500,
      timezone: '+02:00',
    });
    expect(connectSettings(conn()).timezone).toBeUndefined();
    expect(connectSettings(conn()).connectTimeoutMs).toBe(60_000);
  });
});

describe('options', () => {
  it("have Flink's defaults", () => {
    const e = JdbcExecutionOptions.defaults();
    expect([e.getBatchSize(), e.getBatchIntervalMs(), e.getMaxRetries()]).toEqual([5000, 0, 3]);
    const b = JdbcExecutionOptions.builder().withBatchSize(10).withBatchIntervalMs(200).withMaxRetries(0).build();
    expect([b.batchSize, b.batchIntervalMs, b.maxRetries]).toEqual([10, 200, 0]);
    expect(conn().getConnectionCheckTimeoutSeconds()).toBe(60);
    expect(JdbcExactlyOnceOptions.defaults()).toMatchObject({ recoveredAndRollback: true, maxCommitAttempts: 3 });
  });

  it('refuse nonsense', () => {
    expect(() => JdbcExecutionOptions.builder().withBatchSize(0)).toThrow(/withBatchSize/);
    expect(() => JdbcExecutionOptions.builder().withBatchIntervalMs(-1)).toThrow(/withBatchIntervalMs/);
    expect(() => JdbcExecutionOptions.builder().withMaxRetries(1.5)).toThrow(/withMaxRetries/);
    expect(() => new JdbcConnectionOptions.JdbcConnectionOptionsBuilder().build()).toThrow(/withUrl\(\) is required/);
    expect(() =>
      new JdbcConnectionOptions.JdbcConnectionOptionsBuilder().withDriverName('org.postgresql.Driver'),
    ).toThrow(/only MySQL and MariaDB/);
    expect(() =>
      new JdbcConnectionOptions.JdbcConnectionOptionsBuilder().withDriverName('com.mysql.cj.jdbc.Driver'),
    ).not.toThrow();
    expect(() => JdbcExactlyOnceOptions.builder().withMaxCommitAttempts(0)).toThrow(/withMaxCommitAttempts/);
  });
});

describe('JdbcSink', () => {
  const sql = 'INSERT INTO t (a) VALUES (?)';
  const fill = (ps: { setInt(i: number, v: number): void }, r: number) => ps.setInt(1, r);

  it('takes execution options or not (Flink overloads)', () => {
    expect(JdbcSink.sink(sql, fill, conn()).executionOptions.batchSize).toBe(5000);
    const s = JdbcSink.sink(sql, fill, JdbcExecutionOptions.builder().withBatchSize(7).build(), conn());
    expect(s).toBeInstanceOf(JdbcSinkFunction);
    expect(s.executionOptions.batchSize).toBe(7);
    expect(s.exactlyOnce).toBe(false);
    expect(JdbcSink.sink(sql, { accept: fill }, conn()).exactlyOnce).toBe(false);
  });

  it('checks its arguments where the job builds the sink', () => {
    expect(() => JdbcSink.sink('', fill, conn())).toThrow(/SQL statement/);
    expect(() => JdbcSink.sink(sql, 42 as never, conn())).toThrow(/statement builder/);
    expect(() => JdbcSink.sink(sql, fill, {} as never)).toThrow(/JdbcExecutionOptions|JdbcConnectionOptions/);
    expect(() =>
      JdbcSink.exactlyOnceSink(sql, fill, JdbcExecutionOptions.defaults(), JdbcExactlyOnceOptions.defaults(), conn()),
    ).toThrow(/maxRetries 0/);
    const xa = JdbcSink.exactlyOnceSink(
      sql,
      fill,
      JdbcExecutionOptions.builder().withMaxRetries(0).build(),
      JdbcExactlyOnceOptions.defaults(),
      conn(),
    );
    expect(xa.exactlyOnce).toBe(true);
  });

  it('becomes a jdbc sink operator through addSink and sinkTo, with no password in the graph', () => {
    const g = buildGraph((env) => {
      env
        .fromElements(1, 2, 3)
        .addSink(JdbcSink.sink(sql, fill, conn('jdbc:mysql://h/db?password=inurl')))
        .name('To MySQL');
    }, 1).jobGraph;
    const { op } = opOfKind(g, 'sink');
    expect(op.name).toBe('Sink: To MySQL');
    expect(op.config).toEqual({
      sinkKind: 'jdbc',
      url: 'jdbc:mysql://h/db?password=***',
      sql,
      deliveryGuarantee: 'AT_LEAST_ONCE',
      batchSize: 5000,
      batchIntervalMs: 0,
      maxRetries: 3,
    });
    expect(JSON.stringify(g)).not.toMatch(/secret|inurl/);
    const g2 = buildGraph((env) => {
      env
        .fromElements(1, 2, 3)
        .sinkTo(
          JdbcSink.exactlyOnceSink(
            sql,
            fill,
            JdbcExecutionOptions.builder().withMaxRetries(0).build(),
            JdbcExactlyOnceOptions.defaults(),
            conn(),
          ),
        );
    }, 1).jobGraph;
    expect(opOfKind(g2, 'sink').op.config).toMatchObject({ sinkKind: 'jdbc', deliveryGuarantee: 'EXACTLY_ONCE' });
  });
});
