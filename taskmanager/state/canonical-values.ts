// Conversion between the live form of values (what a backend's cache and the state objects hold)
// and their canonical form (what snapshots and LevelDB hold; see types.ts). They differ only for
// 'map' tables: live, a Map keyed by normalizeKey(userKey); canonical, an array of [userKey, value]
// pairs, because msgpack has no Map type that survives a round trip.
import { denormalizeKey, normalizeKey } from './key-normalizer.js';
import type { StateMeta, TableKind } from './types.js';

export function toCanonicalValue(kind: TableKind, live: unknown): unknown {
  if (kind !== 'map') return live;
  const map = live as Map<unknown, unknown>;
  const pairs = new Array<[unknown, unknown]>(map.size);
  let i = 0;
  for (const [k, v] of map) pairs[i++] = [denormalizeKey(k), v];
  return pairs;
}

export function fromCanonicalValue(meta: StateMeta, canonical: unknown): unknown {
  if (meta.kind !== 'map') return canonical;
  checkCanonicalMap(meta, canonical);
  const map = new Map<unknown, unknown>();
  for (const [k, v] of canonical) map.set(normalizeKey(k), v);
  return map;
}

export function checkCanonicalMap(meta: StateMeta, canonical: unknown): asserts canonical is Array<[unknown, unknown]> {
  if (!Array.isArray(canonical)) {
    throw new Error(
      `map state '${meta.name}': a canonical map value must be an array of [key, value] pairs, got ${typeof canonical}`,
    );
  }
  for (const pair of canonical) {
    if (!Array.isArray(pair) || pair.length !== 2)
      throw new Error(
        `map state '${meta.name}': a canonical map value holds an element that is not a [key, value] pair`,
      );
  }
}
