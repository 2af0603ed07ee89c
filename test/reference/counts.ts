// Reference for the keyed running-count jobs: how many records each key gets from the generator.
import { keyOf } from '../jobs/keyed-count.js';

export function referenceCounts(count: number, keys: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const k = String(keyOf(i, keys));
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}
