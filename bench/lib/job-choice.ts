// The job a developer script runs: the keyed count, or a Nexmark query (q8 has a job of its own).
import { DEFAULT_KEYS } from './keyed-records.js';

/** The job's source path and its arguments for `n` records (keyed count) or events (Nexmark). */
export function keyedCountOrQuery(query: string | undefined): { job: string; args: (n: number) => string[] } {
  if (query === undefined) return { job: 'bench/jobs/keyed-count.ts', args: (n) => [String(n), String(DEFAULT_KEYS)] };
  if (query === 'q8') return { job: 'bench/jobs/nexmark-q8.ts', args: (n) => [String(n)] };
  return { job: 'bench/jobs/nexmark.ts', args: (n) => [query, String(n)] };
}
