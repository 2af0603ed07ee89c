// When processes logged given messages, from the JSON lines (pino: `time` in epoch ms, `msg`) in
// their .out files: to tell where the time between a kill and the recovery went.
import { readFileSync } from 'node:fs';

export interface LogMark {
  label: string;
  files: string[];
  /** The message, or its beginning. */
  msg: string;
  /** Over the files: the earliest (default) or the latest of each file's first match. */
  which?: 'first' | 'last';
}

function firstAt(file: string, msg: string, since: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{') || !line.includes(msg)) continue;
    try {
      const entry = JSON.parse(line) as { time?: number; msg?: string };
      if (typeof entry.time === 'number' && entry.time >= since && entry.msg?.startsWith(msg)) return entry.time;
    } catch {
      // Not a log line.
    }
  }
  return undefined;
}

/** Milliseconds from `since` to each mark (null: not logged). */
export function logTimeline(since: number, marks: LogMark[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const m of marks) {
    const times = m.files.map((f) => firstAt(f, m.msg, since));
    const found = times.filter((t): t is number => t !== undefined);
    // 'last' needs every file to have logged it.
    const t =
      m.which === 'last'
        ? found.length === times.length && found.length
          ? Math.max(...found)
          : undefined
        : found.length
          ? Math.min(...found)
          : undefined;
    out[m.label] = t === undefined ? null : t - since;
  }
  return out;
}

/** "elected +2.9 s, job recovered +3.0 s", for a log line. */
export function describeTimeline(t: Record<string, number | null>): string {
  return Object.entries(t)
    .map(([label, ms]) => `${label} ${ms === null ? '—' : `+${(ms / 1000).toFixed(2)} s`}`)
    .join(', ');
}
