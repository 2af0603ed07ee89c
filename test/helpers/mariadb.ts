// A throwaway MariaDB server for a test: a fresh data directory (mariadb-install-db), mariadbd on
// a free port bound to 127.0.0.1, a database and a user with a random password. stop() always
// ends the server and removes the directory. Also: JdbcSink operator subtasks driven directly.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { pino } from 'pino';
import type { JdbcSinkFunction } from '../../api/jdbc-sink.js';
import type { CheckpointOptions, TaskCheckpointSettings } from '../../common/checkpoint.js';
import { createJdbcSinkOperator } from '../../taskmanager/operators/jdbc-sink-operator.js';
import type {
  Output,
  StateInitializationContext,
  StreamOperator,
  TaskServices,
} from '../../taskmanager/operators/operator.js';
import { MemoryOperatorStateStore, type StateSnapshot } from './file-sink-harness.js';
import { ManualTime } from './manual-time.js';
import { fakeTaskServices } from './task-services.js';
import { killAndWait } from './cluster.js';
import { freePort } from './ports.js';

const SERVER_CANDIDATES = ['/usr/sbin/mariadbd', '/usr/bin/mariadbd', '/usr/local/bin/mariadbd'];
const INSTALL_CANDIDATES = [
  '/usr/bin/mariadb-install-db',
  '/usr/local/bin/mariadb-install-db',
  '/usr/sbin/mariadb-install-db',
];

export interface MariaDbBinaries {
  server: string;
  install: string;
}

export function findMariaDb(): MariaDbBinaries | undefined {
  const server = SERVER_CANDIDATES.find((p) => existsSync(p));
  const install = INSTALL_CANDIDATES.find((p) => existsSync(p));
  return server && install ? { server, install } : undefined;
}

/** Why the MariaDB suites skip, or undefined when they run. Throws when WEIR_REQUIRE_SERVICES is set and MariaDB is missing. */
export function mariaDbSkipReason(): string | undefined {
  if (findMariaDb()) return undefined;
  const reason = `mariadbd or mariadb-install-db not found (looked in ${SERVER_CANDIDATES.join(', ')})`;
  if (process.env.WEIR_REQUIRE_SERVICES)
    throw new Error(`WEIR_REQUIRE_SERVICES is set but MariaDB is missing: ${reason}`);
  return reason;
}

export interface MariaDb {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** jdbc:mariadb://127.0.0.1:<port>/<database> */
  jdbcUrl: string;
  dir: string;
  /** Runs SQL as the test user (mysql2, timezone UTC); resolves to the rows. */
  query<R = any>(sql: string, params?: unknown[]): Promise<R>;
  /** A connection of its own as the test user (to hold a transaction open, say); the caller ends it. */
  connect(): Promise<mysql.Connection>;
  /** Runs SQL as root over the socket. */
  rootQuery<R = any>(sql: string): Promise<R>;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = openSync(logFile, 'a');
    const p = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
    p.once('error', reject);
    p.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${cmd} exited with ${code}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`)),
    );
  });
}

export async function startMariaDb(opts: { database?: string } = {}): Promise<MariaDb> {
  const bin = findMariaDb();
  if (!bin) throw new Error('MariaDB is not installed (mariadbd, mariadb-install-db)');
  const dir = mkdtempSync(join(tmpdir(), 'weir-mariadb-'));
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const log = join(dir, 'mariadb.log');
  let proc: ChildProcess | undefined;
  const killOnExit = () => proc?.kill('SIGKILL');
  const cleanUp = async () => {
    process.off('exit', killOnExit);
    if (proc) await killAndWait(proc, 'SIGTERM', 10_000);
    if (!process.env.WEIR_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  };
  let root: mysql.Connection | undefined;
  try {
    await run(
      bin.install,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
        '--user=root',
      ],
      join(dir, 'install.log'),
    );
    const port = await freePort();
    const fd = openSync(log, 'a');
    proc = spawn(
      bin.server,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        `--socket=${socket}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--user=root',
        `--pid-file=${join(dir, 'mariadb.pid')}`,
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=64M',
        '--innodb-log-file-size=32M',
        '--innodb-flush-log-at-trx-commit=2',
        '--max-connections=300',
        '--lock-wait-timeout=20',
        '--innodb-lock-wait-timeout=20',
      ],
      { stdio: ['ignore', fd, fd] },
    );
    process.once('exit', killOnExit);
    const exited = new Promise<never>((_, reject) =>
      proc!.once('exit', (code, signal) =>
        reject(
          new Error(`mariadbd exited (${signal ?? code}) while starting:\n${readFileSync(log, 'utf8').slice(-3000)}`),
        ),
      ),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        root = await Promise.race([mysql.createConnection({ socketPath: socket, user: 'root' }), exited]);
        break;
      } catch (e) {
        if (proc.exitCode !== null || proc.signalCode !== null) throw e;
        if (Date.now() > deadline)
          throw new Error(
            `mariadbd did not accept connections within 30 s: ${(e as Error).message}\n${readFileSync(log, 'utf8').slice(-3000)}`,
            { cause: e },
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const database = opts.database ?? 'weir';
    const user = 'weir';
    const password = randomBytes(9).toString('base64url');
    await root.query(`CREATE DATABASE \`${database}\``);
    await root.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`);
    await root.query(`GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${user}'@'127.0.0.1'`);
    const pool = mysql.createPool({
      host: '127.0.0.1',
      port,
      user,
      password,
      database,
      timezone: 'Z',
      connectionLimit: 4,
      supportBigNumbers: true,
    });
    const rootConn = root;
    return {
      host: '127.0.0.1',
      port,
      database,
      user,
      password,
      jdbcUrl: `jdbc:mariadb://127.0.0.1:${port}/${database}`,
      dir,
      query: async (sql, params) => (await pool.query(sql, params))[0] as any,
      connect: () => mysql.createConnection({ host: '127.0.0.1', port, user, password, database, timezone: 'Z' }),
      rootQuery: async (sql) => (await rootConn.query(sql))[0] as any,
      stop: async () => {
        await pool.end().catch(() => undefined);
        rootConn.destroy();
        await cleanUp();
      },
    };
  } catch (e) {
    root?.destroy();
    await cleanUp();
    throw e;
  }
}

// ---- Driving JdbcSink operator subtasks directly, as their tasks would ----------------------------

const periodicCheckpoints: TaskCheckpointSettings = {
  jobDir: '/unused',
  mode: 'EXACTLY_ONCE',
  stateBackend: 'heap',
  periodic: true,
};
const noOutput: Output = { collect: () => {}, collectSide: () => {}, emitWatermark: () => {} };

export interface JdbcSubtaskOptions {
  subtaskIndex?: number;
  parallelism?: number;
  /** False: a job without periodic checkpoints. */
  checkpointing?: boolean;
  /** Snapshots of the former subtasks to restore from (union state: all of them). */
  restoreFrom?: StateSnapshot[];
  time?: ManualTime;
  jobId?: string;
  attempt?: number;
  operatorId?: string;
  name?: string;
}

export type JdbcSubtask = Awaited<ReturnType<typeof startJdbcSubtask>>;

/** One JdbcSink subtask, initialized (restored) and opened. */
export async function startJdbcSubtask<T>(sink: JdbcSinkFunction<T>, o: JdbcSubtaskOptions = {}) {
  const time = o.time ?? new ManualTime();
  const base = fakeTaskServices({
    processingTime: time,
    subtaskIndex: o.subtaskIndex ?? 0,
    parallelism: o.parallelism ?? 1,
    checkpointing: o.checkpointing === false ? undefined : periodicCheckpoints,
  });
  /** What the operator logged, parsed. */
  const logs: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const services: TaskServices = { ...base, log, jobId: o.jobId ?? 'a'.repeat(32), attempt: o.attempt ?? 0 };
  const op: StreamOperator = createJdbcSinkOperator({
    descriptor: {
      id: o.operatorId ?? 'd'.repeat(32),
      name: o.name ?? 'Sink: JDBC',
      kind: 'sink',
      config: sink.describe(),
      stateful: false,
      outputs: [],
    },
    userCode: sink,
    output: noOutput,
    services,
  });
  const store = o.restoreFrom
    ? MemoryOperatorStateStore.restore(o.restoreFrom, o.subtaskIndex ?? 0, o.parallelism ?? 1)
    : new MemoryOperatorStateStore();
  const ctx: StateInitializationContext = {
    isRestored: () => o.restoreFrom !== undefined,
    getOperatorStateStore: () => store,
    keyedStateBackend: undefined,
    getBroadcastState: () => new Map(),
  };
  await op.initializeState(ctx);
  await op.open();
  /** What the task does after each record: await the operator's async work. */
  const drain = async () => {
    const p = services.pending;
    services.pending = undefined;
    await p;
  };
  return {
    op,
    services,
    time,
    logs,
    async write(...records: T[]): Promise<void> {
      for (const r of records) {
        op.processElement(r, undefined);
        await drain();
      }
    },
    /** The synchronous part of checkpoint `id`; returns the operator state the checkpoint stores. */
    async checkpoint(id: number, options?: CheckpointOptions): Promise<StateSnapshot> {
      await op.snapshotState({ checkpointId: id, timestamp: time.now(), options });
      return store.snapshot();
    },
    complete: (id: number) => op.notifyCheckpointComplete(id),
    finish: () => op.finish(),
    /** Ends the subtask as a failure or cancellation does (connections dropped, nothing flushed). */
    close: () => op.close(),
  };
}
