// JDBC sink descriptor for MySQL and MariaDB (Flink's JdbcSink): the SQL statement, how a record
// fills its parameters, when batches are written and where the database is. Connecting, batching,
// retrying and the XA transactions of the exactly-once variant happen in the TaskManager's
// connector runtime (taskmanager/connectors/jdbc-*.ts); this file does no I/O.
//
//   stream.addSink(JdbcSink.sink(
//     'INSERT INTO counts (k, n) VALUES (?, ?) ON DUPLICATE KEY UPDATE n = VALUES(n)',
//     (ps, r) => { ps.setString(1, r.key); ps.setLong(2, r.count); },
//     JdbcExecutionOptions.builder().withBatchSize(1000).withBatchIntervalMs(200).build(),
//     new JdbcConnectionOptions.JdbcConnectionOptionsBuilder().withUrl('jdbc:mysql://db:3306/app').withUsername('u').withPassword('p').build(),
//   ));
//
// Delivery: JdbcSink.sink writes every batch before a checkpoint barrier passes the sink (at least
// once; with an upsert statement replays after a failover are idempotent). JdbcSink.exactlyOnceSink
// writes each checkpoint's records in one XA transaction per subtask, prepared at the barrier and
// committed when the checkpoint completes (exactly once).
import type { JdbcSinkConfig } from '../common/jobgraph.js';

/** A value a statement parameter can take. */
export type JdbcValue = string | number | bigint | boolean | Date | Uint8Array | null;

/**
 * What a statement builder fills (a subset of JDBC's PreparedStatement). Parameter indices are
 * 1-based, as in JDBC.
 */
export interface JdbcPreparedStatement {
  setString(parameterIndex: number, x: string | null): void;
  setInt(parameterIndex: number, x: number | null): void;
  setShort(parameterIndex: number, x: number | null): void;
  setLong(parameterIndex: number, x: number | bigint | null): void;
  setDouble(parameterIndex: number, x: number | null): void;
  setFloat(parameterIndex: number, x: number | null): void;
  /** A DECIMAL value, best given as a string so no digit is lost. */
  setBigDecimal(parameterIndex: number, x: string | number | bigint | null): void;
  setBoolean(parameterIndex: number, x: boolean | null): void;
  /** A Date, or epoch milliseconds. */
  setTimestamp(parameterIndex: number, x: Date | number | null): void;
  /** A Date, epoch milliseconds, or 'YYYY-MM-DD'. */
  setDate(parameterIndex: number, x: Date | number | string | null): void;
  setBytes(parameterIndex: number, x: Uint8Array | null): void;
  /** SQL NULL; the type (a java.sql.Types code) is accepted for compatibility and not needed. */
  setNull(parameterIndex: number, sqlType?: number): void;
  /** Any JdbcValue; plain objects are written as JSON text. */
  setObject(parameterIndex: number, x: unknown): void;
  clearParameters(): void;
}

/**
 * Fills the statement's parameters from a record (Flink's JdbcStatementBuilder): either calls the
 * setters of `statement`, or returns the parameters as an array (in placeholder order).
 */
export type JdbcStatementBuilder<T> =
  | ((statement: JdbcPreparedStatement, record: T) => void | readonly unknown[])
  | { accept(statement: JdbcPreparedStatement, record: T): void | readonly unknown[] };

function checkInteger(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new RangeError(`${what} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

/** When batches are written (Flink's JdbcExecutionOptions). */
export class JdbcExecutionOptions {
  static readonly DEFAULT_BATCH_SIZE = 5000;
  static readonly DEFAULT_BATCH_INTERVAL_MS = 0;
  static readonly DEFAULT_MAX_RETRY_TIMES = 3;

  private constructor(
    /** Records after which a batch is written. */
    readonly batchSize: number,
    /** Milliseconds after which a non-empty batch is written anyway; 0 turns the timer off. */
    readonly batchIntervalMs: number,
    /** Retries of a batch that failed for a transient reason (a lost connection, a deadlock). */
    readonly maxRetries: number,
  ) {}

  /** @internal used by the builder only */
  static create(batchSize: number, batchIntervalMs: number, maxRetries: number): JdbcExecutionOptions {
    return new JdbcExecutionOptions(
      checkInteger(batchSize, 'JdbcExecutionOptions: the batch size', 1),
      checkInteger(batchIntervalMs, 'JdbcExecutionOptions: the batch interval (ms)', 0),
      checkInteger(maxRetries, 'JdbcExecutionOptions: the maximum number of retries', 0),
    );
  }

  static builder(): JdbcExecutionOptionsBuilder {
    return new JdbcExecutionOptionsBuilder();
  }

  static defaults(): JdbcExecutionOptions {
    return JdbcExecutionOptions.builder().build();
  }

  getBatchSize(): number {
    return this.batchSize;
  }

  getBatchIntervalMs(): number {
    return this.batchIntervalMs;
  }

  getMaxRetries(): number {
    return this.maxRetries;
  }
}

export class JdbcExecutionOptionsBuilder {
  private batchSize = JdbcExecutionOptions.DEFAULT_BATCH_SIZE;
  private batchIntervalMs = JdbcExecutionOptions.DEFAULT_BATCH_INTERVAL_MS;
  private maxRetries = JdbcExecutionOptions.DEFAULT_MAX_RETRY_TIMES;

  withBatchSize(size: number): this {
    this.batchSize = checkInteger(size, 'withBatchSize()', 1);
    return this;
  }

  withBatchIntervalMs(intervalMs: number): this {
    this.batchIntervalMs = checkInteger(intervalMs, 'withBatchIntervalMs()', 0);
    return this;
  }

  withMaxRetries(maxRetries: number): this {
    this.maxRetries = checkInteger(maxRetries, 'withMaxRetries()', 0);
    return this;
  }

  build(): JdbcExecutionOptions {
    return JdbcExecutionOptions.create(this.batchSize, this.batchIntervalMs, this.maxRetries);
  }
}

/** A parsed `jdbc:mysql://` or `jdbc:mariadb://` URL. */
export interface JdbcUrl {
  protocol: 'mysql' | 'mariadb';
  host: string;
  port: number;
  /** Empty when the URL names no database (statements then qualify their tables). */
  database: string;
  /** The `?key=value&...` properties, decoded. */
  properties: Record<string, string>;
}

const URL_SYNTAX = 'jdbc:mysql://host[:port]/database[?key=value&...] (or jdbc:mariadb://...)';
const DEFAULT_PORT = 3306;

/** Parses a MySQL/MariaDB JDBC URL; throws a RangeError naming what is wrong. */
export function parseJdbcUrl(url: string): JdbcUrl {
  if (typeof url !== 'string' || url.length === 0) throw new TypeError(`JDBC URL: expected ${URL_SYNTAX}`);
  const m = /^jdbc:(mysql|mariadb):\/\/([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(url.trim());
  if (!m) {
    if (/^jdbc:[a-z0-9]+:/i.test(url) && !/^jdbc:(mysql|mariadb):/i.test(url)) {
      throw new RangeError(
        `JDBC URL '${redactJdbcUrl(url)}': only MySQL and MariaDB are supported, expected ${URL_SYNTAX}`,
      );
    }
    throw new RangeError(`JDBC URL '${redactJdbcUrl(url)}' is malformed, expected ${URL_SYNTAX}`);
  }
  const protocol = m[1]!.toLowerCase() as 'mysql' | 'mariadb';
  let authority = m[2]!;
  if (authority.includes(','))
    throw new RangeError(
      `JDBC URL '${redactJdbcUrl(url)}': several hosts (failover or load-balancing URLs) are not supported`,
    );
  const properties: Record<string, string> = {};
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    // jdbc:mariadb://user:password@host/db
    const userInfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userInfo.indexOf(':');
    properties.user = decodeURIComponent(colon >= 0 ? userInfo.slice(0, colon) : userInfo);
    if (colon >= 0) properties.password = decodeURIComponent(userInfo.slice(colon + 1));
  }
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d*))?$/.exec(authority);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else {
    const colon = authority.indexOf(':');
    host = colon >= 0 ? authority.slice(0, colon) : authority;
    portText = colon >= 0 ? authority.slice(colon + 1) : undefined;
  }
  if (host.length === 0) host = 'localhost';
  if (!/^[A-Za-z0-9._:%-]+$/.test(host))
    throw new RangeError(`JDBC URL '${redactJdbcUrl(url)}': '${host}' is not a host name`);
  let port = DEFAULT_PORT;
  if (portText !== undefined && portText !== '') {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
      throw new RangeError(`JDBC URL '${redactJdbcUrl(url)}': port '${portText}' is not a port number (1-65535)`);
  }
  const database = decodeURIComponent(m[3] ?? '');
  if (database.includes('/'))
    throw new RangeError(`JDBC URL '${redactJdbcUrl(url)}': '${database}' is not a database name`);
  for (const pair of (m[4] ?? '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeURIComponent(eq >= 0 ? pair.slice(0, eq) : pair);
    const value = decodeURIComponent(eq >= 0 ? pair.slice(eq + 1) : '');
    if (key === '') throw new RangeError(`JDBC URL '${redactJdbcUrl(url)}': a property has no name`);
    properties[key] = value;
  }
  return { protocol, host, port, database, properties };
}

/** The URL with any password (in the user info or a `password` property) replaced by `***`. */
export function redactJdbcUrl(url: string): string {
  return String(url)
    .replace(/(\/\/[^/@?#:]*:)[^/@?#]*@/, '$1***@')
    .replace(/([?&](?:password|pwd)=)[^&#]*/gi, '$1***');
}

/** Driver class names a MySQL/MariaDB job may name (the TaskManager uses its own client either way). */
const KNOWN_DRIVERS = ['com.mysql.cj.jdbc.Driver', 'com.mysql.jdbc.Driver', 'org.mariadb.jdbc.Driver'];

export class JdbcConnectionOptionsBuilder {
  private url: string | undefined;
  private driverName: string | undefined;
  private username: string | undefined;
  private password: string | undefined;
  private connectionCheckTimeoutSeconds = JdbcConnectionOptions.DEFAULT_CONNECTION_CHECK_TIMEOUT_SECONDS;

  withUrl(url: string): this {
    parseJdbcUrl(url);
    this.url = url;
    return this;
  }

  /** Accepted for compatibility with Flink jobs: MySQL Connector/J and MariaDB Connector/J class names. */
  withDriverName(driverName: string): this {
    if (!KNOWN_DRIVERS.includes(driverName)) {
      throw new RangeError(
        `withDriverName(): only MySQL and MariaDB are supported (${KNOWN_DRIVERS.join(', ')}), got '${driverName}'`,
      );
    }
    this.driverName = driverName;
    return this;
  }

  withUsername(username: string): this {
    if (typeof username !== 'string') throw new TypeError('withUsername() needs a string');
    this.username = username;
    return this;
  }

  withPassword(password: string): this {
    if (typeof password !== 'string') throw new TypeError('withPassword() needs a string');
    this.password = password;
    return this;
  }

  /** How long connecting (and checking a connection) may take, in seconds (default 60). */
  withConnectionCheckTimeoutSeconds(seconds: number): this {
    this.connectionCheckTimeoutSeconds = checkInteger(seconds, 'withConnectionCheckTimeoutSeconds()', 1);
    return this;
  }

  build(): JdbcConnectionOptions {
    if (this.url === undefined) throw new Error('JdbcConnectionOptions: withUrl() is required');
    return JdbcConnectionOptions.create(
      this.url,
      this.driverName,
      this.username,
      this.password,
      this.connectionCheckTimeoutSeconds,
    );
  }
}

/** Where the database is and how to log in (Flink's JdbcConnectionOptions). */
export class JdbcConnectionOptions {
  static readonly DEFAULT_CONNECTION_CHECK_TIMEOUT_SECONDS = 60;
  /** `new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()`, as in Flink. */
  static readonly JdbcConnectionOptionsBuilder = JdbcConnectionOptionsBuilder;

  readonly parsedUrl: JdbcUrl;

  private constructor(
    readonly url: string,
    readonly driverName: string | undefined,
    readonly username: string | undefined,
    readonly password: string | undefined,
    readonly connectionCheckTimeoutSeconds: number,
  ) {
    this.parsedUrl = parseJdbcUrl(url);
  }

  /** @internal used by the builder only */
  static create(
    url: string,
    driverName: string | undefined,
    username: string | undefined,
    password: string | undefined,
    timeoutSeconds: number,
  ): JdbcConnectionOptions {
    return new JdbcConnectionOptions(url, driverName, username, password, timeoutSeconds);
  }

  static builder(): JdbcConnectionOptionsBuilder {
    return new JdbcConnectionOptionsBuilder();
  }

  getDbURL(): string {
    return this.url;
  }

  getDriverName(): string | undefined {
    return this.driverName;
  }

  getUsername(): string | undefined {
    return this.username;
  }

  getPassword(): string | undefined {
    return this.password;
  }

  getConnectionCheckTimeoutSeconds(): number {
    return this.connectionCheckTimeoutSeconds;
  }
}

/** Settings of the XA (exactly-once) sink (Flink's JdbcExactlyOnceOptions). */
export class JdbcExactlyOnceOptions {
  private constructor(
    /** At start, roll back this job's prepared transactions that no checkpoint recorded. */
    readonly recoveredAndRollback: boolean,
    /** Attempts to commit a prepared transaction before the task fails (a restore commits it again). */
    readonly maxCommitAttempts: number,
    /** Accepted for compatibility: commits here always happen in checkpoint order. */
    readonly allowOutOfOrderCommits: boolean,
    /**
     * Accepted for compatibility: MySQL and MariaDB need a connection per XA transaction (a
     * connection holding a prepared transaction cannot start another), so the sink always uses one.
     */
    readonly transactionPerConnection: boolean,
  ) {}

  /** @internal used by the builder only */
  static create(
    recoveredAndRollback: boolean,
    maxCommitAttempts: number,
    allowOutOfOrderCommits: boolean,
    transactionPerConnection: boolean,
  ): JdbcExactlyOnceOptions {
    return new JdbcExactlyOnceOptions(
      recoveredAndRollback,
      maxCommitAttempts,
      allowOutOfOrderCommits,
      transactionPerConnection,
    );
  }

  static builder(): JdbcExactlyOnceOptionsBuilder {
    return new JdbcExactlyOnceOptionsBuilder();
  }

  static defaults(): JdbcExactlyOnceOptions {
    return JdbcExactlyOnceOptions.builder().build();
  }
}

export class JdbcExactlyOnceOptionsBuilder {
  private recoveredAndRollback = true;
  private maxCommitAttempts = 3;
  private allowOutOfOrderCommits = false;
  private transactionPerConnection = true;

  withRecoveredAndRollback(recoveredAndRollback: boolean): this {
    this.recoveredAndRollback = Boolean(recoveredAndRollback);
    return this;
  }

  withMaxCommitAttempts(maxCommitAttempts: number): this {
    this.maxCommitAttempts = checkInteger(maxCommitAttempts, 'withMaxCommitAttempts()', 1);
    return this;
  }

  withAllowOutOfOrderCommits(allow: boolean): this {
    this.allowOutOfOrderCommits = Boolean(allow);
    return this;
  }

  withTransactionPerConnection(transactionPerConnection: boolean): this {
    this.transactionPerConnection = Boolean(transactionPerConnection);
    return this;
  }

  build(): JdbcExactlyOnceOptions {
    return JdbcExactlyOnceOptions.create(
      this.recoveredAndRollback,
      this.maxCommitAttempts,
      this.allowOutOfOrderCommits,
      this.transactionPerConnection,
    );
  }
}

/**
 * What JdbcSink.sink and JdbcSink.exactlyOnceSink return: give it to addSink() or sinkTo(). It
 * only describes the sink; the TaskManager runs it.
 */
export class JdbcSinkFunction<T> {
  declare private readonly __type?: T;

  private constructor(
    readonly sql: string,
    readonly statementBuilder: JdbcStatementBuilder<T>,
    readonly executionOptions: JdbcExecutionOptions,
    readonly connectionOptions: JdbcConnectionOptions,
    /** Set for the exactly-once (XA) sink. */
    readonly exactlyOnceOptions: JdbcExactlyOnceOptions | undefined,
  ) {}

  /** @internal used by JdbcSink only */
  static create<T>(
    sql: string,
    statementBuilder: JdbcStatementBuilder<T>,
    executionOptions: JdbcExecutionOptions,
    connectionOptions: JdbcConnectionOptions,
    exactlyOnceOptions: JdbcExactlyOnceOptions | undefined,
  ): JdbcSinkFunction<T> {
    return new JdbcSinkFunction<T>(sql, statementBuilder, executionOptions, connectionOptions, exactlyOnceOptions);
  }

  get exactlyOnce(): boolean {
    return this.exactlyOnceOptions !== undefined;
  }

  /** The operator's configuration in the JobGraph: no password, no user code. */
  describe(): JdbcSinkConfig {
    const { batchSize, batchIntervalMs, maxRetries } = this.executionOptions;
    return {
      sinkKind: 'jdbc',
      url: redactJdbcUrl(this.connectionOptions.url),
      sql: this.sql,
      deliveryGuarantee: this.exactlyOnce ? 'EXACTLY_ONCE' : 'AT_LEAST_ONCE',
      batchSize,
      batchIntervalMs,
      maxRetries,
    };
  }
}

function checkSql(sql: unknown, api: string): string {
  if (typeof sql !== 'string' || sql.trim().length === 0)
    throw new TypeError(`${api}: the first argument must be the SQL statement`);
  return sql;
}

function checkStatementBuilder(b: unknown, api: string): void {
  if (typeof b === 'function') return;
  if (b !== null && typeof b === 'object' && typeof (b as { accept?: unknown }).accept === 'function') return;
  throw new TypeError(
    `${api}: the statement builder must be a function (statement, record) => void, or an object with accept(statement, record)`,
  );
}

export class JdbcSink {
  private constructor() {}

  /**
   * An at-least-once sink: records are written in batches (when the batch is full, when the batch
   * interval elapses, at every checkpoint barrier and at the end of input). With an upsert
   * (INSERT ... ON DUPLICATE KEY UPDATE) replays after a failover are idempotent.
   */
  static sink<T>(
    sql: string,
    statementBuilder: JdbcStatementBuilder<T>,
    connectionOptions: JdbcConnectionOptions,
  ): JdbcSinkFunction<T>;
  static sink<T>(
    sql: string,
    statementBuilder: JdbcStatementBuilder<T>,
    executionOptions: JdbcExecutionOptions,
    connectionOptions: JdbcConnectionOptions,
  ): JdbcSinkFunction<T>;
  static sink<T>(
    sql: string,
    statementBuilder: JdbcStatementBuilder<T>,
    a: JdbcExecutionOptions | JdbcConnectionOptions,
    b?: JdbcConnectionOptions,
  ): JdbcSinkFunction<T> {
    const api = 'JdbcSink.sink()';
    checkSql(sql, api);
    checkStatementBuilder(statementBuilder, api);
    const executionOptions =
      a instanceof JdbcExecutionOptions ? a : b === undefined ? JdbcExecutionOptions.defaults() : undefined;
    const connectionOptions = a instanceof JdbcConnectionOptions ? a : b;
    if (!executionOptions)
      throw new TypeError(
        `${api}: the third argument must be JdbcExecutionOptions (JdbcExecutionOptions.builder()...build())`,
      );
    if (!(connectionOptions instanceof JdbcConnectionOptions)) {
      throw new TypeError(
        `${api}: the connection options must be JdbcConnectionOptions (new JdbcConnectionOptions.JdbcConnectionOptionsBuilder().withUrl(...).build())`,
      );
    }
    return JdbcSinkFunction.create(sql, statementBuilder, executionOptions, connectionOptions, undefined);
  }

  /**
   * An exactly-once sink with XA transactions: one per subtask and checkpoint, prepared at the
   * checkpoint barrier and committed when the checkpoint completes; a restore commits the
   * transactions its checkpoint recorded and rolls back the others. Needs periodic checkpoints,
   * and maxRetries 0 (a retried batch could be written twice).
   */
  static exactlyOnceSink<T>(
    sql: string,
    statementBuilder: JdbcStatementBuilder<T>,
    executionOptions: JdbcExecutionOptions,
    exactlyOnceOptions: JdbcExactlyOnceOptions,
    connectionOptions: JdbcConnectionOptions,
  ): JdbcSinkFunction<T> {
    const api = 'JdbcSink.exactlyOnceSink()';
    checkSql(sql, api);
    checkStatementBuilder(statementBuilder, api);
    if (!(executionOptions instanceof JdbcExecutionOptions))
      throw new TypeError(`${api}: the third argument must be JdbcExecutionOptions`);
    if (!(exactlyOnceOptions instanceof JdbcExactlyOnceOptions))
      throw new TypeError(
        `${api}: the fourth argument must be JdbcExactlyOnceOptions (JdbcExactlyOnceOptions.builder()...build())`,
      );
    if (!(connectionOptions instanceof JdbcConnectionOptions))
      throw new TypeError(`${api}: the fifth argument must be JdbcConnectionOptions`);
    if (executionOptions.maxRetries !== 0) {
      throw new RangeError(
        `${api} needs JdbcExecutionOptions with maxRetries 0 (withMaxRetries(0)): a batch retried inside an XA transaction could be written twice`,
      );
    }
    return JdbcSinkFunction.create(sql, statementBuilder, executionOptions, connectionOptions, exactlyOnceOptions);
  }
}
