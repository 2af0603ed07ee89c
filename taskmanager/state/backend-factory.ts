// Creates the keyed backend `state.backend` names and fills it from canonical state files: a
// subtask restores from every old file whose key groups overlap its own (rescaling), taking only
// the chunks of its key groups. Timer entries ('_timer...') are not backend state: they go to the
// caller's sink (the operator's timer service).
import type { KeyGroupRange } from '../../common/keygroups.js';
import { HeapKeyedStateBackend } from './heap-backend.js';
import { LevelKeyedStateBackend } from './level-backend.js';
import { readSnapshotFile } from './snapshot-file.js';
import type { KeyedEntry, KeyedStateBackend, StateMeta } from './types.js';

export type StateBackendType = 'heap' | 'level';

export interface KeyedStateBackendOptions {
  maxParallelism: number;
  keyGroupRange: KeyGroupRange;
  /** Directory of the level backend (created; anything in it before is deleted). Unused by heap. */
  dir: string;
  /** Level backend: dirty entries per write batch and the cache size kept (default 20 000). */
  cacheLimit?: number;
}

/** State names the engine keeps outside the backend; restored through the caller's sink. */
export const TIMER_STATE_PREFIX = '_timer';

export async function createKeyedStateBackend(type: StateBackendType, opts: KeyedStateBackendOptions): Promise<KeyedStateBackend> {
  switch (type) {
    case 'heap':
      return new HeapKeyedStateBackend(opts);
    case 'level':
      return LevelKeyedStateBackend.open(opts.dir, opts);
    default:
      throw new Error(`unknown state backend '${String(type)}' (state.backend must be 'heap' or 'level')`);
  }
}

/**
 * Restores `backend` from state files (checksums verified first), then calls finishRestore().
 * Entries of states named '_timer...' go to `extraSink`; a file holding some without a sink fails.
 */
export async function restoreKeyedState(
  backend: KeyedStateBackend,
  files: Array<{ path: string; sha256: string }>,
  extraSink?: (meta: StateMeta, entry: KeyedEntry) => void,
): Promise<void> {
  for (const file of files) {
    const reader = await readSnapshotFile(file.path, { expectedSha256: file.sha256, keyGroupRange: backend.keyGroupRange });
    if (reader.header.maxParallelism !== backend.maxParallelism) {
      throw new Error(`state file ${file.path} was written with maxParallelism ${reader.header.maxParallelism}, the backend has ${backend.maxParallelism} (key groups cannot be remapped)`);
    }
    const metas = new Map(reader.states.map((m) => [m.name, m]));
    // Tables the file lists exist after the restore even when none of their entries is ours, so a
    // later getTable() with another kind fails as it would have before.
    for (const meta of reader.states) if (!meta.name.startsWith(TIMER_STATE_PREFIX)) backend.getTable(meta);
    for await (const chunk of reader.chunks()) {
      for (const entry of chunk.entries) {
        const meta = metas.get(entry[0]);
        if (meta === undefined) throw new Error(`state file ${file.path} is damaged: an entry names state '${entry[0]}', which its header does not list`);
        if (meta.name.startsWith(TIMER_STATE_PREFIX)) {
          if (extraSink === undefined) throw new Error(`state file ${file.path} holds timer state '${meta.name}' but the restore was given nowhere to put it`);
          extraSink(meta, entry);
        } else {
          backend.restoreEntry(meta, entry[1], entry[2], entry[3]);
        }
      }
      // The level backend writes in batches; do not let a fast file outrun LevelDB.
      if (backend instanceof LevelKeyedStateBackend) await backend.awaitWriteCapacity();
    }
  }
  await backend.finishRestore();
}
