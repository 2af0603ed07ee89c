// kcat (librdkafka) as the benchmark's reference Kafka client: it preloads input topics, reads
// topics back (both timed: the baseline Weir's Kafka throughput is compared with), produces at a
// paced rate and consumes live for the latency measurement. Every kcat process started here is
// tracked and killed by stopAllKcat(), which also runs on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { stopOnExit } from './cleanup.js';

export const KCAT = '/usr/bin/kcat';

export type Isolation = 'read_committed' | 'read_uncommitted';

const live = new Set<ChildProcess>();
let unregister: (() => void) | undefined;

function track(p: ChildProcess): void {
  live.add(p);
  unregister ??= stopOnExit(stopAllKcat);
  p.once('exit', () => live.delete(p));
}

/** Kills every kcat process still running (SIGKILL after 2 s) and waits for them. */
export async function stopAllKcat(): Promise<void> {
  await Promise.all(
    [...live].map(async (p) => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(t);
    }),
  );
  unregister?.();
  unregister = undefined;
}

export function requireKcat(): void {
  if (!existsSync(KCAT)) throw new Error(`${KCAT} not found (Debian package kcat)`);
}

function spawnKcat(args: string[], stdin: 'ignore' | 'pipe' | number): ChildProcess {
  const p = spawn(KCAT, args, { stdio: [stdin, 'pipe', 'pipe'] });
  track(p);
  return p;
}

/** Resolves with the exit when kcat exits 0 within `timeoutMs`; rejects with its stderr otherwise. */
function exitOf(p: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  let err = '';
  p.stderr?.on('data', (d: Buffer) => {
    if (err.length < 4000) err += String(d);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${what} did not finish within ${timeoutMs / 1000} s: ${err.slice(-1000)}`));
    }, timeoutMs);
    p.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${what} exited with ${signal ?? code}: ${err.slice(-1000)}`));
    });
  });
}

/**
 * Records without a key go to a random partition each, not to one partition for a while (librdkafka's
 * sticky partitioning): the partitions, and so the two Weir subtasks reading them, get even shares.
 */
const STICKY_MS = 0;

/**
 * Produces the lines of `file` (one record each, no key) into `topic`: acks=all, random
 * partitions, librdkafka's defaults otherwise. Returns the milliseconds from starting kcat until it exited (everything
 * acknowledged).
 */
export async function kcatProduceFile(
  bootstrap: string,
  topic: string,
  file: string,
  timeoutMs = 300_000,
): Promise<number> {
  const fd = openSync(file, 'r');
  const t0 = performance.now();
  let p: ChildProcess;
  try {
    p = spawnKcat(
      ['-b', bootstrap, '-P', '-t', topic, '-q', '-X', 'acks=all', '-X', `sticky.partitioning.linger.ms=${STICKY_MS}`],
      fd,
    );
  } finally {
    closeSync(fd);
  }
  p.stdout?.resume();
  await exitOf(p, `kcat -P into ${topic}`, timeoutMs);
  return performance.now() - t0;
}

/**
 * Reads `topic` from the beginning printing each value and counts the records: up to its end (-e;
 * for read_committed, to the last stable offset), or, with `count`, until that many were read (-c,
 * with -e in case there are fewer; `toEnd` false: waiting for them to be written). Returns the milliseconds from starting kcat until it exited.
 * Timed runs pass `count`: kcat learns it reached the end only when a further fetch comes back
 * empty, after the broker's fetch wait (500 ms), which would be part of the time otherwise.
 */
export async function kcatConsumeAll(
  bootstrap: string,
  topic: string,
  isolation: Isolation,
  count?: number,
  timeoutMs = 300_000,
  toEnd = true,
): Promise<{ ms: number; records: number }> {
  const t0 = performance.now();
  const limit = count === undefined ? [] : ['-c', String(count)];
  const p = spawnKcat(
    [
      '-b',
      bootstrap,
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      ...(toEnd ? ['-e'] : []),
      ...limit,
      '-q',
      '-f',
      '%s\\n',
      '-X',
      `isolation.level=${isolation}`,
    ],
    'ignore',
  );
  let records = 0;
  p.stdout!.on('data', (d: Buffer) => {
    let i = -1;
    while ((i = d.indexOf(10, i + 1)) !== -1) records++;
  });
  const stdoutDone = new Promise<void>((r) => p.stdout!.once('end', () => r()));
  await exitOf(p, `kcat -C of ${topic}`, timeoutMs);
  const ms = performance.now() - t0;
  await stdoutDone;
  return { ms, records };
}

export interface LiveConsumer {
  /** Kills kcat (SIGTERM) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Consumes `topic` from the beginning, without end, with unbuffered output (-u); `onValue` gets
 * each record's value as soon as this process reads kcat's line.
 */
export function kcatLiveConsumer(
  bootstrap: string,
  topic: string,
  isolation: Isolation,
  onValue: (value: string) => void,
): LiveConsumer {
  const p = spawnKcat(
    [
      '-b',
      bootstrap,
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-u',
      '-q',
      '-f',
      '%s\\n',
      '-X',
      `isolation.level=${isolation}`,
    ],
    'ignore',
  );
  let rest = '';
  p.stdout!.setEncoding('utf8');
  p.stdout!.on('data', (chunk: string) => {
    const text = rest + chunk;
    let start = 0;
    let i: number;
    while ((i = text.indexOf('\n', start)) !== -1) {
      onValue(text.slice(start, i));
      start = i + 1;
    }
    rest = text.slice(start);
  });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => {
    if (err.length < 4000) err += String(d);
  });
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  return {
    async stop() {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 2_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

export interface PacedProducer {
  /** Hands records (newline-terminated values) to kcat; false: its stdin is backed up. */
  write(lines: string): boolean;
  /** Closes kcat's input and waits until it delivered everything and exited. */
  end(timeoutMs?: number): Promise<void>;
}

/** A kcat producer fed through its stdin (acks=all, `lingerMs`), for records written as they are created. */
export function kcatPacedProducer(bootstrap: string, topic: string, lingerMs: number): PacedProducer {
  const p = spawnKcat(
    [
      '-b',
      bootstrap,
      '-P',
      '-t',
      topic,
      '-q',
      '-X',
      'acks=all',
      '-X',
      `linger.ms=${lingerMs}`,
      '-X',
      `sticky.partitioning.linger.ms=${STICKY_MS}`,
    ],
    'pipe',
  );
  p.stdout!.resume();
  const exit = exitOf(p, `kcat -P into ${topic}`, 24 * 3600_000);
  exit.catch(() => undefined);
  return {
    write: (lines) => p.stdin!.write(lines),
    async end(timeoutMs = 60_000) {
      p.stdin!.end();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          exit,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new Error(`kcat -P into ${topic} did not exit within ${timeoutMs / 1000} s of its input closing`),
                ),
              timeoutMs,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
