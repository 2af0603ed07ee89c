// Randomized, out-of-order input for the event-time tests, and the line formats both the test jobs
// and the references produce. Record i is a pure function of (i, params): jobs generate it in the
// TaskManagers, references in the test process.

export interface EtRecord {
  seq: number;
  key: number;
  value: number;
  ts: number;
}

export interface EtInputParams {
  seed: number;
  count: number;
  keys: number;
  /** Event-time distance between consecutive positions. */
  stepMs: number;
  /** Every record is up to this much earlier than its position. */
  disorderMs: number;
  /** Percentage of records that are up to `lateMs` earlier still (late data). */
  latePercent?: number;
  lateMs?: number;
}

export const BASE_TIME = 1_000_000;

function hash(i: number, seed: number, stream: number): number {
  let x = Math.imul((i ^ Math.imul(seed + 1, 0x9e3779b9)) + stream * 0x632be5ab, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x = Math.imul(x ^ (x >>> 16), 0x27d4eb2d);
  return (x ^ (x >>> 15)) >>> 0;
}

export function etRecord(i: number, p: EtInputParams): EtRecord {
  let ts = BASE_TIME + Math.floor(i * p.stepMs) - (hash(i, p.seed, 1) % (p.disorderMs + 1));
  if (p.latePercent && p.lateMs && hash(i, p.seed, 2) % 100 < p.latePercent) ts -= hash(i, p.seed, 3) % (p.lateMs + 1);
  return { seq: i, key: hash(i, p.seed, 4) % p.keys, value: hash(i, p.seed, 5) % 1000, ts };
}

export function etRecords(p: EtInputParams): EtRecord[] {
  return Array.from({ length: p.count }, (_, i) => etRecord(i, p));
}

/** Reduce and aggregate both compute these (commutative, so merge order does not matter). */
export interface Stats {
  key: number;
  /** Smallest seq folded in: identifies a single record in the late-data output. */
  seq: number;
  sum: number;
  count: number;
  minTs: number;
  maxTs: number;
}

export function statsOf(r: EtRecord): Stats {
  return { key: r.key, seq: r.seq, sum: r.value, count: 1, minTs: r.ts, maxTs: r.ts };
}

export function mergeStats(a: Stats, b: Stats): Stats {
  return {
    key: a.key,
    seq: Math.min(a.seq, b.seq),
    sum: a.sum + b.sum,
    count: a.count + b.count,
    minTs: Math.min(a.minTs, b.minTs),
    maxTs: Math.max(a.maxTs, b.maxTs),
  };
}

export function statsLine(s: Stats): string {
  return `${s.key}|${s.sum}|${s.count}|${s.minTs}|${s.maxTs}`;
}

/** What a process window function reports: the window, its elements (sorted) and optionally the watermark. */
export function processLine(
  key: number,
  start: number,
  end: number,
  seqs: number[],
  watermark: number | undefined,
): string {
  const sorted = [...seqs].sort((a, b) => a - b);
  return `${key}|${start}|${end}|${sorted.length}|${sorted.join(',')}${watermark === undefined ? '' : `|wm=${watermark}`}`;
}

/** Reduce or aggregate followed by a process function: the window and the pre-aggregated stats. */
export function windowStatsLine(start: number, end: number, s: Stats, watermark: number | undefined): string {
  return `${start}|${end}|${statsLine(s)}${watermark === undefined ? '' : `|wm=${watermark}`}`;
}

/** A late record, from the record itself or from its single-record Stats. */
export function lateLine(r: EtRecord | Stats): string {
  return `${r.key}|${r.seq}|${'ts' in r ? r.ts : r.minTs}`;
}

/** The event-time timers the timer test's KeyedProcessFunction registers and deletes for a record. */
export function timerPlan(r: EtRecord): { register: number[]; delete: number[] } {
  const slot = Math.ceil(r.ts / 100) * 100;
  return { register: [slot + 100 * (r.value % 4)], delete: r.value % 7 === 0 ? [slot + 200] : [] };
}

/** A record the process function saw at or behind its current watermark, with ctx.timestamp(). */
export function behindLine(r: EtRecord, timestamp: number | null, watermark: number): string {
  return `${r.key}|${r.seq}|ts=${timestamp}|wm=${watermark}`;
}

export function timerLine(key: number, time: number, timestamp: number | null, watermark: number): string {
  return `${key}|${time}|ts=${timestamp}|wm=${watermark}`;
}

/** The job's JSON argument. */
export interface WindowJobSpec {
  input: EtInputParams;
  /** 'perEvent': forGenerator emitting in onEvent (exact; use with sourceParallelism 1). 'periodic': forBoundedOutOfOrderness. */
  watermarks: 'perEvent' | 'periodic';
  boundMs: number;
  sourceParallelism?: number;
  window:
    | { kind: 'tumbling'; size: number; offset?: number }
    | { kind: 'sliding'; size: number; slide: number }
    | { kind: 'session'; gap: number };
  fn: 'reduce' | 'aggregate' | 'process' | 'reduceProcess' | 'aggregateProcess';
  allowedLateness?: number;
  sideOutputLateData?: boolean;
  /** Add the watermark at firing to process output (exact only with perEvent watermarks). */
  reportWatermark?: boolean;
}
