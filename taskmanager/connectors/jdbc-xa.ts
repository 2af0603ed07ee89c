// XA transactions of the exactly-once JDBC sink on MySQL/MariaDB: transaction ids (xids) that name
// the job, the sink operator and the subtask, and the XA statements. Found on MariaDB 10.11: a
// prepared transaction survives its client's disconnect (and a SIGKILLed client) and can then be
// committed or rolled back from another connection; while its connection lives, only that
// connection can finish it (others get XAER_NOTA), and that connection cannot start another XA
// transaction until it has (XAER_RMFAIL). Hence one connection per transaction.
import { createHash, randomBytes } from 'node:crypto';
import type { JdbcConnection } from './jdbc-connection.js';

/** formatID of the sink's xids: 'WEIR' in ASCII. */
export const XA_FORMAT_ID = 0x57454952;
const MAX_XID_PART = 64;

export interface Xid {
  readonly formatId: number;
  /** Global transaction id: job and sink operator. */
  readonly gtrid: string;
  /** Branch qualifier: `<subtask>.<attempt>.<token>.<sequence>`. */
  readonly bqual: string;
}

export function xidKey(x: Xid): string {
  return `${x.formatId}:${x.gtrid}:${x.bqual}`;
}

/** The xid as XA statements take it: hex literals, so any byte is safe. */
export function xidSql(x: Xid): string {
  return `X'${Buffer.from(x.gtrid, 'utf8').toString('hex')}',X'${Buffer.from(x.bqual, 'utf8').toString('hex')}',${x.formatId}`;
}

/** The gtrid of one sink operator of one job. */
export function sinkGtrid(jobId: string, operatorId: string): string {
  const op = createHash('sha256').update(operatorId).digest('hex').slice(0, 8);
  const job = /^[A-Za-z0-9-]{1,48}$/.test(jobId)
    ? jobId
    : createHash('sha256').update(jobId).digest('hex').slice(0, 32);
  return `weir.${job}.${op}`.slice(0, MAX_XID_PART);
}

/** The subtask that started a transaction, from its branch qualifier. */
export function subtaskOfXid(x: Xid): number | undefined {
  const m = /^(\d+)\./.exec(x.bqual);
  return m ? Number(m[1]) : undefined;
}

/** New xids for one subtask's run; the random token keeps them apart from any earlier run's. */
export class XidGenerator {
  private seq = 0;
  private readonly token = randomBytes(4).toString('hex');

  constructor(
    readonly gtrid: string,
    private readonly subtaskIndex: number,
    private readonly attempt: number,
  ) {}

  next(): Xid {
    return {
      formatId: XA_FORMAT_ID,
      gtrid: this.gtrid,
      bqual: `${this.subtaskIndex}.${this.attempt}.${this.token}.${this.seq++}`,
    };
  }
}

/** XAER_NOTA: the server knows no such (detached) transaction. */
export function isUnknownXid(e: unknown): boolean {
  const err = e as { errno?: number; code?: string } | null;
  return !!err && (err.errno === 1397 || err.code === 'ER_XAER_NOTA');
}

interface RecoverRow {
  formatID: number | string;
  gtrid_length: number | string;
  bqual_length: number | string;
  data: Buffer | string;
}

/** Prepared transactions the server holds (XA RECOVER), decoded. */
export async function xaRecover(conn: JdbcConnection): Promise<Xid[]> {
  const rows = await conn.query<RecoverRow[]>('XA RECOVER');
  const out: Xid[] = [];
  for (const r of rows) {
    const data = Buffer.isBuffer(r.data) ? r.data : Buffer.from(String(r.data), 'utf8');
    const g = Number(r.gtrid_length);
    const b = Number(r.bqual_length);
    out.push({
      formatId: Number(r.formatID),
      gtrid: data.subarray(0, g).toString('utf8'),
      bqual: data.subarray(g, g + b).toString('utf8'),
    });
  }
  return out;
}

export async function xaStart(conn: JdbcConnection, x: Xid): Promise<void> {
  await conn.query(`XA START ${xidSql(x)}`);
}

export async function xaEndAndPrepare(conn: JdbcConnection, x: Xid): Promise<void> {
  await conn.query(`XA END ${xidSql(x)}`);
  await conn.query(`XA PREPARE ${xidSql(x)}`);
}

/** Commits a prepared transaction, or with `onePhase` an ended one that was never prepared. */
export async function xaCommit(conn: JdbcConnection, x: Xid, onePhase = false): Promise<void> {
  await conn.query(`XA COMMIT ${xidSql(x)}${onePhase ? ' ONE PHASE' : ''}`);
}

export async function xaEnd(conn: JdbcConnection, x: Xid): Promise<void> {
  await conn.query(`XA END ${xidSql(x)}`);
}

export async function xaRollback(conn: JdbcConnection, x: Xid): Promise<void> {
  await conn.query(`XA ROLLBACK ${xidSql(x)}`);
}
