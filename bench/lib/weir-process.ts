// One Weir process (`node bin/weir.js jobmanager|taskmanager|kafka-broker ...`) started by a
// benchmark: its output goes to <dir>/<name>.out, and it is ready when it says so over IPC.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadyMessage } from '../../cli/daemon.js';
import { packageRoot } from '../../common/package-root.js';

export type WeirRole = ReadyMessage['role'];
export type ReadyOf<R extends WeirRole> = Extract<ReadyMessage, { role: R }>;

export interface WeirProcess<M extends ReadyMessage = ReadyMessage> {
  name: string;
  proc: ChildProcess;
  outFile: string;
  ready: M;
}

export type JobManagerProcess = WeirProcess<ReadyOf<'jobmanager'>>;
export type TaskManagerProcess = WeirProcess<ReadyOf<'taskmanager'>>;

export interface SpawnWeirOptions {
  /** Names the output file, <dir>/<name>.out, and the process in errors. */
  name: string;
  dir: string;
  /** Arguments after the command (the role). */
  args: string[];
  /** Node.js flags before the script, e.g. --cpu-prof. */
  nodeArgs?: string[];
  timeoutMs?: number;
}

/** Starts `weir <role> ...args` and waits for its ready message; kills it if it is not ready in time. */
export async function spawnWeir<R extends WeirRole>(role: R, opts: SpawnWeirOptions): Promise<WeirProcess<ReadyOf<R>>> {
  const outFile = join(opts.dir, `${opts.name}.out`);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const fd = openSync(outFile, 'a');
  let proc: ChildProcess;
  try {
    // The IPC channel carries the ready message and makes the child exit when this process dies.
    proc = spawn(
      process.execPath,
      [...(opts.nodeArgs ?? []), join(packageRoot(), 'bin', 'weir.js'), role, ...opts.args],
      { stdio: ['ignore', fd, fd, 'ipc'] },
    );
  } finally {
    closeSync(fd);
  }
  const tail = () => readFileSync(outFile, 'utf8').slice(-500);
  const ready = await new Promise<ReadyOf<R>>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      proc.kill('SIGKILL');
      reject(new Error(`${opts.name} did not start within ${timeoutMs / 1000} s; see ${outFile}: ${tail()}`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`${opts.name} exited (${signal ?? code}) during startup: ${tail()}`));
    };
    const onMessage = (m: ReadyMessage) => {
      if (m?.type !== 'ready' || m.role !== role) return;
      cleanup();
      resolve(m as ReadyOf<R>);
    };
    const cleanup = () => {
      clearTimeout(timer);
      proc.off('exit', onExit);
      proc.off('message', onMessage);
    };
    proc.on('message', onMessage);
    proc.once('exit', onExit);
  });
  return { name: opts.name, proc, outFile, ready };
}
