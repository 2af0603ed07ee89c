// Gives every operator of a chain its state before it opens (Flink's StreamTaskStateInitializer):
// a keyed backend for operators on keyed streams, operator list state for all, both restored from
// the checkpoint the deployment names, then the operator's initializeState().
// A failover restore of incremental state (one chain per operator, same key groups, in this job's
// own shared folder) continues that chain: the first checkpoint after it is a delta, as with Flink's
// RocksDB backend. A restore from another job's checkpoint (`-s`) starts a new chain (Flink's
// NO_CLAIM): that job's JobManager owns those files and may delete them.
import { dirname, join, resolve } from 'node:path';
import {
  DEFAULT_INCREMENTAL_CHECKPOINTS,
  SHARED_STATE_DIR,
  type TaskCheckpointSettings,
  type TaskRestoreDescriptor,
  type OperatorSubtaskStateHandle,
} from '../../common/checkpoint.js';
import type { JobVertex } from '../../common/jobgraph.js';
import type { KeyGroupRange } from '../../common/keygroups.js';
import { needsKeyedStateBackend, type StreamOperator } from '../operators/operator.js';
import { createKeyedStateBackend, restoreKeyedState } from '../state/backend-factory.js';
import { OperatorStateBackend, redistributeOperatorState } from '../state/operator-state.js';
import { readSnapshotFile } from '../state/snapshot-file.js';
import { LevelKeyedStateBackend } from '../state/level-backend.js';
import type { KeyedStateBackend, OperatorStateEntry } from '../state/types.js';
import type { OperatorStateHolder, RestoredChain } from './subtask-checkpoint.js';

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
  /** The task's checkpoint settings: whether and where a restored incremental chain may be continued. */
  checkpointing?: TaskCheckpointSettings;
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
      const holder: OperatorStateHolder = { operator, operatorId: desc.id, keyed, operatorState };
      holders.push(holder);
      if (restored) {
        const handles = restored.subtasks.filter(
          (h) => h.keyGroupRange !== null && overlaps(o.keyGroupRange, h.keyGroupRange),
        );
        const files = handles.map((h) => ({
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
          const chain = continuableChain(o, keyed, handles);
          if (chain && keyed instanceof LevelKeyedStateBackend) {
            // Before initializeState(): whatever the operator writes from here on belongs in the delta.
            keyed.continueIncrementalFrom(chain.checkpointId);
            holder.restoredChain = chain;
          }
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

/**
 * The restored chain when the next checkpoint may build a delta on it: incremental checkpoints of
 * the level backend, exactly the key groups of one old subtask (no rescale), and files in this job's
 * shared folder, whose JobManager keeps them while a retained checkpoint lists them.
 */
function continuableChain(
  o: OperatorStateSetupOptions,
  keyed: KeyedStateBackend,
  handles: OperatorSubtaskStateHandle[],
): RestoredChain | undefined {
  const cp = o.checkpointing;
  if (!cp?.periodic || !(cp.incremental ?? DEFAULT_INCREMENTAL_CHECKPOINTS)) return undefined;
  if (!(keyed instanceof LevelKeyedStateBackend) || handles.length !== 1) return undefined;
  const [h] = handles as [OperatorSubtaskStateHandle];
  const range = h.keyGroupRange!;
  if (range.start !== o.keyGroupRange.start || range.end !== o.keyGroupRange.end) return undefined;
  if (!h.shared?.length) return undefined;
  if (resolve(dirname(o.restore!.dir)) !== resolve(cp.jobDir)) return undefined;
  return { checkpointId: o.restore!.checkpointId, files: h.shared };
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
