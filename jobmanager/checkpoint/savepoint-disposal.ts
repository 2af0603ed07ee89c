// Savepoint disposal (Flink's POST /savepoint-disposal): deletes a savepoint the user no longer
// needs. Only a directory whose `_metadata` says it is a savepoint is touched, and only the files
// that `_metadata` lists, so a wrong path never removes anything else.
import { readdir, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import type { Logger } from '../../common/logging.js';
import { METADATA_FILE, MetadataMissingError, readCheckpointMetadata } from './checkpoint-storage.js';
import { SavepointRestoreError } from './savepoint-restore.js';

export async function disposeSavepoint(path: string, log: Logger): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new SavepointRestoreError('savepoint-path is missing');
  if (!isAbsolute(path)) throw new SavepointRestoreError(`savepoint path '${path}' must be absolute`);
  let dir = normalize(path).replace(/\/+$/, '');
  if (basename(dir) === METADATA_FILE) dir = dirname(dir);
  let meta;
  try {
    meta = await readCheckpointMetadata(dir);
  } catch (e) {
    const msg = (e as Error).message;
    if (e instanceof MetadataMissingError)
      throw new SavepointRestoreError(
        `${path} is not a savepoint: it has no ${METADATA_FILE} file (nothing was deleted)`,
      );
    throw new SavepointRestoreError(`cannot dispose ${path}: ${msg} (nothing was deleted)`);
  }
  if (!meta.savepoint)
    throw new SavepointRestoreError(
      `${path} is a checkpoint, not a savepoint; the engine removes checkpoints itself (nothing was deleted)`,
    );
  const files = meta.operators.flatMap((op) => op.subtasks.map((h) => normalize(h.file)));
  const escaping = files.find((f) => isAbsolute(f) || f === '..' || f.startsWith(`..${sep}`));
  if (escaping)
    throw new SavepointRestoreError(
      `cannot dispose ${path}: its ${METADATA_FILE} names a file outside the savepoint (${escaping}); nothing was deleted`,
    );
  for (const f of files) await rm(join(dir, f), { force: true });
  // `_metadata` last: a disposal cut short leaves a savepoint that still says what it held.
  await rm(join(dir, METADATA_FILE), { force: true });
  const left = await readdir(dir).catch(() => []);
  if (left.length === 0) await rmdir(dir).catch(() => undefined);
  else
    log.warn({ dir, left: left.slice(0, 10) }, 'savepoint disposed; files it did not list are left in its directory');
  log.info({ dir, checkpointId: meta.checkpointId, files: files.length }, 'savepoint disposed');
}
