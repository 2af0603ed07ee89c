// Starts a real cluster for a test: one JobManager and N TaskManagers as separate OS processes
// (the compiled `weir` CLI), on free ports, in a fresh directory; stop() always kills them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBundle } from '../../common/bundle.js';
import { packageRoot } from '../../common/rpc.js';

const ROOT = packageRoot();
const WEIR = join(ROOT, 'bin', 'weir.js');
const TERMINAL = ['FINISHED', 'FAILED', 'CANCELED'];

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

export function startProcess(dir: string, name: string, args: string[], timeoutMs = 30_000): Promise<{ handle: ProcessHandle; msg: any }> {
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
      reject(new Error(`${name} exited (${signal ?? code}) before it was ready:\n${readFileSync(outFile, 'utf8').slice(-2000)}`));
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
  const config = { 'heartbeat.interval': '500 ms', 'heartbeat.timeout': '4 s', ...(opts.config ?? {}) };
  const processes: ProcessHandle[] = [];
  const bundles = new Map<string, Promise<string>>();
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // TaskManagers first, so the JobManager sees them leave; then the JobManager.
    await Promise.all(processes.slice(1).map((p) => killAndWait(p.proc, 'SIGTERM', 8000)));
    if (processes[0]) await killAndWait(processes[0].proc, 'SIGTERM', 8000);
    if (!process.env.WEIR_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const jm = await startProcess(dir, 'jobmanager', ['jobmanager', '--port', '0', '--rpc-port', '0', '--dir', join(dir, 'jobmanager'), ...defines(config)]);
    processes.push(jm.handle);
    const restUrl: string = jm.msg.restUrl;
    const rpcAddress: string = jm.msg.rpcAddress;
    let tmCounter = 0;

    const addTaskManager = async (slots = opts.slots ?? 2) => {
      const name = `taskmanager-${tmCounter++}`;
      const tm = await startProcess(dir, name, ['taskmanager', '--jobmanager', rpcAddress, '--slots', String(slots), '--dir', join(dir, name), ...defines(config)]);
      processes.push(tm.handle);
      return tm.handle;
    };
    const tms = await Promise.all(Array.from({ length: opts.taskManagers ?? 2 }, () => addTaskManager()));

    const rest = async (path: string, init?: RequestInit) => {
      const res = await fetch(restUrl + path, init);
      const text = await res.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // plain text (logs, metrics)
      }
      return { status: res.status, body };
    };

    const waitFor = async <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        try {
          const v = await fn();
          if (v !== undefined && v !== false) return v as T;
        } catch (e) {
          if ((e as { final?: boolean }).final) throw e;
          last = e;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    };

    const bundle = (path: string) => {
      let p = bundles.get(path);
      if (!p) {
        const out = join(dir, 'bundles', path.replace(/[^A-Za-z0-9]/g, '_') + '.weir');
        p = createBundle(join(ROOT, path), out).then(() => out);
        bundles.set(path, p);
      }
      return p;
    };

    const upload = async (bundlePath: string) => {
      const form = new FormData();
      form.append('jarfile', new Blob([readFileSync(bundlePath)]), 'job.weir');
      const res = await rest('/jars/upload', { method: 'POST', body: form });
      if (res.status !== 200) throw new Error(`upload failed: ${JSON.stringify(res.body)}`);
      return String(res.body.filename).split('/').pop()!;
    };

    const submit = async (path: string, args: string[] = [], parallelism?: number) => {
      const jarId = await upload(await bundle(path));
      const res = await rest(`/jars/${jarId}/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ programArgsList: args, ...(parallelism ? { parallelism } : {}) }),
      });
      if (res.status !== 200) throw new Error(`run failed (${res.status}): ${JSON.stringify(res.body)}`);
      return res.body.jobid as string;
    };

    const job = async (jobId: string) => (await rest(`/jobs/${jobId}`)).body;

    const waitForJob = (jobId: string, states: string[], timeoutMs = 60_000) =>
      waitFor(
        `job ${jobId} to reach ${states.join('/')}`,
        async () => {
          const j = await job(jobId);
          if (states.includes(j.state)) return j;
          if (TERMINAL.includes(j.state)) {
            const ex = (await rest(`/jobs/${jobId}/exceptions`)).body;
            throw Object.assign(new Error(`job ended ${j.state}, not ${states.join('/')}: ${ex['root-exception']}`), { final: true });
          }
          return undefined;
        },
        timeoutMs,
      );

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
