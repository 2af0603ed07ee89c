// Input of the JDBC sink jobs (test/jobs/jdbc-counts.ts) and their reference results: keyed events
// from a seeded generator, each a pure function of its index (so replays after a failover repeat
// it exactly), with event timestamps up to JITTER_MS out of order.

export interface JdbcEvent {
  key: number;
  value: number;
  ts: number;
}

/** One running-count update per event: what the job writes. */
export interface JdbcCount {
  key: number;
  count: number;
  total: number;
  /** Largest event timestamp of the key so far. */
  maxTs: number;
}

export const JDBC_KEYS = 37;
export const JDBC_SEED = 20240611;
export const JITTER_MS = 700;
const BASE_TS = Date.UTC(2024, 5, 11);

/** mulberry32 step on a state derived from the seed and the index. */
function hash(i: number, salt: number): number {
  let t = (JDBC_SEED ^ Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(salt, 0x85ebca6b)) >>> 0;
  t = (t + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export function jdbcEventOf(i: number): JdbcEvent {
  return {
    key: Math.floor(hash(i, 1) * JDBC_KEYS),
    value: Math.floor(hash(i, 2) * 1000),
    ts: BASE_TS + i * 10 - Math.floor(hash(i, 3) * JITTER_MS),
  };
}

/** Every update in order (one source subtask: each key sees its events in index order). */
export function jdbcUpdates(n: number): JdbcCount[] {
  const state = new Map<number, JdbcCount>();
  const out: JdbcCount[] = [];
  for (let i = 0; i < n; i++) {
    const e = jdbcEventOf(i);
    const prev = state.get(e.key) ?? { key: e.key, count: 0, total: 0, maxTs: Number.MIN_SAFE_INTEGER };
    const next = { key: e.key, count: prev.count + 1, total: prev.total + e.value, maxTs: Math.max(prev.maxTs, e.ts) };
    state.set(e.key, next);
    out.push(next);
  }
  return out;
}

/** The last update of every key: what an upsert table holds at the end. */
export function jdbcFinalCounts(n: number): JdbcCount[] {
  const last = new Map<number, JdbcCount>();
  for (const u of jdbcUpdates(n)) last.set(u.key, u);
  return [...last.values()].sort((a, b) => a.key - b.key);
}
