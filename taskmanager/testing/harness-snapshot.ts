// What a harness's snapshot() returns: the handles of real state files in the canonical snapshot
// format (what a checkpoint's _metadata lists), per operator id. A new harness restores them with
// initializeState(), at the same or another parallelism, as a task restores a checkpoint.
import type { OperatorSubtaskStateHandle } from '../../common/checkpoint.js';
import { keyGroupRangeFor } from '../../common/keygroups.js';

export interface OperatorSnapshotState {
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** Every subtask's handle; file names are relative to the snapshot root. */
  readonly subtasks: readonly OperatorSubtaskStateHandle[];
}

export interface HarnessSnapshot {
  readonly checkpointId: number;
  readonly maxParallelism: number;
  /** Parallelism of the harness (or harnesses) that took it. */
  readonly parallelism: number;
  /** Per operator id (the same ids as in a job built from the same pipeline). */
  readonly operators: Readonly<Record<string, OperatorSnapshotState>>;
  /** Set by repartition(): the one subtask this snapshot is cut for. */
  readonly target?: { readonly parallelism: number; readonly subtaskIndex: number };
}

/**
 * One snapshot of all subtasks from snapshots of single subtasks of one parallelism (Flink's
 * AbstractStreamOperatorTestHarness.repackageState); restore it at any parallelism.
 */
export function combineSnapshots(...snapshots: HarnessSnapshot[]): HarnessSnapshot {
  if (snapshots.length === 0) throw new Error('combineSnapshots() needs at least one snapshot');
  const first = snapshots[0]!;
  const operators: Record<string, OperatorSnapshotState> = {};
  const seen = new Set<string>();
  for (const s of snapshots) {
    if (s.target)
      throw new Error('combineSnapshots() takes snapshots taken by harnesses, not ones cut by repartition()');
    if (s.maxParallelism !== first.maxParallelism || s.parallelism !== first.parallelism) {
      throw new Error(
        `combineSnapshots(): snapshots of different parallelism (${first.parallelism}/${first.maxParallelism} and ${s.parallelism}/${s.maxParallelism})`,
      );
    }
    for (const [id, op] of Object.entries(s.operators)) {
      const prev = operators[id];
      for (const h of op.subtasks) {
        const k = `${id}/${h.subtaskIndex}`;
        if (seen.has(k))
          throw new Error(`combineSnapshots(): two snapshots hold subtask ${h.subtaskIndex} of operator ${id}`);
        seen.add(k);
      }
      operators[id] = {
        parallelism: op.parallelism,
        maxParallelism: op.maxParallelism,
        subtasks: [...(prev?.subtasks ?? []), ...op.subtasks],
      };
    }
  }
  return {
    checkpointId: Math.max(...snapshots.map((s) => s.checkpointId)),
    maxParallelism: first.maxParallelism,
    parallelism: first.parallelism,
    operators,
  };
}

/**
 * Cuts a snapshot for each subtask of `newParallelism` (Flink's repartitionOperatorState): subtask
 * i gets the keyed state of the key groups it owns then, and every old subtask's operator state,
 * which its restore splits among the new subtasks. Restoring the whole snapshot does the same; a cut
 * one is checked against the harness it restores into.
 */
export function repartition(snapshot: HarnessSnapshot, newParallelism: number): HarnessSnapshot[] {
  if (!Number.isInteger(newParallelism) || newParallelism < 1 || newParallelism > snapshot.maxParallelism) {
    throw new RangeError(
      `repartition() needs a parallelism between 1 and ${snapshot.maxParallelism}, got ${String(newParallelism)}`,
    );
  }
  const out: HarnessSnapshot[] = [];
  for (let i = 0; i < newParallelism; i++) {
    const range = keyGroupRangeFor(snapshot.maxParallelism, newParallelism, i);
    const operators: Record<string, OperatorSnapshotState> = {};
    for (const [id, op] of Object.entries(snapshot.operators)) {
      const subtasks = op.subtasks.filter(
        (h) =>
          h.operatorStates.length > 0 ||
          (h.keyGroupRange !== null && h.keyGroupRange.start <= range.end && range.start <= h.keyGroupRange.end),
      );
      operators[id] = { parallelism: op.parallelism, maxParallelism: op.maxParallelism, subtasks };
    }
    out.push({ ...snapshot, operators, target: { parallelism: newParallelism, subtaskIndex: i } });
  }
  return out;
}
