// Reference for test/jobs/cpf-union.ts: how many records each key gets from both sources.
import { EVENT_SOURCE, REFERENCE_SOURCE, unionKeyOf } from '../jobs/cpf-union.js';

export function referenceUnionCounts(
  refCount: number,
  eventCount: number,
  keys: number,
  seed: number,
): Map<string, number> {
  const m = new Map<string, number>();
  const add = (k: number) => m.set(String(k), (m.get(String(k)) ?? 0) + 1);
  for (let i = 0; i < refCount; i++) add(unionKeyOf(REFERENCE_SOURCE, i, keys, seed));
  for (let i = 0; i < eventCount; i++) add(unionKeyOf(EVENT_SOURCE, i, keys, seed));
  return m;
}
