// A Kafka broker for a test: Weir's development broker (`weir kafka-broker`) as a real process on
// a free port in a fresh directory, or, when KAFKA_BOOTSTRAP=host:port is set, that external
// broker (a real Kafka; restart() is then unsupported and stop() does nothing).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { packageRoot } from '../../common/package-root.js';

const WEIR = join(packageRoot(), 'bin', 'weir.js');

export interface TestKafka {
  bootstrap: string;
  host: string;
  port: number;
  /** The broker's data directory (undefined for an external broker). */
  dir: string | undefined;
  /**
   * SIGKILLs the broker and starts it again on the same directory and port; `whileDown` runs in
   * between (to damage the files, say).
   */
  restart(whileDown?: () => void | Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
// However a test run ends, no broker outlives it.
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

function waitForStartLine(
  proc: ChildProcess,
  outFile: string,
  from: number,
  timeoutMs: number,
): Promise<{ port: number; host: string }> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const onExit = (code: number | null, signal: string | null) => {
      clearInterval(timer);
      reject(
        new Error(
          `kafka-broker exited (${signal ?? code}) before it was ready:\n${readFileSync(outFile, 'utf8').slice(-2000)}`,
        ),
      );
    };
    proc.once('exit', onExit);
    const timer = setInterval(() => {
      const text = existsSync(outFile) ? readFileSync(outFile, 'utf8').slice(from) : '';
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const j = JSON.parse(line) as { port?: number; host?: string; msg?: string };
          if (typeof j.port === 'number' && j.msg?.startsWith('Kafka broker started')) {
            clearInterval(timer);
            proc.off('exit', onExit);
            resolve({ port: j.port, host: j.host ?? '127.0.0.1' });
            return;
          }
        } catch {
          // a partial line
        }
      }
      if (Date.now() > deadline) {
        clearInterval(timer);
        proc.off('exit', onExit);
        proc.kill('SIGKILL');
        reject(new Error(`kafka-broker did not start within ${timeoutMs} ms:\n${text.slice(-2000)}`));
      }
    }, 25);
  });
}

async function killAndWait(p: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill(signal);
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
  live.delete(p);
}

export interface StartKafkaOptions {
  /** Extra `weir kafka-broker` arguments (e.g. ['-D', 'group.initial.rebalance.delay.ms=500']). */
  args?: string[];
}

export async function startKafka(opts: StartKafkaOptions = {}): Promise<TestKafka> {
  const external = process.env.KAFKA_BOOTSTRAP;
  if (external) {
    const i = external.lastIndexOf(':');
    const host = external.slice(0, i);
    const port = Number(external.slice(i + 1));
    return {
      bootstrap: external,
      host,
      port,
      dir: undefined,
      restart: () => Promise.reject(new Error('restart() is not supported with an external broker (KAFKA_BOOTSTRAP)')),
      stop: async () => {},
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'weir-kafka-'));
  const outFile = join(dir, 'kafka-broker.out');
  let proc: ChildProcess | undefined;
  let port = 0;
  let host = '127.0.0.1';

  const launch = async (portArg: number) => {
    const from = existsSync(outFile) ? readFileSync(outFile).length : 0;
    const fd = openSync(outFile, 'a');
    const p = spawn(
      process.execPath,
      [WEIR, 'kafka-broker', '--port', String(portArg), '--dir', join(dir, 'data'), ...(opts.args ?? [])],
      { stdio: ['ignore', fd, fd] },
    );
    live.add(p);
    proc = p;
    try {
      ({ port, host } = await waitForStartLine(p, outFile, from, 30_000));
    } catch (e) {
      p.kill('SIGKILL');
      live.delete(p);
      throw e;
    }
  };

  await launch(0);
  let stopped = false;
  return {
    get bootstrap() {
      return `${host}:${port}`;
    },
    get host() {
      return host;
    },
    get port() {
      return port;
    },
    dir: join(dir, 'data'),
    async restart(whileDown?: () => void | Promise<void>) {
      if (proc) await killAndWait(proc, 'SIGKILL');
      await whileDown?.();
      // The port may linger briefly in the kernel; retry binding it for a while.
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          await launch(port);
          return;
        } catch (e) {
          if (Date.now() > deadline || !/EADDRINUSE/.test(String(e))) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (proc) await killAndWait(proc, 'SIGTERM');
      if (!process.env.WEIR_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A topic name no other test uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** Creates a topic with kafkajs's admin client and waits until its partitions have leaders. */
export async function createTopic(bootstrap: string, name: string, partitions: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'weir-test-admin', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}
