// The local launcher behind `weir cluster start`: one JobManager and N TaskManagers as child
// processes (node bin/weir.js ...), each with its own working directory and <name>.out file.
// Children hold an IPC channel to this process and exit when it closes, so a SIGKILLed
// launcher leaves no orphans.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/package-root.js';
import type { ReadyMessage } from './daemon.js';
import { CliError } from './errors.js';
import { RestClient } from './rest-client.js';

export interface LocalClusterOptions {
  dir: string;
  taskManagers: number;
  slots?: number;
  restPort: number;
  rpcPort: number;
  /** -D pairs and --config passed through to every child. */
  define: string[];
  configFile?: string;
  startupTimeoutMs?: number;
  /** Also start the development Kafka broker on this port (its log under <dir>/kafka). */
  kafkaPort?: number;
  /** The JobManager's security.rest.token, for the launcher's own REST calls. */
  restToken?: string;
  /** A child ended without being asked to. */
  onUnexpectedExit?: (name: string, how: string, outFile: string) => void;
}

interface Child {
  name: string;
  proc: ChildProcess;
  outFile: string;
  exited: Promise<void>;
}

/** "JobManager", "TaskManager 2": how messages name a child. */
function label(name: string): string {
  if (name === 'kafka-broker') return 'Kafka broker';
  return name === 'jobmanager' ? 'JobManager' : name.replace(/^taskmanager-(\d+)$/, 'TaskManager $1');
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/** The last non-empty line of a child's output file, to explain a failed start. */
function lastLine(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l.trim());
    return (lines.at(-1) ?? '').slice(0, 300);
  } catch {
    return '';
  }
}

/** SIGTERM, then SIGKILL at `deadline` to those still alive; how each that did not exit 0 ended. */
async function terminate(children: Child[], deadline: number): Promise<string[]> {
  for (const c of children) c.proc.kill('SIGTERM');
  const timer = setTimeout(
    () => {
      for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    },
    Math.max(0, deadline - Date.now()),
  );
  await Promise.all(children.map((c) => c.exited));
  clearTimeout(timer);
  return children
    .filter((c) => c.proc.exitCode !== 0)
    .map(
      (c) =>
        `the ${label(c.name)} did not exit cleanly (${describeExit(c.proc.exitCode, c.proc.signalCode)}); see ${c.outFile}`,
    );
}

export class LocalCluster {
  private readonly children: Child[] = [];
  private started = false;
  private stopping = false;
  restUrl = '';
  rpcAddress = '';
  /** host:port of the development Kafka broker, when started. */
  kafkaBootstrap = '';
  /** Why the Kafka broker did not start, when it was asked for and did not. */
  kafkaError: string | undefined;

  constructor(private readonly opts: LocalClusterOptions) {}

  get jobManagerDied(): boolean {
    const jm = this.children.find((c) => c.name === 'jobmanager');
    return !!jm && jm.proc.exitCode !== null;
  }

  private passThrough(): string[] {
    const args: string[] = [];
    for (const d of this.opts.define) args.push('-D', d);
    if (this.opts.configFile) args.push('--config', this.opts.configFile);
    return args;
  }

  private spawnChild(name: string, args: string[]): Child {
    // A stop during start() must not be followed by more children.
    if (this.stopping) throw new CliError('the cluster is being stopped');
    const outFile = join(this.opts.dir, `${name}.out`);
    const fd = openSync(outFile, 'a');
    let proc: ChildProcess;
    try {
      proc = spawn(process.execPath, [join(packageRoot(), 'bin', 'weir.js'), ...args], {
        stdio: ['ignore', fd, fd, 'ipc'],
        // Own process group: a terminal's Ctrl-C reaches only the launcher, which then stops
        // the children in order instead of all of them racing at once.
        detached: true,
        env: process.env,
      });
    } finally {
      closeSync(fd);
    }
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const child: Child = { name, proc, outFile, exited };
    proc.once('exit', (code, signal) => {
      // Failures during start() are reported by start() itself.
      if (this.started && !this.stopping)
        this.opts.onUnexpectedExit?.(label(name), describeExit(code, signal), outFile);
    });
    this.children.push(child);
    return child;
  }

  private waitReady<T extends ReadyMessage>(child: Child, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        cleanup();
        const detail = lastLine(child.outFile);
        reject(new CliError(`the ${label(child.name)} ${why}; see ${child.outFile}${detail ? `: ${detail}` : ''}`));
      };
      const onMessage = (m: ReadyMessage) => {
        if (m?.type !== 'ready') return;
        cleanup();
        resolve(m as T);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        fail(`exited during startup (${describeExit(code, signal)})`);
      const timer = setTimeout(() => fail(`did not start within ${timeoutMs / 1000} s`), timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        child.proc.off('message', onMessage);
        child.proc.off('exit', onExit);
      };
      child.proc.on('message', onMessage);
      child.proc.once('exit', onExit);
    });
  }

  /** Starts everything and waits until the JobManager reports all TaskManagers registered. */
  async start(): Promise<void> {
    const { dir, taskManagers } = this.opts;
    const timeoutMs = this.opts.startupTimeoutMs ?? 60_000;
    mkdirSync(dir, { recursive: true });
    if (this.opts.kafkaPort !== undefined) {
      // The broker is an extra: the cluster starts without it (and says why) when it cannot start.
      const broker = this.spawnChild('kafka-broker', [
        'kafka-broker',
        '--port',
        String(this.opts.kafkaPort),
        '--dir',
        join(dir, 'kafka'),
      ]);
      try {
        this.kafkaBootstrap = (
          await this.waitReady<Extract<ReadyMessage, { role: 'kafka-broker' }>>(broker, timeoutMs)
        ).bootstrap;
      } catch (e) {
        this.kafkaError = (e as Error).message;
      }
    }
    const jm = this.spawnChild('jobmanager', [
      'jobmanager',
      '--port',
      String(this.opts.restPort),
      '--rpc-port',
      String(this.opts.rpcPort),
      '--dir',
      join(dir, 'jobmanager'),
      ...this.passThrough(),
    ]);
    const ready = await this.waitReady<Extract<ReadyMessage, { role: 'jobmanager' }>>(jm, timeoutMs);
    this.restUrl = ready.restUrl;
    this.rpcAddress = ready.rpcAddress;

    const tms: Child[] = [];
    for (let i = 1; i <= taskManagers; i++) {
      const args = ['taskmanager', '--jobmanager', this.rpcAddress, '--dir', join(dir, `taskmanager-${i}`)];
      if (this.opts.slots !== undefined) args.push('--slots', String(this.opts.slots));
      tms.push(this.spawnChild(`taskmanager-${i}`, [...args, ...this.passThrough()]));
    }
    await Promise.all(tms.map((tm) => this.waitReady(tm, timeoutMs)));
    await this.waitForTaskManagers(taskManagers, timeoutMs);
    this.started = true;
  }

  private async waitForTaskManagers(n: number, timeoutMs: number): Promise<void> {
    const client = this.restClient();
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      if (this.jobManagerDied)
        throw new CliError(`the JobManager exited during startup; see ${join(this.opts.dir, 'jobmanager.out')}`);
      try {
        seen = (await client.get<{ taskmanagers?: number }>('/overview', { timeoutMs: 5_000 })).taskmanagers ?? 0;
        if (seen >= n) return;
      } catch {
        // not serving yet
      }
      if (Date.now() > deadline) {
        throw new CliError(
          `only ${seen} of ${n} TaskManagers registered with the JobManager within ${timeoutMs / 1000} s; see the .out files in ${this.opts.dir}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** A REST client of the cluster's JobManager, with its token when it has one. */
  restClient(): RestClient {
    return new RestClient(this.restUrl, this.opts.restToken ? { token: this.opts.restToken } : {});
  }

  /**
   * SIGTERM to every child, the Kafka broker last (tasks being canceled may still talk to it);
   * SIGKILL to those still alive `graceMs` after the start. Says how each child stopped here
   * ended when it did not exit 0 (empty: a clean stop).
   */
  async stop(graceMs = 10_000): Promise<string[]> {
    this.stopping = true;
    const deadline = Date.now() + graceMs;
    const alive = (c: Child) => c.proc.exitCode === null && c.proc.signalCode === null;
    const broker = this.children.filter((c) => c.name === 'kafka-broker' && alive(c));
    const others = this.children.filter((c) => c.name !== 'kafka-broker' && alive(c));
    const problems = await terminate(others, deadline);
    return [...problems, ...(await terminate(broker, deadline))];
  }
}
