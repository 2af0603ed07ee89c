// The asynchronous part of a heap snapshot: the entries captured by the synchronous part, put in
// key-group order and turned into canonical chunks. Key groups are computed here, once per entry
// (and remembered on it), not on the per-record path.
import type { KeyGroupRange } from '../../common/keygroups.js';
import { toCanonicalValue } from './canonical-values.js';
import { CHUNK_ENTRIES } from './chunk-size.js';
import type { HeapEntry } from './heap-backend.js';
import { keyGroupInRange } from './key-group-check.js';
import type { KeyedEntry, KeyGroupChunk, Namespace, StateMeta } from './types.js';

/** Entries of one (table, namespace) as they were at the snapshot. */
export interface SnapshotPart {
  meta: StateMeta;
  namespace: Namespace;
  entries: HeapEntry[];
}

/** Entries handled between two yields to the event loop, so the task keeps processing records. */
const ENTRIES_PER_SLICE = 20_000;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function* keyGroupChunks(parts: SnapshotPart[], maxParallelism: number, range: KeyGroupRange): AsyncGenerator<KeyGroupChunk> {
  // Per key group, flat triples (part index, entry) to keep the buckets small.
  const buckets: Array<Array<number | HeapEntry> | undefined> = new Array(range.end - range.start + 1);
  let handled = 0;
  for (let p = 0; p < parts.length; p++) {
    const { meta, entries } = parts[p];
    for (const e of entries) {
      let kg = e.keyGroup;
      if (kg < 0) kg = e.keyGroup = keyGroupInRange(e.key, maxParallelism, range, `keyed state '${meta.name}'`);
      const bucket = (buckets[kg - range.start] ??= []);
      bucket.push(p, e);
      if (++handled % ENTRIES_PER_SLICE === 0) await yieldToEventLoop();
    }
  }
  for (let i = 0; i < buckets.length; i++) {
    const bucket = buckets[i];
    if (bucket === undefined) continue;
    buckets[i] = undefined;
    let entries: KeyedEntry[] = [];
    for (let j = 0; j < bucket.length; j += 2) {
      const part = parts[bucket[j] as number];
      const e = bucket[j + 1] as HeapEntry;
      entries.push([part.meta.name, e.key, part.namespace, toCanonicalValue(part.meta.kind, e.value)]);
      if (entries.length === CHUNK_ENTRIES) {
        yield { keyGroup: range.start + i, entries };
        entries = [];
      }
    }
    if (entries.length > 0) yield { keyGroup: range.start + i, entries };
  }
}
