// Restoring a FileSink subtask: finish the commits of the restored checkpoint, take back the parts
// it recorded in progress, and remove what was written after it. The writer state is union list
// state (every subtask sees every former subtask's entry), so each former subtask index has exactly
// one owner after a rescale: no two subtasks commit or resume the same file, and none deletes
// hidden files another one still commits or writes. An entry only ever names parts of its own
// subtask index, so ownership by index covers every file.
//
// In-progress parts: the owner that has the same subtask index (and directory) resumes them, cut
// back to the recorded length; other owners (after a rescale) cut them back and commit them at once,
// which is exactly-once because the restored checkpoint completed and covers those bytes.
import { rmSync } from 'node:fs';
import { syncDirectory } from '../../common/files.js';
import { commitPendingFile, partPaths, prepareResume, type PendingPartFile } from './file-sink-committer.js';
import { bucketDir, type InProgressPart } from './file-sink-writer.js';
import type { PartFileNaming } from './part-file-naming.js';

/** One sink subtask's entry in the operator state, written at every checkpoint. */
export interface FileSinkWriterState {
  /** Directory the files were written to (absolute). */
  dir: string;
  subtaskIndex: number;
  /** Rolled parts not committed at the checkpoint: all of them belong to completed checkpoints once it is restored. */
  pending: PendingPartFile[];
  /** Open parts at the checkpoint, one per active bucket, with their valid length (absent in checkpoints of older versions). */
  inProgress?: InProgressPart[];
}

const validBucket = (b: unknown) => b === undefined || (typeof b === 'string' && !b.split('/').some((s) => s === '..'));

export function isFileSinkWriterState(v: unknown): v is FileSinkWriterState {
  const s = v as FileSinkWriterState;
  return (
    !!s &&
    typeof s === 'object' &&
    typeof s.dir === 'string' &&
    Number.isInteger(s.subtaskIndex) &&
    s.subtaskIndex >= 0 &&
    Array.isArray(s.pending) &&
    s.pending.every(
      (p) =>
        !!p &&
        typeof p.name === 'string' &&
        Number.isInteger(p.size) &&
        p.size >= 0 &&
        typeof p.checkpointId === 'number' &&
        validBucket(p.bucket),
    ) &&
    (s.inProgress === undefined ||
      (Array.isArray(s.inProgress) &&
        s.inProgress.every(
          (p) =>
            !!p &&
            typeof p.name === 'string' &&
            Number.isInteger(p.size) &&
            p.size >= 0 &&
            typeof p.creationTime === 'number' &&
            typeof p.lastUpdateTime === 'number' &&
            validBucket(p.bucket),
        )))
  );
}

/** The subtask (of `parallelism`) that recovers the files former subtask `formerIndex` left. */
export function recoveryOwner(formerIndex: number, parallelism: number): number {
  return formerIndex % parallelism;
}

export interface FileSinkRecoveryResult {
  /** Final paths of the restored pending files and of in-progress parts committed at the restore (committed now or before). */
  committed: string[];
  /** Hidden files removed: parts written after the restored checkpoint. */
  deleted: string[];
  /** In-progress parts of this subtask, cut back to their recorded length: the writer appends to them. */
  resume: InProgressPart[];
  /** Recorded in-progress parts a later run had already committed: writing goes on in new parts. */
  alreadyCommitted: string[];
}

/**
 * Commits the pending files of the entries this subtask owns, resumes or commits their in-progress
 * parts, then deletes the hidden leftovers of those former subtasks and of its own index: in `dir`,
 * in the bucket directories the entries name and, when `buckets` is set (the sink assigns
 * buckets), in every directory below `dir`. Without buckets sub-directories are left alone, as
 * they may hold another sink's files. Safe to repeat.
 */
export function recoverFileSink(opts: {
  dir: string;
  naming: PartFileNaming;
  subtaskIndex: number;
  parallelism: number;
  states: unknown[];
  /** The sink writes into bucket sub-directories: leftovers there are this sink's too. */
  buckets?: boolean;
}): FileSinkRecoveryResult {
  const { dir, naming, subtaskIndex, parallelism } = opts;
  const result: FileSinkRecoveryResult = { committed: [], deleted: [], resume: [], alreadyCommitted: [] };
  const cleanUp = new Set<number>([subtaskIndex]);
  const touched = new Set<string>();
  /** Hidden files that stay: the parts this subtask resumes. */
  const keep = new Set<string>();
  /** Bucket directories the owned entries name (besides `dir`). */
  const named = new Set<string>();
  for (const s of opts.states) {
    if (!isFileSinkWriterState(s))
      throw new Error(`FileSink: restored writer state ${JSON.stringify(s)} is not a FileSink writer state`);
    if (recoveryOwner(s.subtaskIndex, parallelism) !== subtaskIndex) continue;
    cleanUp.add(s.subtaskIndex);
    if (s.dir === dir) for (const p of [...s.pending, ...(s.inProgress ?? [])]) if (p.bucket) named.add(p.bucket);
    for (const p of s.pending) {
      commitPendingFile(s.dir, p);
      result.committed.push(partPaths(s.dir, p).finalPath);
      touched.add(bucketDir(s.dir, p.bucket));
    }
    for (const p of s.inProgress ?? []) {
      const { finalPath, hiddenPath } = partPaths(s.dir, p);
      if (s.subtaskIndex === subtaskIndex && s.dir === dir) {
        if (prepareResume(s.dir, p) === 'ready') {
          result.resume.push(p);
          keep.add(hiddenPath);
        } else result.alreadyCommitted.push(finalPath);
      } else {
        commitPendingFile(s.dir, p);
        result.committed.push(finalPath);
        touched.add(bucketDir(s.dir, p.bucket));
      }
    }
  }
  for (const d of touched) syncDirectory(d);
  const leftovers = new Set<string>();
  if (opts.buckets) for (const p of naming.hiddenPartsBelow(dir, cleanUp)) leftovers.add(p);
  else {
    for (const d of [dir, ...[...named].map((b) => bucketDir(dir, b))])
      for (const p of naming.hiddenPartsIn(d, cleanUp)) leftovers.add(p);
  }
  for (const path of leftovers) {
    if (keep.has(path)) continue;
    rmSync(path, { force: true });
    result.deleted.push(path);
  }
  return result;
}
