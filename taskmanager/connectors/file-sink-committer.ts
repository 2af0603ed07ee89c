// The commit half of the FileSink's two-phase commit (Flink's FileCommitter): rolled parts wait,
// hidden, for the checkpoint after the roll; when it completes they are renamed into view.
// Committing is idempotent so a restore can repeat commits a failed run may already have done.
import { renameSync, statSync, truncateSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { FINAL_CHECKPOINT_ID } from '../../common/checkpoint.js';
import { syncDirectory } from '../../common/files.js';
import { bucketDir, type ClosedPart, type InProgressPart } from './file-sink-writer.js';
import { hiddenPartName } from './part-file-naming.js';

/** A closed part waiting for checkpoint `checkpointId` to complete. */
export interface PendingPartFile extends ClosedPart {
  checkpointId: number;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Final and hidden path of a part under the sink's directory `dir`. */
export function partPaths(dir: string, file: ClosedPart): { finalPath: string; hiddenPath: string } {
  const d = bucketDir(dir, file.bucket);
  return { finalPath: join(d, file.name), hiddenPath: join(d, hiddenPartName(file.name)) };
}

const ofCheckpoint = (file: ClosedPart & { checkpointId?: number }) =>
  file.checkpointId === undefined ? 'the restored checkpoint' : `checkpoint ${file.checkpointId}`;

/**
 * Cuts the hidden file of a part a completed checkpoint recorded back to the recorded size.
 * 'already-committed' when only the final file is there (a later run committed it).
 */
export function truncateToRecorded(
  dir: string,
  file: ClosedPart & { checkpointId?: number },
): 'ready' | 'already-committed' {
  const { finalPath, hiddenPath } = partPaths(dir, file);
  const hidden = statOrUndefined(hiddenPath);
  const visible = statOrUndefined(finalPath);
  if (!hidden) {
    if (visible) return 'already-committed';
    throw new Error(
      `FileSink: part file ${finalPath} of ${ofCheckpoint(file)} is gone: neither it nor its pending file ${hiddenPath} exists, the output of a completed checkpoint was lost`,
    );
  }
  if (visible)
    throw new Error(`FileSink: cannot commit ${hiddenPath}: ${finalPath} already exists (written by another run?)`);
  if (hidden.size < file.size) {
    throw new Error(
      `FileSink: pending file ${hiddenPath} has ${hidden.size} bytes but ${ofCheckpoint(file)} recorded ${file.size}: data of a completed checkpoint was lost`,
    );
  }
  if (hidden.size > file.size) truncateSync(hiddenPath, file.size);
  return 'ready';
}

/**
 * Renames one pending part into view. Already committed (final name there, hidden one gone) is
 * fine; a hidden file longer than recorded is cut back to what the checkpoint covers.
 */
export function commitPendingFile(
  dir: string,
  file: ClosedPart & { checkpointId?: number },
): 'committed' | 'already-committed' {
  if (truncateToRecorded(dir, file) === 'already-committed') return 'already-committed';
  const { finalPath, hiddenPath } = partPaths(dir, file);
  renameSync(hiddenPath, finalPath);
  return 'committed';
}

/** A restored in-progress part: cut back to the recorded length, ready to append to ('already-committed': a later run rolled and committed it). */
export function prepareResume(dir: string, file: InProgressPart): 'ready' | 'already-committed' {
  return truncateToRecorded(dir, file);
}

/** Does `checkpointId`'s completion cover a file pending for `pendingFor`? The final checkpoint comes after all others. */
function covers(checkpointId: number, pendingFor: number): boolean {
  if (checkpointId === FINAL_CHECKPOINT_ID) return true;
  return pendingFor !== FINAL_CHECKPOINT_ID && pendingFor <= checkpointId;
}

/** Closed parts of one sink subtask, from closing to commit. */
export class FileSinkCommitter {
  /** Closed since the last snapshot: they belong to the next checkpoint. */
  private unassigned: ClosedPart[] = [];
  private pending: PendingPartFile[] = [];
  /** Parts committed by this committer so far. */
  committedCount = 0;

  constructor(readonly dir: string) {}

  /** Parts that are closed and not committed yet. */
  get size(): number {
    return this.unassigned.length + this.pending.length;
  }

  add(part: ClosedPart): void {
    this.unassigned.push(part);
  }

  /** At the barrier of `checkpointId`: what was closed since the last one is pending for it. Returns every pending file. */
  prepareSnapshot(checkpointId: number): PendingPartFile[] {
    // A checkpoint taken after the end of input covers the final parts too: they commit with it.
    if (checkpointId !== FINAL_CHECKPOINT_ID)
      for (const p of this.pending) if (p.checkpointId === FINAL_CHECKPOINT_ID) p.checkpointId = checkpointId;
    for (const p of this.unassigned) this.pending.push({ ...p, checkpointId });
    this.unassigned = [];
    return this.pending.map((p) => ({ ...p }));
  }

  /** Commits every file pending for `checkpointId` or an earlier checkpoint (all of them for the final one); returns their final paths. */
  commitUpTo(checkpointId: number): string[] {
    const now = this.pending.filter((p) => covers(checkpointId, p.checkpointId));
    if (now.length === 0) return [];
    const done: string[] = [];
    const dirs = new Set<string>();
    for (const p of now) {
      commitPendingFile(this.dir, p);
      this.pending.splice(this.pending.indexOf(p), 1);
      this.committedCount++;
      done.push(partPaths(this.dir, p).finalPath);
      dirs.add(bucketDir(this.dir, p.bucket));
    }
    for (const d of dirs) syncDirectory(d);
    return done;
  }

  /** Without checkpoints: a closed part is visible at once. Returns its final path. */
  commitNow(part: ClosedPart): string {
    commitPendingFile(this.dir, { ...part, checkpointId: FINAL_CHECKPOINT_ID });
    this.committedCount++;
    return partPaths(this.dir, part).finalPath;
  }
}
