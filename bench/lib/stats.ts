// Small statistics and formatting helpers shared by benchmarks.
import type { Figure } from './benchmark.js';

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Records per second of `records` processed in `ms` milliseconds. */
export function perSecond(records: number, ms: number): number {
  if (!(ms > 0)) throw new RangeError(`cannot compute a rate over ${ms} ms`);
  return (records * 1000) / ms;
}

/** 1234567 → "1.23 M", 45678 → "45.7 k". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(a >= 100 || Number.isInteger(n) ? 0 : 2);
}

/** "median of 3: 1.2 M, 1.3 M, 1.1 M", the note beside a figure. */
export function medianNote(values: readonly number[]): string {
  return `median of ${values.length}: ${values.map(formatCount).join(', ')}`;
}

/** The median of `values` as a figure, noted with `medianNote` (then "; " and `noteSuffix`, if given). */
export function medianFigure(name: string, values: readonly number[], unit: string, noteSuffix?: string): Figure {
  const note = medianNote(values);
  return { name, value: median(values), unit, note: noteSuffix ? `${note}; ${noteSuffix}` : note };
}
