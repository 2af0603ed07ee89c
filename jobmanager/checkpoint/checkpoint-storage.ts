// Checkpoint storage of one job on a file system (Flink's FileSystemCheckpointStorage):
// <state.checkpoints.dir>/<jobId>/chk-<n>/ holds the tasks' state files and, once the checkpoint
// completed, `_metadata`. A checkpoint without `_metadata` never completed. Incremental checkpoints
// also refer to files of <jobId>/shared/ (Flink's layout), which several checkpoints share: such a
// file is deleted once no completed checkpoint on disk and no pending one refers to it (Flink's
// SharedStateRegistry, with reference sets read from `_metadata`, so a restarted JobManager agrees).
import { randomBytes } from 'node:crypto';
import { access, cp, mkdir, open, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { assertLeadership } from '../ha/leadership-fence.js';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { sha256OfFile } from '../../common/file-digest.js';
import { SHARED_STATE_DIR, type CheckpointMetadata, type OperatorSubtaskStateHandle } from '../../common/checkpoint.js';
import { makeCheckpointDirectory } from '../../common/checkpoint-storage-failure.js';
import type { Logger } from '../../common/logging.js';

export const METADATA_FILE = '_metadata';
const CHECKPOINT_DIR = /^chk-(\d+)$/;
/** <operator>-<subtask>-<checkpoint id>-<random>.(full|delta), and the writer's temporary names. */
const SHARED_FILE = /-(\d+)-[0-9a-f]+\.(?:full|delta)(?:\.[0-9a-f]+\.tmp)?$/;

/** A completed checkpoint (or savepoint) directory of this job. */
export interface StoredCheckpoint {
  checkpointId: number;
  dir: string;
  savepoint: boolean;
}

export interface ValidCheckpoint {
  metadata: CheckpointMetadata;
  dir: string;
  /** Newer checkpoints that could not be used, newest first. */
  skipped: Array<{ dir: string; reason: string }>;
}

export class CheckpointStorage {
  constructor(
    /** <state.checkpoints.dir>/<jobId> */
    readonly jobDir: string,
    private readonly numRetained: number,
    private readonly log: Logger,
  ) {
    if (!Number.isInteger(numRetained) || numRetained < 1) {
      throw new Error(`state.checkpoints.num-retained must be a positive integer, got ${numRetained}`);
    }
  }

  pathOf(checkpointId: number): string {
    return join(this.jobDir, `chk-${checkpointId}`);
  }

  /** <jobId>/shared: the files of incremental checkpoints. */
  get sharedDir(): string {
    return join(this.jobDir, SHARED_STATE_DIR);
  }

  /** Shared files the handles refer to that are not on disk (an incremental base deleted too early). */
  async missingSharedFiles(handles: OperatorSubtaskStateHandle[]): Promise<string[]> {
    const missing: string[] = [];
    for (const name of sharedNamesOf(handles)) {
      if (!(await exists(join(this.sharedDir, name)))) missing.push(name);
    }
    return missing;
  }

  /**
   * Deletes the files of <jobId>/shared/ that no completed checkpoint on disk (nor `alsoInUse`)
   * refers to, except those written for a checkpoint that `pending(id)` says is still in progress.
   * Does nothing when a completed checkpoint's `_metadata` cannot be read (its references are then
   * unknown). Returns the names deleted.
   */
  async collectSharedFiles(alsoInUse: Iterable<string>, pending: (checkpointId: number) => boolean): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.sharedDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    if (names.length === 0) return [];
    const inUse = new Set(alsoInUse);
    for (const c of await this.listCompleted()) {
      let meta: CheckpointMetadata;
      try {
        meta = await readCheckpointMetadata(c.dir);
      } catch (e) {
        this.log.warn(
          { dir: c.dir, err: (e as Error).message },
          'shared state files are kept: a checkpoint that may refer to them cannot be read',
        );
        return [];
      }
      for (const n of sharedNamesOf(meta.operators.flatMap((o) => o.subtasks))) inUse.add(n);
    }
    const removed: string[] = [];
    for (const name of names) {
      if (inUse.has(name)) continue;
      const m = SHARED_FILE.exec(name);
      // Files of a checkpoint in progress may not be acknowledged yet; unknown names are not ours.
      if (!m || pending(Number(m[1]))) continue;
      assertLeadership('deleting a shared state file');
      try {
        await rm(join(this.sharedDir, name), { force: true });
        removed.push(name);
      } catch (e) {
        this.log.warn({ err: e, file: name }, 'cannot delete an unused shared state file');
      }
    }
    if (removed.length)
      this.log.debug({ jobDir: this.jobDir, files: removed.length }, 'unused shared state files deleted');
    return removed;
  }

  /** The directory of checkpoint `checkpointId`, created when missing. */
  async checkpointDir(checkpointId: number): Promise<string> {
    const dir = this.pathOf(checkpointId);
    await makeCheckpointDirectory(dir);
    return dir;
  }

  /** Writes `_metadata` atomically: a reader sees either no file or the whole of it. */
  async writeMetadata(meta: CheckpointMetadata): Promise<string> {
    return writeMetadataIn(await this.checkpointDir(meta.checkpointId), meta);
  }

  /**
   * Moves the state files of savepoint `meta.checkpointId` out of the job's checkpoint folder into
   * a new folder under `targetDirectory` (Flink's savepoint-<job id prefix>-<random> naming), then
   * writes `_metadata` there. Returns the savepoint's path.
   */
  async writeSavepoint(meta: CheckpointMetadata, targetDirectory: string): Promise<string> {
    // A savepoint is moved and kept by the user: it must hold all of its state itself.
    const shared = sharedNamesOf(meta.operators.flatMap((o) => o.subtasks));
    if (shared.size > 0)
      throw new Error(
        `savepoint ${meta.checkpointId} refers to ${shared.size} shared file(s) of incremental checkpoints; a savepoint must be self-contained`,
      );
    await mkdir(targetDirectory, { recursive: true });
    const dir = join(targetDirectory, `savepoint-${meta.jobId.slice(0, 6)}-${randomBytes(6).toString('hex')}`);
    assertLeadership(`writing savepoint ${meta.checkpointId}`);
    await moveDirectory(await this.checkpointDir(meta.checkpointId), dir);
    return writeMetadataIn(dir, meta);
  }

  /**
   * Deletes the oldest completed checkpoints beyond state.checkpoints.num-retained; savepoints
   * are kept until the user deletes them. Returns the ones still on disk, newest first.
   */
  async retain(completed: StoredCheckpoint[]): Promise<StoredCheckpoint[]> {
    const newestFirst = [...completed].sort((a, b) => b.checkpointId - a.checkpointId);
    const kept: StoredCheckpoint[] = [];
    let checkpoints = 0;
    for (const c of newestFirst) {
      if (c.savepoint || ++checkpoints <= this.numRetained) {
        kept.push(c);
        continue;
      }
      assertLeadership(`deleting subsumed checkpoint ${c.checkpointId}`);
      try {
        await rm(c.dir, { recursive: true, force: true });
        this.log.debug({ checkpointId: c.checkpointId, dir: c.dir }, 'subsumed checkpoint deleted');
      } catch (e) {
        // Left on disk, which costs space but not correctness; try again on the next completion.
        this.log.warn({ err: e, dir: c.dir }, 'cannot delete a subsumed checkpoint');
        kept.push(c);
      }
    }
    return kept;
  }

  /** Removes an aborted checkpoint's directory (and whatever tasks wrote into it). */
  async discard(checkpointId: number): Promise<void> {
    assertLeadership(`discarding checkpoint ${checkpointId}`);
    await rm(this.pathOf(checkpointId), { recursive: true, force: true });
  }

  /**
   * Removes the chk-<n> directories without `_metadata` (aborted or expired checkpoints, and files a
   * task wrote after the abort's discard, when it died or was canceled and so never acknowledged)
   * unless `inUse(n)` (a pending checkpoint). Completed checkpoints are never touched. Returns the
   * ids removed.
   */
  async removeIncomplete(inUse: (checkpointId: number) => boolean): Promise<number[]> {
    const removed: number[] = [];
    for (const { checkpointId, dir } of await this.checkpointDirs()) {
      if (await exists(join(dir, METADATA_FILE))) continue;
      // Checked after the await, right before the removal: a checkpoint triggered meanwhile is kept.
      if (inUse(checkpointId)) continue;
      assertLeadership(`removing the files of aborted checkpoint ${checkpointId}`);
      try {
        await rm(dir, { recursive: true, force: true });
        removed.push(checkpointId);
      } catch (e) {
        this.log.warn({ err: e, dir }, 'cannot remove the files of an aborted checkpoint');
      }
    }
    if (removed.length)
      this.log.info({ jobDir: this.jobDir, checkpointIds: removed }, 'removed the files of aborted checkpoints');
    return removed;
  }

  /** Deletes a completed checkpoint (never a savepoint); false when it could not be deleted. */
  async deleteCompleted(c: StoredCheckpoint): Promise<boolean> {
    if (c.savepoint) return false;
    assertLeadership(`deleting checkpoint ${c.checkpointId}`);
    try {
      await rm(c.dir, { recursive: true, force: true });
      return true;
    } catch (e) {
      this.log.warn({ err: e, dir: c.dir }, 'cannot delete a retained checkpoint');
      return false;
    }
  }

  /** Removes the job's checkpoint directory once nothing is left in it. */
  async removeJobDirIfEmpty(): Promise<void> {
    assertLeadership('removing the job checkpoint directory');
    await rmdir(this.sharedDir).catch(() => undefined);
    try {
      await rmdir(this.jobDir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST')
        this.log.warn({ err: e, dir: this.jobDir }, 'cannot remove the job checkpoint directory');
    }
  }

  /** Completed checkpoints on disk (chk-* with `_metadata`), newest first. */
  async listCompleted(): Promise<StoredCheckpoint[]> {
    const out: StoredCheckpoint[] = [];
    for (const { checkpointId, dir } of await this.checkpointDirs()) {
      let text: string;
      try {
        text = await readFile(join(dir, METADATA_FILE), 'utf8');
      } catch {
        continue;
      }
      let savepoint = false;
      try {
        savepoint = (JSON.parse(text) as Partial<CheckpointMetadata>).savepoint === true;
      } catch {
        // A damaged `_metadata` is reported by load(); here it only counts as a checkpoint.
      }
      out.push({ checkpointId, dir, savepoint });
    }
    return out;
  }

  /** The highest n of any chk-<n> directory, complete or not (0 when there is none). */
  async highestCheckpointId(): Promise<number> {
    const dirs = await this.checkpointDirs();
    return dirs.length ? dirs[0]!.checkpointId : 0;
  }

  /** Reads and checks a checkpoint; throws an Error naming the checkpoint, the file and the problem. */
  load(dir: string): Promise<CheckpointMetadata> {
    return loadCheckpointMetadata(dir);
  }

  /** The newest checkpoint that loads, skipping (and logging) damaged ones. */
  async latestValid(): Promise<ValidCheckpoint | undefined> {
    const skipped: Array<{ dir: string; reason: string }> = [];
    for (const c of await this.listCompleted()) {
      try {
        const metadata = await this.load(c.dir);
        if (skipped.length)
          this.log.warn(
            { dir: c.dir, skipped: skipped.length },
            'restoring from an older checkpoint because newer ones are damaged',
          );
        return { metadata, dir: c.dir, skipped };
      } catch (e) {
        const reason = (e as Error).message;
        this.log.warn({ dir: c.dir, reason }, 'skipping a damaged checkpoint');
        skipped.push({ dir: c.dir, reason });
      }
    }
    if (skipped.length)
      this.log.warn(
        { jobDir: this.jobDir, skipped: skipped.length },
        'no usable checkpoint: every completed one is damaged',
      );
    return undefined;
  }

  /** chk-<n> directories, highest n first. */
  private async checkpointDirs(): Promise<Array<{ checkpointId: number; dir: string }>> {
    let names: string[];
    try {
      names = await readdir(this.jobDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`cannot list checkpoint directory ${this.jobDir}: ${(e as Error).message}`, { cause: e });
    }
    const out: Array<{ checkpointId: number; dir: string }> = [];
    for (const name of names) {
      const m = CHECKPOINT_DIR.exec(name);
      if (m) out.push({ checkpointId: Number(m[1]), dir: join(this.jobDir, name) });
    }
    return out.sort((a, b) => b.checkpointId - a.checkpointId);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (e) {
    // Only a file known to be missing counts as missing: an unreadable `_metadata` is no reason to delete.
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** A directory without `_metadata`: not a checkpoint or savepoint at all (or not one yet). */
export class MetadataMissingError extends Error {
  constructor(readonly dir: string) {
    super(`checkpoint ${dir}: ${METADATA_FILE}: missing`);
    this.name = 'MetadataMissingError';
  }
}

/** Reads and checks a checkpoint or savepoint; throws an Error naming it, the file and the problem. */
export async function loadCheckpointMetadata(dir: string): Promise<CheckpointMetadata> {
  const meta = await readCheckpointMetadata(dir);
  await verifyStateFiles(dir, meta);
  return meta;
}

/** Checks every state file `meta` names (size and sha256); throws an Error naming the file and the problem. */
export async function verifyStateFiles(dir: string, meta: CheckpointMetadata): Promise<void> {
  const fail = (file: string, problem: string): never => {
    throw new Error(`checkpoint ${dir}: ${file}: ${problem}`);
  };
  for (const op of meta.operators) {
    for (const h of op.subtasks) await checkStateFile(dir, h, fail);
  }
}

/** `_metadata` alone, parsed and shape-checked (state files are not read). */
export async function readCheckpointMetadata(dir: string): Promise<CheckpointMetadata> {
  const fail = (problem: string): never => {
    throw new Error(`checkpoint ${dir}: ${METADATA_FILE}: ${problem}`);
  };
  let text = '';
  try {
    text = await readFile(join(dir, METADATA_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new MetadataMissingError(dir);
    fail(`cannot be read (${(e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`is not valid JSON (${(e as Error).message})`);
  }
  const meta = parsed as CheckpointMetadata;
  const shapeError = metadataShapeError(meta);
  if (shapeError) fail(shapeError);
  return meta;
}

async function writeMetadataIn(dir: string, meta: CheckpointMetadata): Promise<string> {
  const tmp = join(dir, `.${METADATA_FILE}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(meta, null, 2));
    await fh.sync();
  } finally {
    await fh.close();
  }
  // The rename completes the checkpoint: a JobManager that lost its lease meanwhile must not.
  assertLeadership(`completing checkpoint ${meta.checkpointId}`);
  await rename(tmp, join(dir, METADATA_FILE));
  // The rename itself is durable only once the directory is synced.
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
  return dir;
}

/** A rename where it can be one; a copy then a removal across file systems. */
async function moveDirectory(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await cp(from, to, { recursive: true, errorOnExist: true, force: false });
    await rm(from, { recursive: true, force: true });
  }
}

function metadataShapeError(meta: CheckpointMetadata): string | undefined {
  if (meta === null || typeof meta !== 'object') return 'is not a JSON object';
  if (meta.format !== 'weir-checkpoint' || meta.version !== 1) {
    return `has format '${String(meta.format)}' version ${String(meta.version)}, expected 'weir-checkpoint' version 1`;
  }
  if (!Number.isInteger(meta.checkpointId)) return 'has no checkpointId';
  if (!Array.isArray(meta.operators)) return 'has no operators list';
  for (const op of meta.operators) {
    if (!op || typeof op.operatorId !== 'string' || !Array.isArray(op.subtasks))
      return 'has a malformed operator entry';
    for (const h of op.subtasks) {
      if (!h || typeof h.file !== 'string' || typeof h.size !== 'number' || typeof h.sha256 !== 'string') {
        return `has a malformed state handle in operator ${op.operatorId}`;
      }
      if (
        h.shared !== undefined &&
        (!Array.isArray(h.shared) ||
          h.shared.some(
            (f) => !f || typeof f.name !== 'string' || typeof f.size !== 'number' || typeof f.sha256 !== 'string',
          ))
      ) {
        return `has a malformed shared state file in operator ${op.operatorId}`;
      }
    }
  }
  return undefined;
}

async function checkStateFile(
  dir: string,
  h: OperatorSubtaskStateHandle,
  fail: (file: string, problem: string) => never,
): Promise<void> {
  // Handles name files inside the checkpoint directory; anything else is damage, not a path to follow.
  const rel = normalize(h.file);
  if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`))
    fail(h.file, 'state file path leaves the checkpoint directory');
  const path = join(dir, rel);
  let size = 0;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    fail(
      h.file,
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? `state file of operator ${h.operatorId} subtask ${h.subtaskIndex} is missing`
        : `cannot be read (${(e as Error).message})`,
    );
  }
  if (size !== h.size) fail(h.file, `has ${size} bytes, _metadata records ${h.size}`);
  const digest = await sha256OfFile(path);
  if (digest !== h.sha256) fail(h.file, `sha256 mismatch (recorded ${h.sha256}, file has ${digest})`);
  for (const f of h.shared ?? []) {
    const file = `${SHARED_STATE_DIR}/${f.name}`;
    if (typeof f.name !== 'string' || f.name !== basename(f.name) || f.name === '..' || f.name === '.')
      fail(String(f.name), 'shared state file name is not a plain file name');
    // Shared files live next to the chk-<n> folders: a checkpoint copied alone lacks them.
    const sharedPath = join(dirname(dir), SHARED_STATE_DIR, f.name);
    let sharedSize = 0;
    try {
      sharedSize = (await stat(sharedPath)).size;
    } catch (e) {
      fail(
        file,
        (e as NodeJS.ErrnoException).code === 'ENOENT'
          ? `incremental state file of operator ${h.operatorId} subtask ${h.subtaskIndex} (written by checkpoint ${f.checkpointId}) is missing from ${dirname(sharedPath)}`
          : `cannot be read (${(e as Error).message})`,
      );
    }
    if (sharedSize !== f.size) fail(file, `has ${sharedSize} bytes, _metadata records ${f.size}`);
    const sharedDigest = await sha256OfFile(sharedPath);
    if (sharedDigest !== f.sha256) fail(file, `sha256 mismatch (recorded ${f.sha256}, file has ${sharedDigest})`);
  }
}

/** Names of the shared files the handles refer to. */
export function sharedNamesOf(handles: OperatorSubtaskStateHandle[]): Set<string> {
  const out = new Set<string>();
  for (const h of handles) for (const f of h.shared ?? []) out.add(f.name);
  return out;
}
