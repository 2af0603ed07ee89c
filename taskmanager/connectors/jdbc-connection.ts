// Connections of the JDBC sink: a small interface over mysql2 (loaded only when a job uses the
// sink), the connect settings taken from the JdbcConnectionOptions, and the retry loop with backoff.
import type { JdbcConnectionOptions, JdbcUrl } from '../../api/jdbc-sink.js';
import { breaksConnection, describeSqlError, isTransientSqlError } from './jdbc-errors.js';

/** What the sink needs of a connection. */
export interface JdbcConnection {
  /** Runs a text-protocol statement; resolves to its rows (or the OK packet). */
  query<R = unknown>(sql: string): Promise<R>;
  /** Runs a server-side prepared statement with parameters. */
  execute(sql: string, params: unknown[]): Promise<unknown>;
  /** Prepares `sql` on the server and drops it again: the server checks syntax, tables and columns. */
  validate(sql: string): Promise<void>;
  /** A value as a SQL literal, escaped the way this connection's server expects. */
  escape(value: unknown): string;
  /** Set once the connection broke (an error event, a fatal error): it must not be used again. */
  readonly broken: boolean;
  /** Closes politely; falls back to destroy() on errors. */
  close(): Promise<void>;
  /** Drops the socket at once: the server rolls back what is not committed or prepared. */
  destroy(): void;
}

export interface JdbcConnectSettings {
  host: string;
  port: number;
  database: string | undefined;
  user: string | undefined;
  password: string | undefined;
  connectTimeoutMs: number;
  timezone: string | undefined;
  charset: string | undefined;
  /** "127.0.0.1:3306/weir": where, for messages. */
  readonly where: string;
}

/** URL properties the sink understands; others (useSSL, rewriteBatchedStatements, ...) are ignored. */
export const KNOWN_URL_PROPERTIES = [
  'user',
  'password',
  'connectTimeout',
  'serverTimezone',
  'connectionTimeZone',
  'timezone',
  'characterEncoding',
  'charset',
];

export function connectSettings(
  o: Pick<JdbcConnectionOptions, 'parsedUrl' | 'username' | 'password' | 'connectionCheckTimeoutSeconds'>,
): JdbcConnectSettings {
  const u: JdbcUrl = o.parsedUrl;
  const p = u.properties;
  const connectTimeout =
    p.connectTimeout !== undefined && /^\d+$/.test(p.connectTimeout) && Number(p.connectTimeout) > 0
      ? Number(p.connectTimeout)
      : o.connectionCheckTimeoutSeconds * 1000;
  const tz = p.connectionTimeZone ?? p.serverTimezone ?? p.timezone;
  const charset = p.charset ?? (p.characterEncoding ? characterEncodingToCharset(p.characterEncoding) : undefined);
  return {
    host: u.host,
    port: u.port,
    database: u.database || undefined,
    user: o.username ?? p.user,
    password: o.password ?? p.password,
    connectTimeoutMs: connectTimeout,
    timezone:
      tz === undefined || tz === '' || tz.toUpperCase() === 'LOCAL' || tz.toUpperCase() === 'SERVER'
        ? undefined
        : tz.toUpperCase() === 'UTC'
          ? 'Z'
          : tz,
    charset,
    where: `${u.host}:${u.port}${u.database ? `/${u.database}` : ''}`,
  };
}

function characterEncodingToCharset(enc: string): string {
  const e = enc.toUpperCase().replace(/-/g, '');
  if (e === 'UTF8') return 'UTF8MB4_GENERAL_CI';
  return enc.toUpperCase();
}

type MysqlModule = typeof import('mysql2/promise');
let mysqlModule: Promise<MysqlModule> | undefined;

/** Opens a mysql2 connection. */
export async function connectMysql(s: JdbcConnectSettings): Promise<JdbcConnection> {
  mysqlModule ??= import('mysql2/promise');
  const mysql = await mysqlModule;
  const conn = await mysql.createConnection({
    host: s.host,
    port: s.port,
    ...(s.database ? { database: s.database } : {}),
    ...(s.user !== undefined ? { user: s.user } : {}),
    ...(s.password !== undefined ? { password: s.password } : {}),
    connectTimeout: s.connectTimeoutMs,
    ...(s.timezone ? { timezone: s.timezone } : {}),
    ...(s.charset ? { charset: s.charset } : {}),
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  let broken = false;
  // An error while no command runs (the server went away) arrives as an event; unheard it would crash the process.
  conn.on('error', () => {
    broken = true;
  });
  return {
    async query<R>(sql: string): Promise<R> {
      try {
        const [rows] = await conn.query(sql);
        return rows as R;
      } catch (e) {
        if (breaksConnection(e)) broken = true;
        throw e;
      }
    },
    async execute(sql: string, params: unknown[]): Promise<unknown> {
      try {
        const [rows] = await conn.execute(sql, params as never[]);
        return rows;
      } catch (e) {
        if (breaksConnection(e)) broken = true;
        throw e;
      }
    },
    async validate(sql: string): Promise<void> {
      try {
        const stmt = await conn.prepare(sql);
        await stmt.close();
      } catch (e) {
        if (breaksConnection(e)) broken = true;
        throw e;
      }
    },
    // mysql2 follows the server's NO_BACKSLASH_ESCAPES status flag (tested against MariaDB).
    escape: (v: unknown) => conn.escape(v),
    get broken() {
      return broken;
    },
    async close(): Promise<void> {
      if (broken) {
        conn.destroy();
        return;
      }
      broken = true;
      try {
        await Promise.race([
          conn.end(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
        ]);
      } catch {
        conn.destroy();
      }
    },
    destroy(): void {
      broken = true;
      conn.destroy();
    },
  };
}

/** How the sink opens connections; tests replace `connect` with a fake. */
export const jdbcDriver: { connect: (s: JdbcConnectSettings) => Promise<JdbcConnection> } = { connect: connectMysql };

/** Backoff before retry `retry` (1-based): 250 ms, 500 ms, 1 s, ... at most 5 s. */
export function retryBackoffMs(retry: number): number {
  return Math.min(5000, 250 * 2 ** Math.max(0, retry - 1));
}

export interface RetryOptions {
  maxRetries: number;
  /** Stops retrying (the task is closing). */
  stopped: () => boolean;
  onRetry: (retry: number, error: unknown, delayMs: number) => void;
  /** Retries errors this accepts (default: the transient ones). */
  retryable?: (e: unknown) => boolean;
  sleep?: (ms: number) => Promise<void>;
}

/** The last error of a retry loop and how many retries preceded it. */
export class RetriesExhausted extends Error {
  constructor(
    readonly lastError: unknown,
    readonly retries: number,
    readonly transient: boolean,
  ) {
    super(describeSqlError(lastError), { cause: lastError });
  }
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `attempt` until it succeeds, retrying transient failures up to maxRetries times with
 * backoff; throws RetriesExhausted with the last error otherwise.
 */
export async function withRetries<R>(attempt: (retry: number) => Promise<R>, o: RetryOptions): Promise<R> {
  const retryable = o.retryable ?? isTransientSqlError;
  const sleep = o.sleep ?? defaultSleep;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(retry);
    } catch (e) {
      const transient = retryable(e);
      if (!transient || retry >= o.maxRetries || o.stopped()) throw new RetriesExhausted(e, retry, transient);
      const delay = retryBackoffMs(retry + 1);
      o.onRetry(retry + 1, e, delay);
      await sleep(delay);
      if (o.stopped()) throw new RetriesExhausted(e, retry, transient);
    }
  }
}
