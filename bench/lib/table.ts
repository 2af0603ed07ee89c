// Plain-text table of all figures of a run.
import type { BenchmarkResult } from './benchmark.js';
import { formatCount } from './stats.js';

function formatValue(value: number, unit: string): string {
  if (unit === 'ratio') return value.toFixed(3);
  if (unit === 'bytes/record' || unit === 'MB') return value.toFixed(1);
  return formatCount(value);
}

export function renderTable(results: readonly BenchmarkResult[]): string {
  const rows: string[][] = [['benchmark', 'figure', 'value', 'unit', 'how']];
  for (const r of results) {
    for (const f of r.figures) rows.push([r.benchmark, f.name, formatValue(f.value, f.unit), f.unit, f.note ?? '']);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}
