// Restoring a FileSink subtask: finish the commits of the restored checkpoint and remove what
// was written after it. The writer state is union list state (every subtask sees every former
// subtask's entry), so each former subtask index has exactly one owner after a rescale: no two
// subtasks commit the same file, and none deletes hidden files another one still commits.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { commitPendingFile, syncDirectory, type PendingPartFile } from './file-sink-committer.js';
import type { PartFileNaming } from './part-file-naming.js';

/** One sink subtask's entry in the operator state, written at every checkpoint. */
export interface FileSinkWriterState {
  /** Directory the files were written to (absolute). */
  dir: string;
  subtaskIndex: number;
  /** Closed parts not committed at the checkpoint: all of them belong to completed checkpoints once it is restored. */
  pending: PendingPartFile[];
}

export function isFileSinkWriterState(v: unknown): v is FileSinkWriterState {
  const s = v as FileSinkWriterState;
  return (
    !!s && typeof s === 'object' && typeof s.dir === 'string' && Number.isInteger(s.subtaskIndex) && s.subtaskIndex >= 0 && Array.isArray(s.pending) &&
    s.pending.every((p) => !!p && typeof p.name === 'string' && Number.isInteger(p.size) && p.size >= 0 && typeof p.checkpointId === 'number')
  );
}

/** The subtask (of `parallelism`) that recovers the files former subtask `formerIndex` left. */
export function recoveryOwner(formerIndex: number, parallelism: number): number {
  return formerIndex % parallelism;
}

export interface FileSinkRecoveryResult {
  /** Final paths of the restored pending files (committed now or before). */
  committed: string[];
  /** Hidden files removed: parts written after the restored checkpoint. */
  deleted: string[];
}

/**
 * Commits the pending files of the entries this subtask owns, then deletes the hidden leftovers
 * of those former subtasks and of its own index. Safe to repeat.
 */
export function recoverFileSink(opts: {
  dir: string;
  naming: PartFileNaming;
  subtaskIndex: number;
  parallelism: number;
  states: unknown[];
}): FileSinkRecoveryResult {
  const { dir, naming, subtaskIndex, parallelism } = opts;
  const result: FileSinkRecoveryResult = { committed: [], deleted: [] };
  const cleanUp = new Set<number>([subtaskIndex]);
  const touched = new Set<string>();
  for (const s of opts.states) {
    if (!isFileSinkWriterState(s)) throw new Error(`FileSink: restored writer state ${JSON.stringify(s)} is not a FileSink writer state`);
    if (recoveryOwner(s.subtaskIndex, parallelism) !== subtaskIndex) continue;
    cleanUp.add(s.subtaskIndex);
    for (const p of s.pending) {
      commitPendingFile(s.dir, p);
      result.committed.push(join(s.dir, p.name));
    }
    if (s.pending.length > 0) touched.add(s.dir);
  }
  for (const d of touched) syncDirectory(d);
  for (const index of cleanUp) {
    for (const f of naming.list(dir, index)) {
      if (!f.hidden) continue;
      const path = join(dir, f.fileName);
      rmSync(path, { force: true });
      result.deleted.push(path);
    }
  }
  return result;
}
