// Plans a job by running its main() in a short-lived, time-limited child process: the
// JobManager never runs user code in its own process. A JobManager keeps one such process started
// ahead of need (Node started and the engine's API loaded, no user code), so a submission does not
// wait for a process to start.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { validateJobGraph, type JobGraph } from '../common/jobgraph.js';
import { packageRoot } from '../common/package-root.js';
import type { PlanReply, PlanRequest } from './planner-child.js';

export interface PlanOptions {
  programArgs: string[];
  defaultParallelism: number;
  timeoutMs: number;
  /** Job name when main() sets none (usually the bundle's name). */
  fallbackName: string;
  /** Called with the child's pid once it is started (tests check it is gone afterwards). */
  onSpawn?: (pid: number) => void;
  /** Where a process started ahead of need comes from; without it, one is started now. */
  spare?: SparePlanner;
}

const STDERR_TAIL_BYTES = 2048;

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function tail(text: string): string {
  const lines = text.trim().split('\n').slice(-10).join('\n');
  return lines.length > STDERR_TAIL_BYTES ? lines.slice(-STDERR_TAIL_BYTES) : lines;
}

function failureMessage(reply: Extract<PlanReply, { type: 'error' }>): string {
  const withStack = (head: string) => (reply.stack ? `${head}\n${reply.stack}` : head);
  switch (reply.kind) {
    case 'load':
      return withStack(`cannot load the job module: ${reply.message}`);
    case 'no-main':
      return `invalid job: ${reply.message}`;
    case 'main-threw':
      return withStack(`job main() threw: ${reply.message}`);
    case 'build':
      return `invalid job graph: ${reply.message}`;
  }
}

function startPlanner(childPath: string): ChildProcess {
  return fork(childPath, [], {
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
}

/**
 * One planning process kept started. Starting one takes about a third of a second of CPU, which a
 * running job on the same cores pays for: after each take, the next one starts once the
 * JobManager has no job deploying or running, or once `delayMs` have passed (a long-running job
 * pays for it once). A spare started a second after each take, as before, landed in the first
 * seconds of the job just submitted. It exits with the JobManager (its IPC channel closes) or on
 * close().
 */
export class SparePlanner {
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `idle`: whether no job is deploying or running (looked at every `checkMs`). */
  constructor(
    private readonly delayMs = 5000,
    private readonly idle: () => boolean = () => true,
    private readonly checkMs = 250,
  ) {}

  /** The spare's process id, once one is started. */
  get sparePid(): number | undefined {
    return this.child?.pid;
  }

  /** The spare if it is still alive; the next one is started later. */
  take(): ChildProcess | undefined {
    const child = this.child;
    this.child = undefined;
    this.replenish();
    return child?.connected && child.exitCode === null && child.signalCode === null ? child : undefined;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }

  private replenish(): void {
    if (this.closed || this.timer) return;
    const due = Date.now() + this.delayMs;
    const check = () => {
      this.timer = undefined;
      if (this.closed || this.child) return;
      if (Date.now() < due && !this.idle()) {
        this.timer = setTimeout(check, this.checkMs);
        this.timer.unref();
        return;
      }
      const childPath = plannerChildPath();
      if (!existsSync(childPath)) return;
      const child = startPlanner(childPath);
      child.once('exit', () => this.child === child && (this.child = undefined));
      child.once('error', () => this.child === child && (this.child = undefined));
      this.child = child;
    };
    // The job just submitted is not deploying yet while it is planned: look once it can be.
    this.timer = setTimeout(check, Math.min(this.checkMs, this.delayMs));
    this.timer.unref();
  }
}

/** The compiled child: vitest and the engine alike fork dist/, never TypeScript sources. */
export function plannerChildPath(): string {
  return join(packageRoot(), 'dist', 'jobmanager', 'planner-child.js');
}

/**
 * Runs `main(env, programArgs)` of the job module at `entryPath` (an extracted bundle, so that
 * `weir` resolves to this engine) and returns the validated JobGraph, or throws with a message
 * fit to show the user.
 */
export async function planJob(entryPath: string, opts: PlanOptions): Promise<JobGraph> {
  const childPath = plannerChildPath();
  if (!existsSync(childPath)) throw new Error(`cannot plan jobs: ${childPath} is missing (run npm run build)`);
  const child = opts.spare?.take() ?? startPlanner(childPath);
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4 * STDERR_TAIL_BYTES);
  });
  child.stdout!.resume(); // user output while planning goes nowhere, but must not block the child

  const exited = new Promise<void>((resolve) => {
    // 'exit', not 'close': a process the job spawned may hold stderr open after the child is gone.
    child.once('exit', () => resolve());
    child.once('error', () => resolve()); // a child that never started never exits
  });

  const outcome = new Promise<JobGraph>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`job main() did not return within ${formatSeconds(opts.timeoutMs)}`));
    }, opts.timeoutMs);
    const done = () => clearTimeout(timer);
    child.once('message', (reply: PlanReply) => {
      done();
      if (reply.type === 'graph') {
        const errors = validateJobGraph(reply.jobGraph);
        if (errors.length) reject(new Error(`invalid job graph: ${errors.join('; ')}`));
        else resolve(reply.jobGraph as JobGraph);
      } else {
        reject(new Error(failureMessage(reply)));
      }
    });
    child.once('error', (err) => {
      done();
      reject(new Error(`cannot start the job planning process: ${err.message}`));
    });
    // 'close' comes after the exit and after stderr and the IPC channel are drained, so a last
    // reply or the final stderr lines are never lost.
    child.once('close', (code, signal) => {
      done();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const err = tail(stderr);
      reject(new Error(`the job planning process ${how} before returning a job graph${err ? `: ${err}` : ''}`));
    });
    const req: PlanRequest = {
      type: 'plan',
      entryPath,
      programArgs: opts.programArgs,
      defaultParallelism: opts.defaultParallelism,
      fallbackName: opts.fallbackName,
    };
    child.send(req, (err) => {
      if (err) {
        done();
        reject(new Error(`cannot start the job planning process: ${err.message}`));
      }
    });
  });

  try {
    return await outcome;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
}
