// The Kafka broker of a benchmark: Weir's development broker (`weir kafka-broker`) as a child
// process on a free port in a fresh temp directory, stopped (and its directory removed) by stop(),
// also on Ctrl-C; plus the few admin calls a benchmark needs (kafkajs's admin client).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { packageRoot } from '../../common/package-root.js';
import { stopOnExit } from './cleanup.js';

export class BenchKafka {
  private stopped = false;
  private unregister: () => void = () => {};

  private constructor(
    readonly dir: string,
    readonly bootstrap: string,
    private readonly proc: ChildProcess,
    private readonly outFile: string,
  ) {}

  /** Starts the broker; `args` are extra `weir kafka-broker` arguments. */
  static async start(args: string[] = []): Promise<BenchKafka> {
    const dir = mkdtempSync(join(tmpdir(), 'weir-bench-kafka-'));
    const outFile = join(dir, 'kafka-broker.out');
    const fd = openSync(outFile, 'a');
    let proc: ChildProcess;
    try {
      // The IPC channel makes the broker exit when this process dies (exitWithParent).
      proc = spawn(
        process.execPath,
        [join(packageRoot(), 'bin', 'weir.js'), 'kafka-broker', '--port', '0', '--dir', join(dir, 'data'), ...args],
        {
          stdio: ['ignore', fd, fd, 'ipc'],
        },
      );
    } finally {
      closeSync(fd);
    }
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const kill = async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
    };
    const unregisterEarly = stopOnExit(async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    });
    let bootstrap: string;
    try {
      bootstrap = await waitForStartLine(proc, outFile, 30_000);
    } catch (e) {
      await kill();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    } finally {
      unregisterEarly();
    }
    const self = new BenchKafka(dir, bootstrap, proc, outFile);
    self.unregister = stopOnExit(() => self.stop());
    return self;
  }

  /** Throws when the broker is gone (with the tail of its output). */
  checkAlive(): void {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      throw new Error(
        `the Kafka broker exited (${this.proc.signalCode ?? this.proc.exitCode}): ${readFileSync(this.outFile, 'utf8').slice(-1000)}`,
      );
    }
  }

  private admin() {
    return new Kafka({ clientId: 'weir-bench-admin', brokers: [this.bootstrap], logLevel: logLevel.NOTHING }).admin();
  }

  async createTopic(name: string, partitions: number): Promise<void> {
    const admin = this.admin();
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

  /** Deletes topics (their files go at once): a repetition's topics, once measured. */
  async deleteTopics(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const admin = this.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: names, timeout: 10_000 });
    } finally {
      await admin.disconnect();
    }
  }

  /** The high watermark of each partition of `topic` (with transaction markers, if any). */
  async endOffsets(topic: string): Promise<number[]> {
    const admin = this.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
    } finally {
      await admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unregister();
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
    if (!process.env.WEIR_BENCH_KEEP_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits for the broker's "Kafka broker started" JSON log line; returns host:port. */
function waitForStartLine(proc: ChildProcess, outFile: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const onExit = (code: number | null, signal: string | null) => {
      clearInterval(timer);
      reject(
        new Error(
          `kafka-broker exited (${signal ?? code}) before it was ready:\n${existsSync(outFile) ? readFileSync(outFile, 'utf8').slice(-2000) : ''}`,
        ),
      );
    };
    proc.once('exit', onExit);
    const timer = setInterval(() => {
      const text = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const j = JSON.parse(line) as { port?: number; host?: string; msg?: string };
          if (typeof j.port === 'number' && j.msg?.startsWith('Kafka broker started')) {
            clearInterval(timer);
            proc.off('exit', onExit);
            resolve(`${j.host ?? '127.0.0.1'}:${j.port}`);
            return;
          }
        } catch {
          // a partial line
        }
      }
      if (Date.now() > deadline) {
        clearInterval(timer);
        proc.off('exit', onExit);
        reject(new Error(`kafka-broker did not start within ${timeoutMs} ms:\n${text.slice(-2000)}`));
      }
    }, 25);
  });
}
