// Human-readable renderings of the numbers the REST API returns.

const DASH = '—';

/** "850ms", "12s", "1m 12s", "2h 3m", "3d 4h"; a dash for unknown (negative) durations. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return DASH;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${h % 24}h`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Local "YYYY-MM-DD HH:mm:ss"; Flink's -1 (not yet / never) becomes a dash. */
export function formatTimestamp(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms <= 0) return DASH;
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** "3s ago" for an elapsed time in milliseconds. */
export function formatAgo(elapsedMs: number | null | undefined): string {
  if (elapsedMs == null || !Number.isFinite(elapsedMs) || elapsedMs < 0) return DASH;
  return elapsedMs < 1000 ? 'just now' : `${formatDuration(elapsedMs)} ago`;
}

/** Thousands-separated integer: "1,234,567". */
export function formatCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return DASH;
  return Math.round(n).toLocaleString('en-US');
}

/** Compact per-second rate: "0.5/s", "42/s", "12.3k/s", "1.05M/s". */
export function formatRate(perSecond: number | null | undefined): string {
  if (perSecond == null || !Number.isFinite(perSecond)) return DASH;
  return `${compact(perSecond)}/s`;
}

export function compact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${trim(n / 1e9)}G`;
  if (a >= 1e6) return `${trim(n / 1e6)}M`;
  if (a >= 1e3) return `${trim(n / 1e3)}k`;
  if (a === 0) return '0';
  return a < 10 ? n.toFixed(1).replace(/\.0$/, '') : String(Math.round(n));
}

function trim(n: number): string {
  const a = Math.abs(n);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return n.toFixed(digits).replace(/\.?0+$/, '');
}

/** Binary units, as memory and state sizes are: "512 B", "1.5 KiB", "12.3 MiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n) || n < 0) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/**
 * Flink's REST field `timeSinceLastHeartbeat` actually holds the heartbeat's epoch timestamp;
 * accept either form and return the elapsed milliseconds.
 */
export function heartbeatAge(value: number | undefined, now: number): number | undefined {
  if (value == null || !Number.isFinite(value)) return undefined;
  return value > 1e12 ? Math.max(0, now - value) : value;
}

/**
 * Splits a program-arguments line the way a shell would for simple cases:
 * whitespace separates, single or double quotes group, backslash escapes.
 */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let inToken = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inToken = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inToken = true;
    } else if (/\s/.test(c)) {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += c;
      inToken = true;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

/** The inverse of splitArgs: arguments as one line, quoted where they need it. */
export function joinArgs(args: readonly string[]): string {
  return args.map((a) => (a !== '' && !/[\s"'\\]/.test(a) ? a : `'${a.replace(/'/g, `'"'"'`)}'`)).join(' ');
}
