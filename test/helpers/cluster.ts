// Starts a real cluster for a test: one JobManager and N TaskManagers as separate OS processes
// (the compiled `weir` CLI), on free ports, in a fresh directory; stop() always kills them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../common/package-root.js';
import { restApi } from './rest-api.js';
import { removeAfterTest } from './test-dirs.js';

const ROOT = packageRoot();
const WEIR = join(ROOT, 'bin', 'weir.js');

export interface ProcessHandle {
  name: string;
  proc: ChildProcess;
  outFile: string;
  id?: string;
}

export interface ClusterOptions {
  taskManagers?: number;
  slots?: number;
  /** -D key=value for every process. */
  config?: Record<string, string>;
  /** security.rest.token of the JobManager; rest() and the helpers built on it send it. */
  token?: string;
}

export interface TestCluster {
  dir: string;
  restUrl: string;
  rpcAddress: string;
  jobManager: ProcessHandle;
  taskManagers: ProcessHandle[];
  addTaskManager(slots?: number): Promise<ProcessHandle>;
  /** Bundles test/jobs/<name>.ts or examples/<name>.ts once per cluster. */
  bundle(path: string): Promise<string>;
  upload(bundlePath: string): Promise<string>;
  submit(path: string, args?: string[], parallelism?: number): Promise<string>;
  submitExample(name: string, args?: string[], parallelism?: number): Promise<string>;
  rest<T = any>(path: string, init?: RequestInit): Promise<{ status: number; body: T }>;
  job(jobId: string): Promise<any>;
  waitForJob(jobId: string, states: string[], timeoutMs?: number): Promise<any>;
  waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

function defines(config: Record<string, string>): string[] {
  return Object.entries(config).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
}

export function startProcess(
  dir: string,
  name: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<{ handle: ProcessHandle; msg: any }> {
  const outFile = join(dir, `${name}.out`);
  const fd = openSync(outFile, 'a');
  const proc = spawn(process.execPath, [WEIR, ...args], { stdio: ['ignore', fd, fd, 'ipc'] });
  const handle: ProcessHandle = { name, proc, outFile };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${readFileSync(outFile, 'utf8').slice(-2000)}`));
    }, timeoutMs);
    proc.on('message', (msg: any) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        if (msg.id) handle.id = msg.id;
        resolve({ handle, msg });
      }
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${name} exited (${signal ?? code}) before it was ready:\n${readFileSync(outFile, 'utf8').slice(-2000)}`,
        ),
      );
    });
  });
}

export async function killAndWait(p: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill(signal);
  const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-test-'));
  const removeDir = removeAfterTest(dir);
  // REST requests may name savepoint and restore paths anywhere in the test's directory.
  const config = {
    'heartbeat.interval': '500 ms',
    'heartbeat.timeout': '4 s',
    'security.rest.allowed-dirs': dir,
    ...(opts.config ?? {}),
  };
  const jobManagerOnly: Record<string, string> = opts.token !== undefined ? { 'security.rest.token': opts.token } : {};
  const processes: ProcessHandle[] = [];
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // TaskManagers first, so the JobManager sees them leave; then the JobManager.
    await Promise.all(processes.slice(1).map((p) => killAndWait(p.proc, 'SIGTERM', 8000)));
    if (processes[0]) await killAndWait(processes[0].proc, 'SIGTERM', 8000);
    removeDir();
  };

  try {
    const jm = await startProcess(dir, 'jobmanager', [
      'jobmanager',
      '--port',
      '0',
      '--rpc-port',
      '0',
      '--dir',
      join(dir, 'jobmanager'),
      ...defines({ ...config, ...jobManagerOnly }),
    ]);
    processes.push(jm.handle);
    const restUrl: string = jm.msg.restUrl;
    const rpcAddress: string = jm.msg.rpcAddress;
    let tmCounter = 0;

    const addTaskManager = async (slots = opts.slots ?? 2) => {
      const name = `taskmanager-${tmCounter++}`;
      const tm = await startProcess(dir, name, [
        'taskmanager',
        '--jobmanager',
        rpcAddress,
        '--slots',
        String(slots),
        '--dir',
        join(dir, name),
        ...defines(config),
      ]);
      processes.push(tm.handle);
      return tm.handle;
    };
    const tms = await Promise.all(Array.from({ length: opts.taskManagers ?? 2 }, () => addTaskManager()));

    const { rest, waitFor, bundle, upload, submit, job, waitForJob } = restApi(() => restUrl, dir, opts.token);

    return {
      dir,
      restUrl,
      rpcAddress,
      jobManager: jm.handle,
      taskManagers: tms,
      addTaskManager: async (slots?: number) => {
        const h = await addTaskManager(slots);
        return h;
      },
      bundle,
      upload,
      submit,
      submitExample: (name, args, parallelism) => submit(`examples/${name}.ts`, args, parallelism),
      rest,
      job,
      waitForJob,
      waitFor,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}
