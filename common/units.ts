// Flink-style duration and memory size strings: "500 ms", "10 s", "1 min", "64 kb".

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  nano: 1e-6,
  nanos: 1e-6,
  nanosecond: 1e-6,
  nanoseconds: 1e-6,
  us: 1e-3,
  micro: 1e-3,
  micros: 1e-3,
  microsecond: 1e-3,
  microseconds: 1e-3,
  ms: 1,
  milli: 1,
  millis: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** Milliseconds for "10 s", "500ms", "2 min" or a plain number (milliseconds, as in Flink). */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text;
  // A negative number is allowed for Flink's "-1: never" settings (execution.buffer-timeout: -1).
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) throw new Error(`invalid duration '${text}' (expected e.g. '500 ms', '10 s', '1 min')`);
  const unit = m[2]!.toLowerCase();
  if (unit === '') return Number(m[1]);
  const factor = DURATION_UNITS[unit];
  if (factor === undefined) throw new Error(`invalid duration unit '${m[2]}' in '${text}'`);
  return Number(m[1]) * factor;
}

const MEMORY_UNITS: Record<string, number> = {
  b: 1,
  bytes: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  kibibytes: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  mebibytes: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  gibibytes: 1024 ** 3,
};

/** Bytes for "32 kb", "64m" or a plain number of bytes. */
export function parseMemorySize(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) throw new Error(`invalid memory size '${text}' (expected e.g. '32 kb', '64 mb')`);
  const unit = m[2]!.toLowerCase();
  if (unit === '') return Number(m[1]);
  const factor = MEMORY_UNITS[unit];
  if (factor === undefined) throw new Error(`invalid memory unit '${m[2]}' in '${text}'`);
  return Math.round(Number(m[1]) * factor);
}
