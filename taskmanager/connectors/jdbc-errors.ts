// Which database errors are worth a retry (a lost connection, a deadlock, a server restarting) and
// which fail the job at once (a missing table, bad SQL, a wrong password): retrying those only
// delays the message the user needs.

/** What mysql2 puts on its errors. */
export interface SqlErrorLike {
  message?: string;
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  fatal?: boolean;
}

/** Client-side (socket) error codes: the connection is gone or never came up. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_CLIENT_CONNECTION_LOST',
]);

/** Server error numbers that say "try again": overload, shutdown, lock conflicts, lost connections. */
const TRANSIENT_ERRNOS = new Set([
  1040, // ER_CON_COUNT_ERROR: too many connections
  1053, // ER_SERVER_SHUTDOWN
  1152, // ER_ABORTING_CONNECTION
  1158,
  1159,
  1160,
  1161, // ER_NET_READ_ERROR, ER_NET_READ_INTERRUPTED, ER_NET_ERROR_ON_WRITE, ER_NET_WRITE_INTERRUPTED
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1927, // ER_CONNECTION_KILLED
  2002,
  2003,
  2006,
  2013, // client: can't connect, server gone away, lost connection
  4031, // ER_CLIENT_INTERACTION_TIMEOUT
]);

export function isTransientSqlError(e: unknown): boolean {
  const err = e as SqlErrorLike | null;
  if (!err || typeof err !== 'object') return false;
  if (typeof err.errno === 'number' && TRANSIENT_ERRNOS.has(err.errno)) return true;
  if (typeof err.code === 'string' && TRANSIENT_CODES.has(err.code)) return true;
  // SQLSTATE class 08: connection exception.
  if (typeof err.sqlState === 'string' && err.sqlState.startsWith('08')) return true;
  // A fatal client error without a server errno: the socket broke.
  return err.fatal === true && typeof err.errno !== 'number';
}

/** Whether the error leaves the connection unusable (it must be closed and opened again). */
export function breaksConnection(e: unknown): boolean {
  const err = e as SqlErrorLike | null;
  if (!err || typeof err !== 'object') return true;
  if (err.fatal === true) return true;
  if (typeof err.code === 'string' && TRANSIENT_CODES.has(err.code)) return true;
  return (
    typeof err.errno === 'number' && [1053, 1152, 1158, 1159, 1160, 1161, 1927, 2006, 2013, 4031].includes(err.errno)
  );
}

/** "ER_NO_SUCH_TABLE (errno 1146, SQLSTATE 42S02): Table 'db.t' doesn't exist", or the socket error. */
export function describeSqlError(e: unknown): string {
  const err = e as SqlErrorLike | null;
  if (!err || typeof err !== 'object') return String(e);
  const text = err.sqlMessage ?? err.message ?? String(e);
  const tags: string[] = [];
  // Socket errors carry negative errnos (-111); only the server's are worth showing.
  if (typeof err.errno === 'number' && err.errno > 0) tags.push(`errno ${err.errno}`);
  if (err.sqlState) tags.push(`SQLSTATE ${err.sqlState}`);
  if (err.code && !text.includes(err.code)) return `${err.code}${tags.length ? ` (${tags.join(', ')})` : ''}: ${text}`;
  return tags.length ? `${text} (${tags.join(', ')})` : text;
}

/** A failure of the JDBC sink; the message names the operator, the server and the database's error. */
export class JdbcSinkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JdbcSinkError';
  }
}
