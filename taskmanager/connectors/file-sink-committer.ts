// The commit half of the FileSink's two-phase commit (Flink's FileCommitter): closed parts wait,
// hidden, for the checkpoint that covers them; when it completes they are renamed into view.
// Committing is idempotent so a restore can repeat commits a failed run may already have done.
import { closeSync, fsyncSync, openSync, renameSync, statSync, truncateSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { FINAL_CHECKPOINT_ID } from '../../common/checkpoint.js';
import type { ClosedPart } from './file-sink-writer.js';
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

/**
 * Renames one pending part into view. Already committed (final name there, hidden one gone) is
 * fine; a hidden file longer than recorded is cut back to what the checkpoint covers.
 */
export function commitPendingFile(dir: string, file: PendingPartFile): 'committed' | 'already-committed' {
  const finalPath = join(dir, file.name);
  const hiddenPath = join(dir, hiddenPartName(file.name));
  const hidden = statOrUndefined(hiddenPath);
  const visible = statOrUndefined(finalPath);
  if (!hidden) {
    if (visible) return 'already-committed';
    throw new Error(
      `FileSink: part file ${finalPath} of checkpoint ${file.checkpointId} is gone: neither it nor its pending file ${hiddenPath} exists, the output of a completed checkpoint was lost`,
    );
  }
  if (visible) throw new Error(`FileSink: cannot commit ${hiddenPath}: ${finalPath} already exists (written by another run?)`);
  if (hidden.size < file.size) {
    throw new Error(`FileSink: pending file ${hiddenPath} has ${hidden.size} bytes but checkpoint ${file.checkpointId} recorded ${file.size}: data of a completed checkpoint was lost`);
  }
  if (hidden.size > file.size) truncateSync(hiddenPath, file.size);
  renameSync(hiddenPath, finalPath);
  return 'committed';
}

/** Makes renames in `dir` durable. Some platforms cannot fsync a directory; there it is skipped. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
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
  readonly committed: string[] = [];

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
    for (const p of this.unassigned) this.pending.push({ ...p, checkpointId });
    this.unassigned = [];
    return this.pending.map((p) => ({ ...p }));
  }

  /** Commits every file pending for `checkpointId` or an earlier checkpoint (all of them for the final one). */
  commitUpTo(checkpointId: number): string[] {
    const now = this.pending.filter((p) => covers(checkpointId, p.checkpointId));
    if (now.length === 0) return [];
    const done: string[] = [];
    for (const p of now) {
      commitPendingFile(this.dir, p);
      this.pending.splice(this.pending.indexOf(p), 1);
      const path = join(this.dir, p.name);
      this.committed.push(path);
      done.push(path);
    }
    syncDirectory(this.dir);
    return done;
  }

  /** Without checkpoints: a closed part is visible at once. */
  commitNow(part: ClosedPart): void {
    commitPendingFile(this.dir, { ...part, checkpointId: FINAL_CHECKPOINT_ID });
    this.committed.push(join(this.dir, part.name));
  }
}
