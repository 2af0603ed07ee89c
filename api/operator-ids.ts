// Operator ids, 32 lowercase hex characters like Flink's OperatorID. Checkpointed state is keyed
// by them, so they must come out the same every time the same main runs.
import { createHash } from 'node:crypto';

function hash32(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** From the user's `.uid()`: stable across changes elsewhere in the job. */
export function idFromUid(uid: string): string {
  return hash32(`uid\u0000${uid}`);
}

/** From the graph position: creation index, kind and the ids of the inputs. */
export function idFromPosition(index: number, kind: string, inputIds: readonly string[]): string {
  return hash32(`pos\u0000${index}\u0000${kind}\u0000${inputIds.join(',')}`);
}

/** The local phase of a split window aggregation (local-window-aggregation.ts): from its window's id. */
export function idOfLocalPhase(windowId: string): string {
  return hash32(`local\u0000${windowId}`);
}
