// The chaos job's results computed with plain loops.
import {
  countLine,
  JOIN_LOWER,
  JOIN_UPPER,
  joinLine,
  orderOf,
  paymentOf,
  sumLine,
  windowStart,
} from '../jobs/chaos-input.js';

export function chaosReference(n: number): string[] {
  const windows = new Map<string, { key: number; w: number; count: number; amount: number }>();
  const orders = Array.from({ length: n }, (_, i) => orderOf(i));
  const payments = Array.from({ length: n / 2 }, (_, j) => paymentOf(j));
  for (const o of orders) {
    const w = windowStart(o.ts);
    const id = `${o.key}/${w}`;
    const e = windows.get(id) ?? { key: o.key, w, count: 0, amount: 0 };
    e.count++;
    e.amount += o.amount;
    windows.set(id, e);
  }
  const out: string[] = [];
  for (const e of windows.values()) out.push(countLine(e.key, e.w, e.count, e.amount), sumLine(e.key, e.w, e.amount));
  const byKey = new Map<number, typeof payments>();
  for (const p of payments) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p]);
  for (const o of orders) {
    for (const p of byKey.get(o.key) ?? [])
      if (p.ts >= o.ts + JOIN_LOWER && p.ts <= o.ts + JOIN_UPPER) out.push(joinLine(o.id, p.id));
  }
  return out.sort();
}
