// Randomized, out-of-order input for the join tests: two sides of keyed records, and the line
// formats both the test jobs and the references produce. Record i of a side is a pure function of
// (i, side, params): jobs generate it in the TaskManagers, references in the test process.

export interface JRecord {
  side: 0 | 1;
  seq: number;
  key: number;
  value: number;
  ts: number;
}

export interface JSideParams {
  count: number;
  /** Event-time distance between consecutive positions. */
  stepMs: number;
}

export interface JInputParams {
  seed: number;
  keys: number;
  /** Every record is up to this much earlier than its position (keep it below the watermark bound). */
  disorderMs: number;
  left: JSideParams;
  right: JSideParams;
}

export const BASE_TIME = 1_000_000;

function hash(i: number, seed: number, stream: number): number {
  let x = Math.imul((i ^ Math.imul(seed + 1, 0x9e3779b9)) + stream * 0x632be5ab, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x = Math.imul(x ^ (x >>> 16), 0x27d4eb2d);
  return (x ^ (x >>> 15)) >>> 0;
}

export function jRecord(side: 0 | 1, i: number, p: JInputParams): JRecord {
  const s = side === 0 ? p.left : p.right;
  const salt = side * 16;
  const ts = BASE_TIME + Math.floor(i * s.stepMs) - (hash(i, p.seed, salt + 1) % (p.disorderMs + 1));
  return { side, seq: i, key: hash(i, p.seed, salt + 2) % p.keys, value: hash(i, p.seed, salt + 3) % 1000, ts };
}

export function jRecords(side: 0 | 1, p: JInputParams): JRecord[] {
  const n = side === 0 ? p.left.count : p.right.count;
  return Array.from({ length: n }, (_, i) => jRecord(side, i, p));
}

/** A joined pair (window join: the pair's records; the join function does not see the window). */
export function pairLine(l: JRecord, r: JRecord): string {
  return `${l.key}|L${l.seq}|R${r.seq}`;
}

/** A coGroup call: the key and both sides' records, sorted. */
export function coGroupLine(lefts: readonly JRecord[], rights: readonly JRecord[]): string {
  const key = (lefts[0] ?? rights[0])!.key;
  const seqs = (rs: readonly JRecord[]) =>
    rs
      .map((r) => r.seq)
      .sort((a, b) => a - b)
      .join(',');
  return `${key}|L${seqs(lefts)}|R${seqs(rights)}`;
}

/** An interval-join result with the timestamps its context reported. */
export function intervalLine(l: JRecord, r: JRecord, leftTs: number, rightTs: number, ts: number): string {
  return `${l.key}|L${l.seq}|R${r.seq}|${leftTs}|${rightTs}|${ts}`;
}

/** The keyed co-process test: per key and slot, a timer at the slot's last millisecond reports each side's count. */
export const SLOT_MS = 500;

export function slotEnd(ts: number): number {
  return Math.floor(ts / SLOT_MS) * SLOT_MS + SLOT_MS - 1;
}

export function slotLine(key: number, time: number, timestamp: number | null, lefts: number, rights: number): string {
  return `${key}|${time}|ts=${timestamp}|${lefts}|${rights}`;
}

/** Records of the second input the co-process function sends to its side output. */
export function isSideOutput(r: JRecord): boolean {
  return r.side === 1 && r.value % 5 === 0;
}

export function sideLine(r: JRecord): string {
  return `${r.key}|R${r.seq}|${r.ts}`;
}

export type JWindowSpec =
  | { kind: 'tumbling'; size: number }
  | { kind: 'sliding'; size: number; slide: number }
  | { kind: 'session'; gap: number };

/** The j-joins job's JSON argument. */
export type JJobSpec = {
  input: JInputParams;
  /** Watermark bound of both sources (bounded out-of-orderness). */
  boundMs: number;
} & (
  | { op: 'join' | 'coGroup'; window: JWindowSpec }
  | { op: 'interval'; lower: number; upper: number; lowerExclusive: boolean; upperExclusive: boolean }
  | { op: 'coProcess' }
);

/** The broadcast test: rules that the broadcast side puts and removes, in order. */
export interface Rule {
  op: 'put' | 'remove';
  id: string;
  /** An event matches when value % modulus === remainder. */
  modulus: number;
  remainder: number;
}

export function ruleMatches(rule: Rule, r: JRecord): boolean {
  return r.value % rule.modulus === rule.remainder;
}

export function matchLine(r: JRecord, ruleId: string): string {
  return `${r.key}|L${r.seq}|${ruleId}`;
}

/** Seeded rule changes: puts of rules r0..r{n-1}, some overwritten or removed later. */
export function ruleChanges(seed: number, n: number): Rule[] {
  const out: Rule[] = [];
  for (let i = 0; i < n; i++)
    out.push({ op: 'put', id: `r${i}`, modulus: 3 + (hash(i, seed, 40) % 17), remainder: hash(i, seed, 41) % 3 });
  for (let i = 0; i < n; i++) {
    const h = hash(i, seed, 42) % 4;
    if (h === 0) out.push({ op: 'remove', id: `r${i}`, modulus: 1, remainder: 0 });
    else if (h === 1) out.push({ op: 'put', id: `r${i}`, modulus: 5 + (hash(i, seed, 43) % 11), remainder: 1 });
  }
  return out;
}

/** The rules in force after every change, by id. */
export function finalRules(changes: readonly Rule[]): Map<string, Rule> {
  const m = new Map<string, Rule>();
  for (const c of changes) {
    if (c.op === 'put') m.set(c.id, c);
    else m.delete(c.id);
  }
  return m;
}
