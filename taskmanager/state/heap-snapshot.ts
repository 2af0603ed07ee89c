// The asynchronous part of a heap snapshot: the keys and values captured by the synchronous part,
// put in key-group order and turned into canonical chunks. Keys are captured normalized; they are
// turned back into keys and their key groups computed here, not on the per-record path.
import type { KeyGroupRange } from '../../common/keygroups.js';
import { toCanonicalValue } from './canonical-values.js';
import { CHUNK_ENTRIES } from './chunk-size.js';
import { keyGroupInRange } from './key-group-check.js';
import { denormalizeKey } from './key-normalizer.js';
import type { KeyedEntry, KeyGroupChunk, Namespace, StateMeta } from './types.js';

/** The values of one (table, namespace) as they were at the snapshot: keys[i] (normalized) holds values[i]. */
export interface SnapshotPart {
  meta: StateMeta;
  namespace: Namespace;
  keys: unknown[];
  values: unknown[];
}

/** Entries handled between two yields to the event loop, so the task keeps processing records. */
const ENTRIES_PER_SLICE = 20_000;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function* keyGroupChunks(
  parts: SnapshotPart[],
  maxParallelism: number,
  range: KeyGroupRange,
): AsyncGenerator<KeyGroupChunk> {
  // Per key group, flat triples (part index, entry index, key) to keep the buckets small. The
  // parts stay as captured: chunks() may be read more than once.
  const buckets: Array<unknown[] | undefined> = new Array(range.end - range.start + 1);
  let handled = 0;
  for (let p = 0; p < parts.length; p++) {
    const { meta, keys } = parts[p];
    for (let i = 0; i < keys.length; i++) {
      const key = denormalizeKey(keys[i]);
      const kg = keyGroupInRange(key, maxParallelism, range, `keyed state '${meta.name}'`);
      (buckets[kg - range.start] ??= []).push(p, i, key);
      if (++handled % ENTRIES_PER_SLICE === 0) await yieldToEventLoop();
    }
  }
  for (let b = 0; b < buckets.length; b++) {
    const bucket = buckets[b];
    if (bucket === undefined) continue;
    buckets[b] = undefined;
    let entries: KeyedEntry[] = [];
    for (let j = 0; j < bucket.length; j += 3) {
      const part = parts[bucket[j] as number];
      entries.push([
        part.meta.name,
        bucket[j + 2],
        part.namespace,
        toCanonicalValue(part.meta.kind, part.values[bucket[j + 1] as number]),
      ]);
      if (entries.length === CHUNK_ENTRIES) {
        yield { keyGroup: range.start + b, entries };
        entries = [];
      }
    }
    if (entries.length > 0) yield { keyGroup: range.start + b, entries };
  }
}
