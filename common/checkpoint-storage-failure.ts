// Checkpoint storage that cannot be written (a full, read-only or forbidden directory): what the
// TaskManagers and the JobManager recognize as such, and how a task's decline says so. Such a
// failure declines the checkpoint but never fails the job over: a restart cannot fix the disk and
// would throw away the progress made since the last checkpoint (Flink counts these as IO failures
// toward execution.checkpointing.tolerable-failed-checkpoints; Weir does not).
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** errno codes that mean "this directory cannot take a checkpoint now". */
export const STORAGE_ERROR_CODES: ReadonlySet<string> = new Set([
  'ENOSPC',
  'EDQUOT',
  'EROFS',
  'EACCES',
  'EPERM',
  'ENOTDIR',
]);

export interface CheckpointStorageFailure {
  /** The errno code, e.g. ENOSPC. */
  code: string;
  /** The directory that could not be written. */
  directory: string;
  /** The system's message, with the path. */
  message: string;
}

/** The storage failure `err` stands for, if it is one; `directory` is what was being written. */
export function storageFailureOf(err: unknown, directory: string): CheckpointStorageFailure | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e.code !== 'string' || !STORAGE_ERROR_CODES.has(e.code)) return undefined;
  // mkdir names the directory itself; open and write name a file in it.
  const dir = typeof e.path === 'string' ? (e.syscall === 'mkdir' ? e.path : dirname(e.path)) : directory;
  return { code: e.code, directory: dir, message: e.message };
}

const PREFIX = 'checkpoint storage failure';

/** The decline reason a task sends (parseStorageFailure reads it back on the JobManager). */
export function describeStorageFailure(f: CheckpointStorageFailure): string {
  return `${PREFIX} [${f.code}] in ${f.directory}: ${f.message}`;
}

const PATTERN = new RegExp(`^${PREFIX} \\[([A-Z]+)\\] in (.+?): (.*)$`, 's');

export function parseStorageFailure(reason: string): CheckpointStorageFailure | undefined {
  const m = PATTERN.exec(reason);
  return m ? { code: m[1]!, directory: m[2]!, message: m[3]! } : undefined;
}

/**
 * mkdir -p that names the real error: Node's recursive mkdir reports ENOENT on a read-only file
 * system, which would hide EROFS; a plain mkdir of the directory then says what is wrong.
 */
export async function makeCheckpointDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    try {
      await mkdir(dir);
    } catch (plain) {
      const code = (plain as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      throw code === 'ENOENT' ? e : plain;
    }
  }
}
