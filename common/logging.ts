// Structured JSON logs (pino) to stdout and to the process's own log file.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, logFile?: string, level = process.env.WEIR_LOG_LEVEL ?? 'info'): Logger {
  const streams: pino.StreamEntry[] = [{ stream: pino.destination({ fd: 1, sync: false }) }];
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true });
    streams.push({ stream: pino.destination({ dest: logFile, sync: false, mkdir: true }) });
  }
  return pino({ name, level, base: { pid: process.pid, component: name } }, pino.multistream(streams));
}

/** A logger that writes nothing, for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
