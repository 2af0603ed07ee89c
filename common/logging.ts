// Structured JSON logs (pino) to stdout and to the process's own log file. The file rolls by size
// the way Flink's log4j RollingFileAppender does: the active file keeps its name
// (`jobmanager.log`), full files move to `jobmanager.log.1` (newest) ... `jobmanager.log.<n>`, and the
// oldest beyond `log.file.max-files` is deleted (rotating-file-stream's classical rotation).
import { basename, dirname } from 'node:path';
import type { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { createStream } from 'rotating-file-stream';
import type { Configuration } from './config.js';

export type { Logger };

/** Flink's log4j defaults: 100 MB per file, 10 rolled files kept. */
export const DEFAULT_LOG_FILE_MAX_SIZE = 100 * 1024 * 1024;
export const DEFAULT_LOG_FILE_MAX_FILES = 10;

export interface LoggerOptions {
  level?: string;
  /** Bytes at which the log file rolls (log.file.max-size). */
  maxFileSize?: number;
  /** Rolled files kept beside the active one (log.file.max-files). */
  maxFiles?: number;
  /** JSON lines on stdout too (default true). */
  stdout?: boolean;
}

/** log.file.max-size and log.file.max-files of a process's configuration. */
export function logFileOptions(conf: Configuration): Pick<LoggerOptions, 'maxFileSize' | 'maxFiles'> {
  return { maxFileSize: conf.getMemorySize('log.file.max-size'), maxFiles: conf.getInt('log.file.max-files') };
}

export function createLogger(name: string, logFile?: string, opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.WEIR_LOG_LEVEL ?? 'info';
  // Each stream passes what the logger emits (a multistream entry defaults to 'info' otherwise).
  const streamLevel = (level in pino.levels.values ? level : 'info') as pino.Level;
  const stdout = opts.stdout === false ? undefined : pino.destination({ fd: 1, sync: false });
  const streams: pino.StreamEntry[] = stdout ? [{ level: streamLevel, stream: stdout }] : [];
  let file: Writable | undefined;
  if (logFile) {
    file = rollingFile(
      logFile,
      opts.maxFileSize ?? DEFAULT_LOG_FILE_MAX_SIZE,
      opts.maxFiles ?? DEFAULT_LOG_FILE_MAX_FILES,
    );
    streams.push({ level: streamLevel, stream: file });
  }
  const multi = pino.multistream(streams);
  // pino's logger.flush(cb) calls the destination's flush: wait for stdout and for the file's
  // pending writes, so that a process that flushes before it exits loses no line of its log.
  const flush = (cb: (err?: Error) => void) => {
    const drained = file ? whenDrained(file, 5000) : Promise.resolve();
    if (stdout) stdout.flush(() => void drained.then(() => cb()));
    else void drained.then(() => cb());
  };
  const logger = pino({ name, level, base: { pid: process.pid, component: name } }, Object.assign(multi, { flush }));
  rawWriters.set(logger, (line) => {
    stdout?.write(line);
    file?.write(line);
  });
  return logger;
}

const rawWriters = new WeakMap<Logger, (line: string) => void>();

/**
 * A logger on another thread of this process (a TaskManager's slot): its JSON lines go to
 * `send`, which hands them to the process's logger (see writeLogLine), so one file holds them all.
 */
export function createForwardingLogger(name: string, send: (line: string) => void): Logger {
  const level = process.env.WEIR_LOG_LEVEL ?? 'info';
  return pino(
    { name, level: level in pino.levels.values ? level : 'info', base: { pid: process.pid, component: name } },
    { write: send },
  );
}

/** Writes a line a forwarding logger produced to the destinations of `logger` (from createLogger). */
export function writeLogLine(logger: Logger, line: string): void {
  rawWriters.get(logger)?.(line);
}

/** The size-rolled log file; write errors go to stderr once and never take the process down. */
function rollingFile(logFile: string, maxSize: number, maxFiles: number): Writable {
  if (!Number.isInteger(maxSize) || maxSize < 1)
    throw new Error(`log.file.max-size must be a positive size, got ${maxSize} bytes`);
  if (!Number.isInteger(maxFiles) || maxFiles < 1)
    throw new Error(`log.file.max-files must be a positive integer, got ${maxFiles}`);
  const stream = createStream(basename(logFile), { path: dirname(logFile), size: `${maxSize}B`, rotate: maxFiles });
  let reported = false;
  const report = (e: Error) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`cannot write the log file ${logFile}: ${e.message} (logging goes on to stdout only)\n`);
  };
  stream.on('error', report);
  stream.on('warning', (e: Error) => process.stderr.write(`log file ${logFile}: ${e.message}\n`));
  return stream;
}

function whenDrained(w: Writable, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = () => {
      if (w.writableLength === 0 || w.destroyed || Date.now() >= deadline) resolve();
      else setTimeout(check, 10);
    };
    check();
  });
}

/** A logger that writes nothing, for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Logs at level fatal, waits for the log to reach its file (at most 200 ms) and exits with `code`. */
export function exitAfterLogging(log: Logger, code: number, obj: object, msg: string): void {
  log.fatal(obj, msg);
  log.flush(() => process.exit(code));
  setTimeout(() => process.exit(code), 200).unref();
}

/**
 * A promise rejected with nobody to handle it is a bug whose consequences are unknown: the
 * process logs it with its stack and exits non-zero, so its supervisor and failover take over
 * instead of a process running on in an unknown state. `exiting` names rejections that are part
 * of an exit already under way.
 */
export function exitOnUnhandledRejection(log: Logger, who: string, exiting?: (reason: unknown) => boolean): void {
  process.on('unhandledRejection', (reason) => {
    // A refusal the process raised on its way out (a JobManager fenced off) is no bug.
    if (exiting?.(reason)) return;
    exitAfterLogging(
      log,
      1,
      { err: reason },
      `unhandled promise rejection: the ${who} stops (a bug: report it with this log line)`,
    );
  });
}
