// Reading a FileSink's committed output the way a downstream reader would.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Lines of every visible (committed) part file in `dir`. */
export function readCommittedLines(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const lines: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (f.startsWith('.')) continue;
    for (const l of readFileSync(join(dir, f), 'utf8').split('\n')) if (l) lines.push(l);
  }
  return lines;
}

/** Groups running-count updates "key,count" and checks each key saw exactly 1..N. */
export function finalCounts(lines: string[]): Map<string, number> {
  const seen = new Map<string, number[]>();
  for (const l of lines) {
    const i = l.lastIndexOf(',');
    const key = l.slice(0, i);
    const n = Number(l.slice(i + 1));
    let arr = seen.get(key);
    if (!arr) seen.set(key, (arr = []));
    arr.push(n);
  }
  const out = new Map<string, number>();
  for (const [k, arr] of seen) {
    arr.sort((a, b) => a - b);
    for (let i = 0; i < arr.length; i++)
      if (arr[i] !== i + 1)
        throw new Error(
          `key ${k}: updates are not 1..${arr.length}: at position ${i + 1} came ${arr[i]} (around it: ${arr.slice(Math.max(0, i - 3), i + 4).join(',')})`,
        );
    out.set(k, arr.length);
  }
  return out;
}
