// Starting a job from a savepoint or a retained checkpoint (Flink's `-s <path>`): find and check
// the snapshot, then map its state onto the new job's operators by operator id (the hash of the
// uid where one is set), as Flink's StateAssignmentOperation does.
import { stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute } from 'node:path';
import type { CheckpointMetadata, CheckpointMetadataOperator } from '../../common/checkpoint.js';
import type { JobGraph } from '../../common/jobgraph.js';
import { METADATA_FILE, MetadataMissingError, readCheckpointMetadata, verifyStateFiles } from './checkpoint-storage.js';
import { finishedStateProblem } from './finished-state.js';
import { checkEnumeratorStates } from '../source-coordinator.js';

/** A snapshot a job starts from, and the job that wrote it. */
export interface ExternalRestore {
  metadata: CheckpointMetadata;
  /** Absolute path of the savepoint or chk-<n> directory. */
  dir: string;
}

/** Bad input, reported to the user as it is (a 400 through the REST API). */
export class SavepointRestoreError extends Error {
  override name = 'SavepointRestoreError';
}

/** Accepts the savepoint directory or its `_metadata` file, as Flink does; checks its state files. */
export async function loadExternalRestore(path: string): Promise<ExternalRestore> {
  const restore = await readExternalRestore(path);
  await verifyExternalRestore(restore, path);
  return restore;
}

/** The savepoint's `_metadata`, read and shape-checked; its state files are not read. */
export async function readExternalRestore(path: string): Promise<ExternalRestore> {
  if (!isAbsolute(path)) throw new SavepointRestoreError(`savepoint path '${path}' must be absolute`);
  let dir = path.replace(/\/+$/, '') || '/';
  let info;
  try {
    info = await stat(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SavepointRestoreError(
      code === 'ENOENT'
        ? `savepoint path ${path} does not exist`
        : `cannot read savepoint path ${path}: ${(e as Error).message}`,
    );
  }
  if (info.isFile()) {
    if (basename(dir) !== METADATA_FILE)
      throw new SavepointRestoreError(`${path} is a file, not a savepoint directory or its ${METADATA_FILE}`);
    dir = dirname(dir);
  }
  try {
    return { metadata: await readCheckpointMetadata(dir), dir };
  } catch (e) {
    throw restoreError(e, path);
  }
}

/** Checks the size and sha256 of every state file of a savepoint read by readExternalRestore. */
export async function verifyExternalRestore(restore: ExternalRestore, path: string): Promise<void> {
  try {
    await verifyStateFiles(restore.dir, restore.metadata);
  } catch (e) {
    throw restoreError(e, path);
  }
}

function restoreError(e: unknown, path: string): SavepointRestoreError {
  if (e instanceof MetadataMissingError)
    return new SavepointRestoreError(`${path} is not a savepoint or checkpoint: it has no ${METADATA_FILE} file`);
  return new SavepointRestoreError(`cannot restore from ${path}: ${(e as Error).message}`);
}

function describe(op: CheckpointMetadataOperator): string {
  return `${op.uid !== undefined ? `uid '${op.uid}'` : `id ${op.operatorId} (no uid)`}, name '${op.name}'`;
}

/**
 * Checks that every operator with state in the snapshot has a home in `graph`, that keyed state
 * keeps its maxParallelism, and that the graph can start from its finished operators. Returns the operators whose state is dropped (only with
 * allowNonRestoredState); throws a SavepointRestoreError otherwise.
 */
export function checkStateMapping(
  restore: ExternalRestore,
  graph: JobGraph,
  allowNonRestoredState: boolean,
): CheckpointMetadataOperator[] {
  const byId = new Map(graph.vertices.flatMap((v) => v.operators.map((op) => [op.id, { op, vertex: v }] as const)));
  const dropped: CheckpointMetadataOperator[] = [];
  const finished = finishedStateProblem(restore.metadata, graph);
  if (finished)
    throw new SavepointRestoreError(`Failed to rollback to checkpoint/savepoint ${restore.dir}: ${finished}.`);
  try {
    checkEnumeratorStates(graph.vertices, restore.metadata);
  } catch (e) {
    throw new SavepointRestoreError(
      `Failed to rollback to checkpoint/savepoint ${restore.dir}: ${(e as Error).message}`,
    );
  }
  for (const saved of restore.metadata.operators) {
    if (saved.subtasks.length === 0 && saved.coordinatorState === undefined) continue;
    const home = byId.get(saved.operatorId);
    if (!home) {
      if (!allowNonRestoredState) {
        throw new SavepointRestoreError(
          `Failed to rollback to checkpoint/savepoint ${restore.dir}. Cannot map checkpoint/savepoint state for operator ${describe(saved)} to the new program, because the operator is not available in the new program. If you want to allow to skip this, you can set allowNonRestoredState (--allowNonRestoredState / -n on the CLI).`,
        );
      }
      dropped.push(saved);
      continue;
    }
    const keyed = saved.subtasks.some((h) => h.keyGroupRange !== null);
    if (keyed && saved.maxParallelism !== home.vertex.maxParallelism) {
      throw new SavepointRestoreError(
        `Failed to rollback to checkpoint/savepoint ${restore.dir}: the maximum parallelism (${home.vertex.maxParallelism}) of operator ${describe(saved)} in the new program differs from the maximum parallelism (${saved.maxParallelism}) in the savepoint. Keyed state is split into that many key groups, so it must not change; set setMaxParallelism(${saved.maxParallelism}) on the operator.`,
      );
    }
  }
  return dropped;
}
