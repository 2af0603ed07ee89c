// Validation of the key-group settings a keyed backend or snapshot file is made with.
import { assignToKeyGroup, type KeyGroupRange } from '../../common/keygroups.js';
import { describeKey } from './key-normalizer.js';

/** Flink's upper bound for maxParallelism; key groups also fit the level backend's 2-byte prefix. */
export const MAX_MAX_PARALLELISM = 32768;

export function checkKeyGroupRange(maxParallelism: number, range: KeyGroupRange): void {
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_MAX_PARALLELISM) {
    throw new RangeError(
      `maxParallelism must be an integer between 1 and ${MAX_MAX_PARALLELISM}, got ${String(maxParallelism)}`,
    );
  }
  if (
    !range ||
    !Number.isInteger(range.start) ||
    !Number.isInteger(range.end) ||
    range.start < 0 ||
    range.end < range.start ||
    range.end >= maxParallelism
  ) {
    throw new RangeError(`invalid key-group range ${JSON.stringify(range)} for maxParallelism ${maxParallelism}`);
  }
}

/** The key group of `key`, which must lie in `range` (else the partitioner and the backend disagree). */
export function keyGroupInRange(key: unknown, maxParallelism: number, range: KeyGroupRange, what: string): number {
  const kg = assignToKeyGroup(key, maxParallelism);
  if (kg < range.start || kg > range.end) {
    throw new Error(
      `${what}: key ${describeKey(key)} belongs to key group ${kg}, outside this subtask's key groups ${range.start}..${range.end}`,
    );
  }
  return kg;
}
