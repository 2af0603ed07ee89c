// The JDBC sink operators (Flink's JdbcSink): records become parameter rows through the user's
// statement builder and are written in batches when the batch is full, when the batch interval
// elapses, at every checkpoint barrier (snapshotState awaits the write, so nothing a checkpoint
// covers is missing from the database) and at the end of input.
//  - JdbcSinkOperator (JdbcSink.sink): at least once. A batch that fails for a transient reason (a
//    lost connection, a deadlock) is retried with backoff up to maxRetries times, on a new
//    connection; other errors (a missing table, bad SQL) fail the task at once. Upserts make the
//    replays after a failover idempotent.
//  - JdbcXaSinkOperator (JdbcSink.exactlyOnceSink): exactly once with XA. Each subtask writes the
//    records between two barriers in one XA transaction on its own connection, ends and prepares it
//    at the barrier (its xid goes into operator state) and commits it when the checkpoint
//    completes. A restore commits the prepared transactions its checkpoint recorded and rolls back
//    this job's other prepared transactions of the subtask (written after that checkpoint).
import type {
  JdbcConnectionOptions,
  JdbcExactlyOnceOptions,
  JdbcExecutionOptions,
  JdbcStatementBuilder,
} from '../../api/jdbc-sink.js';
import { ListStateDescriptor, type ListState } from '../../api/state.js';
import { FINAL_CHECKPOINT_ID } from '../../common/checkpoint.js';
import { JdbcBatchExecutor } from '../connectors/jdbc-batch.js';
import {
  connectSettings,
  jdbcDriver,
  KNOWN_URL_PROPERTIES,
  retryBackoffMs,
  RetriesExhausted,
  withRetries,
  type JdbcConnection,
  type JdbcConnectSettings,
} from '../connectors/jdbc-connection.js';
import { describeSqlError, isTransientSqlError, JdbcSinkError } from '../connectors/jdbc-errors.js';
import { parseSql, type ParsedSql } from '../connectors/jdbc-sql.js';
import { StatementParameters } from '../connectors/jdbc-statement.js';
import {
  isUnknownXid,
  sinkGtrid,
  subtaskOfXid,
  XA_FORMAT_ID,
  xaCommit,
  xaEnd,
  xaEndAndPrepare,
  xaRecover,
  xaRollback,
  xaStart,
  XidGenerator,
  xidKey,
  type Xid,
} from '../connectors/jdbc-xa.js';
import {
  StreamOperator,
  UserCodeError,
  type OperatorSetup,
  type SnapshotContext,
  type StateInitializationContext,
} from './operator.js';

/** What the operator reads of the JdbcSinkFunction from the bundle. */
interface JdbcSinkLike {
  sql: string;
  statementBuilder: JdbcStatementBuilder<unknown>;
  executionOptions: Pick<JdbcExecutionOptions, 'batchSize' | 'batchIntervalMs' | 'maxRetries'>;
  connectionOptions: Pick<
    JdbcConnectionOptions,
    'parsedUrl' | 'username' | 'password' | 'connectionCheckTimeoutSeconds'
  >;
  exactlyOnceOptions?: Pick<JdbcExactlyOnceOptions, 'recoveredAndRollback' | 'maxCommitAttempts'>;
}

/** Name of the XA sink's union list state: the prepared transactions of every subtask. */
export const JDBC_XA_SINK_STATE_NAME = 'jdbc-xa-sink-state';

/** One prepared transaction recorded in a checkpoint. */
export interface JdbcXaStateEntry {
  subtaskIndex: number;
  formatId: number;
  gtrid: string;
  bqual: string;
  checkpointId: number;
}

/** Connect attempts of the XA sink (connecting is always safe to retry; its maxRetries must be 0). */
const XA_CONNECT_RETRIES = 3;

function shortSql(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

function retriesText(n: number): string {
  return `${n} ${n === 1 ? 'retry' : 'retries'}`;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** Does the completion of `completed` cover a transaction prepared at `preparedAt`? The final checkpoint comes after all others. */
function covers(completed: number, preparedAt: number): boolean {
  return completed === FINAL_CHECKPOINT_ID || (preparedAt !== FINAL_CHECKPOINT_ID && preparedAt <= completed);
}

export function createJdbcSinkOperator(setup: OperatorSetup): StreamOperator {
  const sink = setup.userCode as JdbcSinkLike | undefined;
  return sink?.exactlyOnceOptions ? new JdbcXaSinkOperator(setup) : new JdbcSinkOperator(setup);
}

/** Batching shared by both sinks: the buffer, the size and interval triggers, one write at a time. */
abstract class JdbcSinkBase extends StreamOperator {
  protected readonly sink: JdbcSinkLike;
  protected readonly settings: JdbcConnectSettings;
  protected readonly statement: ParsedSql;
  protected readonly executor: JdbcBatchExecutor;
  private readonly parameters: StatementParameters<unknown>;
  protected readonly batchSize: number;
  private readonly batchIntervalMs: number;
  protected batch: unknown[][] = [];
  private flushing: Promise<void> | undefined;
  /** The first write error; every later call fails with it. */
  protected failure: UserCodeError | undefined;
  protected closed = false;
  private cancelTimer: (() => void) | undefined;

  constructor(setup: OperatorSetup) {
    super(setup);
    const sink = setup.userCode as JdbcSinkLike | undefined;
    if (!sink || typeof sink.sql !== 'string' || !sink.executionOptions || !sink.connectionOptions?.parsedUrl) {
      throw new Error(`operator '${this.name}': not a JdbcSink (JdbcSink.sink(...) or JdbcSink.exactlyOnceSink(...))`);
    }
    this.sink = sink;
    this.settings = connectSettings(sink.connectionOptions);
    try {
      this.statement = parseSql(sink.sql);
    } catch (e) {
      throw new UserCodeError(
        this.name,
        new JdbcSinkError(`JdbcSink '${this.name}': ${(e as Error).message}`, { cause: e }),
      );
    }
    this.executor = new JdbcBatchExecutor(this.statement);
    this.parameters = new StatementParameters(sink.statementBuilder, this.statement.parameterCount);
    this.batchSize = sink.executionOptions.batchSize;
    this.batchIntervalMs = sink.executionOptions.batchIntervalMs;
  }

  /** The JdbcSinkFunction has no open/close of its own. */
  protected override lifecycleObject(): unknown {
    return undefined;
  }

  /** "JdbcSink 'name'" or "JdbcSink 'name' (exactly-once)", for messages. */
  protected abstract get label(): string;

  /** Writes one batch (taken out of the buffer). */
  protected abstract writeBatch(rows: unknown[][]): Promise<void>;

  protected logOpen(): void {
    const ignored = Object.keys(this.sink.connectionOptions.parsedUrl.properties).filter(
      (k) => !KNOWN_URL_PROPERTIES.includes(k),
    );
    this.services.log.info(
      {
        server: this.settings.where,
        batchSize: this.batchSize,
        batchIntervalMs: this.batchIntervalMs,
        writes: this.executor.mode,
        ...(ignored.length ? { ignoredUrlProperties: ignored } : {}),
      },
      `${this.label} opened`,
    );
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.services.sinkRecords++;
    if (timestamp !== undefined) this.services.sinkLag.record(timestamp);
    if (this.failure) throw this.failure;
    let row: unknown[];
    try {
      row = this.parameters.of(value);
    } catch (e) {
      this.fail(
        new JdbcSinkError(
          `${this.label}: the statement builder failed for a record: ${(e as Error)?.message ?? String(e)}`,
          { cause: e },
        ),
      );
    }
    this.batch.push(row);
    if (this.batch.length >= this.batchSize) this.services.pending = this.flush();
    else if (this.batchIntervalMs > 0 && this.cancelTimer === undefined) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    const pt = this.services.processingTime;
    this.cancelTimer = pt.schedule(pt.now() + this.batchIntervalMs, () => {
      this.cancelTimer = undefined;
      if (this.closed || this.batch.length === 0) return;
      // No record waits for this write; a failure fails the task through its mailbox.
      this.flush().catch((e: unknown) => {
        if (this.closed) return;
        pt.schedule(pt.now(), () => {
          throw e;
        });
      });
    });
  }

  /** Whether a batch is being written. */
  protected get writing(): boolean {
    return this.flushing !== undefined;
  }

  /** Writes the buffered records (after any write in progress); rejects with the sink's failure. */
  protected flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.batch.length === 0) return Promise.resolve();
    const rows = this.batch;
    this.batch = [];
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const p: Promise<void> = this.writeBatch(rows)
      .then(() => {
        this.recordsSend += rows.length;
      })
      .catch((e: unknown) => {
        this.failure ??= this.wrap(e);
        throw this.failure;
      })
      .finally(() => {
        if (this.flushing === p) this.flushing = undefined;
      });
    this.flushing = p;
    return p;
  }

  /** The error as the task reports it: tagged with this operator. */
  protected wrap(e: unknown): UserCodeError {
    return e instanceof UserCodeError ? e : new UserCodeError(this.name, e);
  }

  /** Opens a connection, retrying transient failures. */
  protected async connect(maxRetries: number): Promise<JdbcConnection> {
    try {
      return await withRetries(() => jdbcDriver.connect(this.settings), {
        maxRetries,
        stopped: () => this.closed,
        onRetry: (retry, e, delayMs) =>
          this.services.log.warn(
            { server: this.settings.where, retry, delayMs, err: describeSqlError(e) },
            `${this.label}: connecting failed, retrying`,
          ),
      });
    } catch (e) {
      const r = e instanceof RetriesExhausted ? e : new RetriesExhausted(e, 0, isTransientSqlError(e));
      throw new JdbcSinkError(
        `${this.label} could not connect to ${this.settings.where}${r.retries > 0 ? ` after ${retriesText(r.retries)}` : ''}: ${describeSqlError(r.lastError)}`,
        { cause: r.lastError },
      );
    }
  }

  /** Lets the server check the statement (syntax, table, columns) before any record arrives. */
  protected async validate(conn: JdbcConnection): Promise<void> {
    try {
      await conn.validate(this.statement.sql);
    } catch (e) {
      throw new JdbcSinkError(
        `${this.label}: ${this.settings.where} refused the statement: ${describeSqlError(e)}. SQL: ${shortSql(this.statement.sql)}`,
        { cause: e },
      );
    }
  }

  protected batchError(rows: number, e: unknown, retries: number, transient: boolean, note = ''): JdbcSinkError {
    const after =
      retries > 0 ? ` after ${retriesText(retries)}` : transient ? '' : ' (not retried: the error is not transient)';
    return new JdbcSinkError(
      `${this.label} could not write a batch of ${plural(rows, 'record')} to ${this.settings.where}${after}: ${describeSqlError(e)}${note}. SQL: ${shortSql(this.statement.sql)}`,
      { cause: e },
    );
  }

  override async snapshotState(context: SnapshotContext): Promise<void> {
    await super.snapshotState(context);
    // Nothing is acknowledged that is not in the database (or, exactly once, in a prepared transaction).
    await this.flush();
  }

  override async finish(): Promise<void> {
    await this.flush();
  }

  override stateEntries(): number {
    return this.batch.length;
  }

  /** Rows the database acknowledged (exactly once: written into a transaction that is then prepared). */
  private recordsSend = 0;

  override connectorMetrics(): Record<string, number> {
    return { numRecordsSend: this.recordsSend };
  }

  protected stopTimer(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }
}

/** JdbcSink.sink: at-least-once batches on one autocommit connection. */
export class JdbcSinkOperator extends JdbcSinkBase {
  private conn: JdbcConnection | undefined;

  protected get label(): string {
    return `JdbcSink '${this.name}'`;
  }

  override async open(): Promise<void> {
    await super.open();
    try {
      this.conn = await this.connect(this.sink.executionOptions.maxRetries);
      await this.validate(this.conn);
    } catch (e) {
      throw this.wrap(e);
    }
    this.logOpen();
  }

  private async connection(): Promise<JdbcConnection> {
    if (this.conn && !this.conn.broken) return this.conn;
    this.conn?.destroy();
    this.conn = undefined;
    this.conn = await jdbcDriver.connect(this.settings);
    return this.conn;
  }

  protected async writeBatch(rows: unknown[][]): Promise<void> {
    try {
      await withRetries(
        async () => {
          const conn = await this.connection();
          await this.executor.execute(conn, rows, true);
        },
        {
          maxRetries: this.sink.executionOptions.maxRetries,
          stopped: () => this.closed,
          onRetry: (retry, e, delayMs) => {
            // A new connection for the retry: the old one may be half-broken.
            this.conn?.destroy();
            this.conn = undefined;
            this.services.log.warn(
              { server: this.settings.where, rows: rows.length, retry, delayMs, err: describeSqlError(e) },
              `${this.label}: writing a batch failed, retrying`,
            );
          },
        },
      );
    } catch (e) {
      const r = e instanceof RetriesExhausted ? e : new RetriesExhausted(e, 0, false);
      throw this.batchError(rows.length, r.lastError, r.retries, r.transient);
    }
  }

  override async close(): Promise<void> {
    this.stopTimer();
    const conn = this.conn;
    this.conn = undefined;
    if (conn) {
      // A write still running (the task was canceled) or failed: drop the socket rather than wait.
      if (this.failure || this.writing) conn.destroy();
      else await conn.close();
    }
    await super.close();
  }
}

interface PreparedTransaction {
  xid: Xid;
  checkpointId: number;
  /** The connection that prepared it, until the commit; undefined for restored ones. */
  conn: JdbcConnection | undefined;
}

/** JdbcSink.exactlyOnceSink: a prepared XA transaction per subtask and checkpoint, committed on completion. */
export class JdbcXaSinkOperator extends JdbcSinkBase {
  private readonly options: NonNullable<JdbcSinkLike['exactlyOnceOptions']>;
  /** Commit on checkpoint completion only (the job checkpoints periodically). */
  private readonly twoPhase: boolean;
  private readonly xids: XidGenerator;
  private state: ListState<JdbcXaStateEntry> | undefined;
  private current: { xid: Xid; conn: JdbcConnection } | undefined;
  private prepared: PreparedTransaction[] = [];
  /** Connections with no transaction, for the next one. */
  private idle: JdbcConnection[] = [];

  constructor(setup: OperatorSetup) {
    super(setup);
    this.options = this.sink.exactlyOnceOptions!;
    this.twoPhase = setup.services.checkpointing?.periodic === true;
    const { jobId, subtaskIndex, attempt } = setup.services;
    this.xids = new XidGenerator(sinkGtrid(jobId, setup.descriptor.id), subtaskIndex, attempt);
  }

  protected get label(): string {
    return `JdbcSink '${this.name}' (exactly-once)`;
  }

  override async initializeState(context: StateInitializationContext): Promise<void> {
    await super.initializeState(context);
    this.state = context
      .getOperatorStateStore()
      .getUnionListState(new ListStateDescriptor<JdbcXaStateEntry>(JDBC_XA_SINK_STATE_NAME));
    const recorded = context.isRestored() ? this.state.get() : [];
    try {
      this.idle.push(await this.connect(XA_CONNECT_RETRIES));
      await this.recover(recorded);
    } catch (e) {
      throw this.wrap(e);
    }
  }

  /**
   * Commits the prepared transactions the restored checkpoint recorded for this subtask (their
   * checkpoint completed, the commit may not have happened), then rolls back this job's other
   * prepared transactions of this subtask: they belong to checkpoints that never completed.
   */
  private async recover(recorded: JdbcXaStateEntry[]): Promise<void> {
    const { subtaskIndex, parallelism } = this.services;
    const all = new Set(recorded.map((e) => xidKey(e)));
    const mine = recorded
      .filter((e) => e.subtaskIndex % parallelism === subtaskIndex)
      .sort((a, b) => a.checkpointId - b.checkpointId);
    for (const e of mine) {
      await this.commit(
        {
          xid: { formatId: e.formatId, gtrid: e.gtrid, bqual: e.bqual },
          checkpointId: e.checkpointId,
          conn: undefined,
        },
        'restored',
      );
    }
    if (mine.length > 0)
      this.services.log.info(
        { transactions: mine.length },
        `${this.label}: committed the prepared transactions of the restored checkpoint`,
      );
    if (!this.options.recoveredAndRollback) return;
    const conn = await this.idleConnection();
    let rolledBack = 0;
    try {
      for (const x of await xaRecover(conn)) {
        if (x.formatId !== XA_FORMAT_ID || x.gtrid !== this.xids.gtrid || all.has(xidKey(x))) continue;
        const owner = subtaskOfXid(x);
        if (owner === undefined || owner % parallelism !== subtaskIndex) continue;
        try {
          await xaRollback(conn, x);
          rolledBack++;
        } catch (e) {
          // Still held by a connection of an earlier run that has not gone yet: it can never commit.
          if (!isUnknownXid(e))
            throw new JdbcSinkError(
              `${this.label}: rolling back the abandoned XA transaction ${x.bqual} on ${this.settings.where} failed: ${describeSqlError(e)}`,
              { cause: e },
            );
          this.services.log.warn(
            { xid: x.bqual },
            `${this.label}: an abandoned prepared transaction is still attached to a connection; left for a later restore`,
          );
        }
      }
    } finally {
      this.idle.push(conn);
    }
    if (rolledBack > 0)
      this.services.log.info(
        { transactions: rolledBack },
        `${this.label}: rolled back prepared transactions that no completed checkpoint covers`,
      );
  }

  override async open(): Promise<void> {
    await super.open();
    try {
      const conn = await this.idleConnection();
      try {
        await this.validate(conn);
      } finally {
        this.idle.push(conn);
      }
    } catch (e) {
      throw this.wrap(e);
    }
    this.logOpen();
  }

  private async idleConnection(): Promise<JdbcConnection> {
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      if (!c.broken) return c;
      c.destroy();
    }
    return this.connect(XA_CONNECT_RETRIES);
  }

  private async transaction(): Promise<{ xid: Xid; conn: JdbcConnection }> {
    if (this.current) return this.current;
    const conn = await this.idleConnection();
    const xid = this.xids.next();
    try {
      await xaStart(conn, xid);
    } catch (e) {
      conn.destroy();
      throw new JdbcSinkError(`${this.label}: XA START on ${this.settings.where} failed: ${describeSqlError(e)}`, {
        cause: e,
      });
    }
    this.current = { xid, conn };
    return this.current;
  }

  protected async writeBatch(rows: unknown[][]): Promise<void> {
    const tx = await this.transaction();
    try {
      await this.executor.execute(tx.conn, rows, false);
    } catch (e) {
      // The transaction's earlier batches are lost with it (the server rolls it back): only a restart from the checkpoint can replay them.
      const note = isTransientSqlError(e)
        ? `; the XA transaction ${tx.xid.bqual} is lost, the job restarts from its last checkpoint`
        : '';
      throw this.batchError(rows.length, e, 0, false, note);
    }
  }

  override async snapshotState(context: SnapshotContext): Promise<void> {
    await super.snapshotState(context);
    const tx = this.current;
    if (tx) {
      this.current = undefined;
      try {
        await xaEndAndPrepare(tx.conn, tx.xid);
      } catch (e) {
        tx.conn.destroy();
        throw new UserCodeError(
          this.name,
          new JdbcSinkError(
            `${this.label}: preparing XA transaction ${tx.xid.bqual} for checkpoint ${context.checkpointId} on ${this.settings.where} failed: ${describeSqlError(e)}`,
            { cause: e },
          ),
        );
      }
      this.prepared.push({ xid: tx.xid, checkpointId: context.checkpointId, conn: tx.conn });
    }
    // Without periodic checkpoints (a savepoint only) the snapshot publishes everything at once.
    if (!this.twoPhase) await this.commitUpTo(FINAL_CHECKPOINT_ID);
    const { subtaskIndex } = this.services;
    this.state?.update(
      this.prepared.map((p) => ({
        subtaskIndex,
        formatId: p.xid.formatId,
        gtrid: p.xid.gtrid,
        bqual: p.xid.bqual,
        checkpointId: p.checkpointId,
      })),
    );
  }

  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await super.notifyCheckpointComplete(checkpointId);
    await this.commitUpTo(checkpointId);
  }

  private async commitUpTo(checkpointId: number): Promise<void> {
    // In checkpoint order; an aborted checkpoint's transaction is committed with the next completed one.
    for (const p of this.prepared.filter((t) => covers(checkpointId, t.checkpointId))) {
      try {
        await this.commit(p, 'prepared');
      } catch (e) {
        throw this.wrap(e);
      }
      this.prepared.splice(this.prepared.indexOf(p), 1);
    }
  }

  /**
   * Commits a prepared transaction, on its own connection if it still has it, else on another
   * one. XAER_NOTA elsewhere means either already committed (XA RECOVER no longer lists it) or
   * still attached to a connection the server has not seen go (listed): then it waits and retries.
   */
  private async commit(p: PreparedTransaction, what: 'prepared' | 'restored'): Promise<void> {
    let owner = p.conn;
    p.conn = undefined;
    const key = xidKey(p.xid);
    for (let attempt = 1; ; attempt++) {
      let conn: JdbcConnection | undefined;
      let error: unknown;
      try {
        conn = owner && !owner.broken ? owner : await this.idleConnection();
        await xaCommit(conn, p.xid);
        this.idle.push(conn);
        return;
      } catch (e) {
        error = e instanceof JdbcSinkError ? e.cause : e;
        if (conn && conn === owner) {
          // Dropping the owner detaches the transaction, so another connection can finish it.
          owner.destroy();
          owner = undefined;
        } else if (conn && !conn.broken && isUnknownXid(e)) {
          let listed = true;
          try {
            listed = (await xaRecover(conn)).some((x) => xidKey(x) === key);
          } catch {
            // listed stays true: try again
          }
          if (!listed) {
            this.idle.push(conn);
            if (what === 'restored')
              this.services.log.info(
                { xid: p.xid.bqual, checkpointId: p.checkpointId },
                `${this.label}: a restored transaction was committed before the failure`,
              );
            return;
          }
          this.idle.push(conn);
        } else if (conn) {
          if (conn.broken) conn.destroy();
          else this.idle.push(conn);
        }
      }
      if (attempt >= this.options.maxCommitAttempts || this.closed) {
        throw new JdbcSinkError(
          `${this.label} could not commit XA transaction ${p.xid.bqual} of checkpoint ${p.checkpointId} on ${this.settings.where} after ${plural(attempt, 'attempt')}: ${describeSqlError(error)}; it stays prepared and the next restore commits it`,
          { cause: error },
        );
      }
      const delay = retryBackoffMs(attempt);
      this.services.log.warn(
        { xid: p.xid.bqual, attempt, delayMs: delay, err: describeSqlError(error) },
        `${this.label}: committing failed, retrying`,
      );
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  override async finish(): Promise<void> {
    await super.finish();
    if (this.twoPhase) return; // the final checkpoint prepares the last transaction, its completion commits it
    const tx = this.current;
    if (!tx) return;
    this.current = undefined;
    try {
      await xaEnd(tx.conn, tx.xid);
      await xaCommit(tx.conn, tx.xid, true);
      this.idle.push(tx.conn);
    } catch (e) {
      tx.conn.destroy();
      throw new UserCodeError(
        this.name,
        new JdbcSinkError(
          `${this.label}: committing XA transaction ${tx.xid.bqual} at the end of input failed: ${describeSqlError(e)}`,
          { cause: e },
        ),
      );
    }
  }

  override stateEntries(): number {
    return super.stateEntries() + this.prepared.length;
  }

  override async close(): Promise<void> {
    this.stopTimer();
    // Dropping connections rolls back the open transaction; prepared ones stay for the next restore.
    this.current?.conn.destroy();
    this.current = undefined;
    for (const p of this.prepared) p.conn?.destroy();
    for (const p of this.prepared) p.conn = undefined;
    const idle = this.idle;
    this.idle = [];
    await Promise.all(idle.map((c) => c.close()));
    await super.close();
  }
}
