// Creates the keyed backend `state.backend` names and fills it from canonical state files: a
// subtask restores from every old file whose key groups overlap its own (rescaling), taking only
// the chunks of its key groups. Timer entries ('_timer...') are not backend state: they go to the
// caller's sink (the operator's timer service). A handle of an incremental checkpoint also names a
// chain (a full file, then deltas), which is merged key group by key group, newest change winning.
import { Packr } from 'msgpackr';
import type { KeyGroupRange } from '../../common/keygroups.js';
import { HeapKeyedStateBackend } from './heap-backend.js';
import { LevelKeyedStateBackend } from './level-backend.js';
import { readSnapshotFile, type SnapshotFileReader } from './snapshot-file.js';
import type { KeyedEntry, KeyedStateBackend, KeyGroupChunk, StateMeta } from './types.js';

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

export async function createKeyedStateBackend(
  type: StateBackendType,
  opts: KeyedStateBackendOptions,
): Promise<KeyedStateBackend> {
  switch (type) {
    case 'heap':
      return new HeapKeyedStateBackend(opts);
    case 'level':
      return LevelKeyedStateBackend.open(opts.dir, opts);
    default:
      throw new Error(`unknown state backend '${String(type)}' (state.backend must be 'heap' or 'level')`);
  }
}

/** One (operator, subtask) state to restore: its file and, for incremental checkpoints, its chain. */
export interface KeyedStateFile {
  path: string;
  sha256: string;
  /** Shared files in the order they apply: a full file, then deltas. */
  chain?: Array<{ path: string; sha256: string; delta: boolean }>;
}

/**
 * Restores `backend` from state files (checksums verified first), then calls finishRestore().
 * Entries of states named '_timer...' go to `extraSink`; a file holding some without a sink fails.
 */
export async function restoreKeyedState(
  backend: KeyedStateBackend,
  files: KeyedStateFile[],
  extraSink?: (meta: StateMeta, entry: KeyedEntry) => void,
): Promise<void> {
  for (const file of files) {
    const reader = await openReader(backend, file.path, file.sha256, false);
    await apply(backend, file.path, reader.states, reader.chunks(), extraSink);
    if (file.chain !== undefined && file.chain.length > 0) await restoreChain(backend, file.chain, extraSink);
  }
  await backend.finishRestore();
}

async function openReader(
  backend: KeyedStateBackend,
  path: string,
  sha256: string,
  allowDelta: boolean,
): Promise<SnapshotFileReader> {
  const reader = await readSnapshotFile(path, {
    expectedSha256: sha256,
    keyGroupRange: backend.keyGroupRange,
    allowDelta,
  });
  if (reader.header.maxParallelism !== backend.maxParallelism) {
    throw new Error(
      `state file ${path} was written with maxParallelism ${reader.header.maxParallelism}, the backend has ${backend.maxParallelism} (key groups cannot be remapped)`,
    );
  }
  return reader;
}

async function apply(
  backend: KeyedStateBackend,
  path: string,
  states: StateMeta[],
  chunks: AsyncIterable<KeyGroupChunk>,
  extraSink: ((meta: StateMeta, entry: KeyedEntry) => void) | undefined,
): Promise<void> {
  const metas = new Map(states.map((m) => [m.name, m]));
  // Tables the file lists exist after the restore even when none of their entries is ours, so a
  // later getTable() with another kind fails as it would have before.
  for (const meta of states) if (!meta.name.startsWith(TIMER_STATE_PREFIX)) backend.getTable(meta);
  for await (const chunk of chunks) {
    for (const entry of chunk.entries) {
      const meta = metas.get(entry[0]);
      if (meta === undefined)
        throw new Error(
          `state file ${path} is damaged: an entry names state '${entry[0]}', which its header does not list`,
        );
      if (meta.name.startsWith(TIMER_STATE_PREFIX)) {
        if (extraSink === undefined)
          throw new Error(
            `state file ${path} holds timer state '${meta.name}' but the restore was given nowhere to put it`,
          );
        extraSink(meta, entry);
      } else {
        backend.restoreEntry(meta, entry[1], entry[2], entry[3]);
      }
    }
    // The level backend writes in batches; do not let a fast file outrun LevelDB.
    if (backend instanceof LevelKeyedStateBackend) await backend.awaitWriteCapacity();
  }
}

const identityPackr = new Packr({ useRecords: false });

/** A full file and its deltas, merged per key group (the newest put or removal of an entry wins). */
async function restoreChain(
  backend: KeyedStateBackend,
  chain: NonNullable<KeyedStateFile['chain']>,
  extraSink: ((meta: StateMeta, entry: KeyedEntry) => void) | undefined,
): Promise<void> {
  if (chain[0]!.delta) throw new Error(`incremental state ${chain[0]!.path} is a delta with no full file before it`);
  const readers: SnapshotFileReader[] = [];
  for (const f of chain) {
    const r = await openReader(backend, f.path, f.sha256, true);
    if (f.delta !== (r.header.format !== 'weir-state'))
      throw new Error(
        `state file ${f.path} is damaged: the checkpoint records it as a ${f.delta ? 'delta' : 'full file'}, its header says otherwise`,
      );
    readers.push(r);
  }
  const states = new Map<string, StateMeta>();
  for (const r of readers) for (const m of r.states) states.set(m.name, m);
  const path = chain[chain.length - 1]!.path;
  if (readers.length === 1) {
    await apply(backend, path, [...states.values()], readers[0]!.chunks(), extraSink);
    return;
  }
  await apply(
    backend,
    path,
    [...states.values()],
    mergeChunks(readers.map((r) => r.chunks()[Symbol.asyncIterator]())),
    extraSink,
  );
}

async function* mergeChunks(its: Array<AsyncIterator<KeyGroupChunk>>): AsyncGenerator<KeyGroupChunk> {
  const next = async (it: AsyncIterator<KeyGroupChunk>): Promise<KeyGroupChunk | undefined> => {
    const r = await it.next();
    return r.done ? undefined : r.value;
  };
  const heads = await Promise.all(its.map(next));
  for (;;) {
    let group = Infinity;
    for (const h of heads) if (h !== undefined && h.keyGroup < group) group = h.keyGroup;
    if (group === Infinity) return;
    const merged = new Map<string, KeyedEntry | null>();
    for (let i = 0; i < its.length; i++) {
      for (let h = heads[i]; h !== undefined && h.keyGroup === group; h = heads[i]) {
        for (const e of h.entries) merged.set(identityPackr.pack([e[0], e[1], e[2]]).toString('latin1'), e);
        for (const r of h.removed ?? []) merged.set(identityPackr.pack(r).toString('latin1'), null);
        heads[i] = await next(its[i]!);
      }
    }
    const entries: KeyedEntry[] = [];
    for (const e of merged.values()) if (e !== null) entries.push(e);
    if (entries.length > 0) yield { keyGroup: group, entries };
  }
}
