// Gives every operator of a chain its state before it opens (Flink's StreamTaskStateInitializer):
// a keyed backend for operators on keyed streams, operator list state for all, both restored from
// the checkpoint the deployment names, then the operator's initializeState().
import { dirname, join } from 'node:path';
import {
  SHARED_STATE_DIR,
  type TaskRestoreDescriptor,
  type OperatorSubtaskStateHandle,
} from '../../common/checkpoint.js';
import type { JobVertex } from '../../common/jobgraph.js';
import type { KeyGroupRange } from '../../common/keygroups.js';
import { needsKeyedStateBackend, type StreamOperator } from '../operators/operator.js';
import { createKeyedStateBackend, restoreKeyedState } from '../state/backend-factory.js';
import { OperatorStateBackend, redistributeOperatorState } from '../state/operator-state.js';
import { readSnapshotFile } from '../state/snapshot-file.js';
import type { KeyedStateBackend, OperatorStateEntry } from '../state/types.js';
import type { OperatorStateHolder } from './subtask-checkpoint.js';

export interface OperatorStateSetupOptions {
  vertex: JobVertex;
  operators: StreamOperator[];
  subtaskIndex: number;
  parallelism: number;
  keyGroupRange: KeyGroupRange;
  backendType: 'heap' | 'level';
  /** Directory for on-disk backends of this task (removed when the task ends). */
  stateDir: string;
  restore: TaskRestoreDescriptor | undefined;
}

function overlaps(a: KeyGroupRange, b: { start: number; end: number }): boolean {
  return a.start <= b.end && b.start <= a.end;
}

async function restoredOperatorStates(
  dir: string,
  restored: { parallelism: number; subtasks: OperatorSubtaskStateHandle[] },
  parallelism: number,
  index: number,
): Promise<OperatorStateEntry[]> {
  const withState = restored.subtasks.filter((h) => h.operatorStates.length > 0);
  if (withState.length === 0) return [];
  const old: OperatorStateEntry[][] = Array.from({ length: restored.parallelism }, () => []);
  for (const h of withState) {
    // Only the front of each file is read: operator state precedes the keyed chunks.
    const file = await readSnapshotFile(join(dir, h.file), {});
    old[h.subtaskIndex] = file.operatorStates;
  }
  return redistributeOperatorState(old, parallelism, index);
}

/** Creates, restores and initializes the state of every operator; returns what checkpoints need. */
export async function setUpOperatorState(o: OperatorStateSetupOptions): Promise<OperatorStateHolder[]> {
  const holders: OperatorStateHolder[] = [];
  try {
    for (let i = 0; i < o.vertex.operators.length; i++) {
      const desc = o.vertex.operators[i]!;
      const operator = o.operators[i]!;
      const restored = o.restore?.operators[desc.id];
      if (restored && restored.maxParallelism !== o.vertex.maxParallelism) {
        throw new Error(
          `cannot restore operator '${desc.name}' from checkpoint ${o.restore!.checkpointId}: its maxParallelism changed from ${restored.maxParallelism} to ${o.vertex.maxParallelism} (key groups cannot be remapped)`,
        );
      }
      let keyed: KeyedStateBackend | undefined;
      if (needsKeyedStateBackend(desc)) {
        keyed = await createKeyedStateBackend(o.backendType, {
          maxParallelism: o.vertex.maxParallelism,
          keyGroupRange: o.keyGroupRange,
          dir: join(o.stateDir, desc.id),
        });
      }
      const operatorState = new OperatorStateBackend();
      holders.push({ operator, operatorId: desc.id, keyed, operatorState });
      if (restored) {
        const files = restored.subtasks
          .filter((h) => h.keyGroupRange !== null && overlaps(o.keyGroupRange, h.keyGroupRange))
          .map((h) => ({
            path: join(o.restore!.dir, h.file),
            sha256: h.sha256,
            // Incremental files live next to the chk-<n> folders, in the job's shared folder.
            ...(h.shared?.length
              ? {
                  chain: h.shared.map((f) => ({
                    path: join(dirname(o.restore!.dir), SHARED_STATE_DIR, f.name),
                    sha256: f.sha256,
                    delta: f.delta,
                  })),
                }
              : {}),
          }));
        if (files.length > 0) {
          if (!keyed)
            throw new Error(
              `checkpoint ${o.restore!.checkpointId} holds keyed state for operator '${desc.name}', which is no longer on a keyed stream`,
            );
          await restoreKeyedState(keyed, files, (meta, entry) => operator.restoreRawKeyedState(meta, entry));
        }
        operatorState.restore(await restoredOperatorStates(o.restore!.dir, restored, o.parallelism, o.subtaskIndex));
      }
      await operator.initializeState({
        isRestored: () => restored !== undefined,
        getOperatorStateStore: () => operatorState,
        keyedStateBackend: keyed,
        getBroadcastState: (name) => operatorState.getBroadcastMap(name),
      });
    }
  } catch (e) {
    await disposeOperatorState(holders);
    throw e;
  }
  return holders;
}

export async function disposeOperatorState(holders: OperatorStateHolder[]): Promise<void> {
  for (const h of holders) {
    try {
      await h.keyed?.dispose();
    } catch {
      // best effort: the directory is the task's own
    }
  }
}
