// Reads an operator's keyed state as a whole (the backend has no per-key listing on the record
// path, as Flink's backends): through a snapshot, for tests and diagnostics, never per record.
import type { KeyedEntry, KeyedStateBackend } from '../state/types.js';

/** Entries of the tables whose name `wanted` accepts, as of now (values canonical). */
export async function keyedEntries(
  backend: KeyedStateBackend,
  wanted: (stateName: string) => boolean,
): Promise<KeyedEntry[]> {
  const snapshot = backend.snapshot();
  const out: KeyedEntry[] = [];
  try {
    for await (const chunk of snapshot.chunks()) for (const e of chunk.entries) if (wanted(e[0])) out.push(e);
  } finally {
    snapshot.release();
  }
  return out;
}

/** Distinct keys among `entries` (keys compare by value). */
export function distinctKeys(entries: readonly KeyedEntry[]): number {
  const seen = new Set<unknown>();
  for (const e of entries) seen.add(typeof e[1] === 'object' && e[1] !== null ? `\u0000${JSON.stringify(e[1])}` : e[1]);
  return seen.size;
}
