// The contract between operators and keyed-state backends (heap: JavaScript maps; level: LevelDB),
// and the canonical snapshot both write. Operators and the user-facing state objects only ever see
// StateTable; a backend decides where values live.
import type { StateKind } from '../../api/state.js';
import type { KeyGroupRange } from '../../common/keygroups.js';

/**
 * Second coordinate of a keyed value besides the key: a window (its start or id), a timestamp
 * bucket of a join, or VOID_NAMESPACE for plain user state.
 */
export type Namespace = string | number;
export const VOID_NAMESPACE: Namespace = '';

/**
 * Kinds a table can have. User states use the api's StateKind; 'raw' tables hold engine values
 * (window contents, trigger state, join buffers) whose meaning only their operator knows.
 */
export type TableKind = StateKind | 'raw';

export interface StateMeta {
  /** Unique per operator. Engine tables start with '_' (user state names must not). */
  name: string;
  kind: TableKind;
  /** Values are TTL-wrapped ({ v, t }: value and last-access time). */
  ttl?: boolean;
}

/**
 * One named keyed state: a value per (current key, namespace). Values are live objects on the
 * heap backend; the level backend keeps recently used ones decoded and writes them back, so a
 * caller that mutates a value in place must put() it again (as with Flink's RocksDB backend), and
 * must not keep a value across records (a checkpoint may come between: get() it again). put() of
 * undefined removes. Values must survive msgpack (no -0, functions or class instances).
 */
export interface StateTable<V = unknown> {
  readonly meta: StateMeta;
  get(namespace: Namespace): V | undefined;
  put(namespace: Namespace, value: V): void;
  remove(namespace: Namespace): void;
}

export interface KeyedStateBackend {
  readonly type: 'heap' | 'level';
  readonly maxParallelism: number;
  /** Key groups this subtask owns. */
  readonly keyGroupRange: KeyGroupRange;
  /** Sets the key every table reads and writes until the next call. */
  setCurrentKey(key: unknown): void;
  getCurrentKey(): unknown;
  /**
   * The table named meta.name, created on first use. Throws when a table of that name exists with
   * another kind (e.g. a restored ValueState asked for as a ListState).
   */
  getTable<V = unknown>(meta: StateMeta): StateTable<V>;
  /** (key, namespace) entries over all tables: the state-entries metric. */
  numEntries(): number;
  /**
   * Synchronous part of a checkpoint: freezes a consistent view at this point of the stream; the
   * caller goes on processing while it reads the view asynchronously.
   */
  snapshot(): KeyedStateSnapshot;
  /** Puts back one restored entry (already filtered to this backend's key groups). Before processing only. */
  restoreEntry(meta: StateMeta, key: unknown, namespace: Namespace, canonicalValue: unknown): void;
  /** Called once after the last restoreEntry(), before processing (level: waits for its writes). */
  finishRestore(): Promise<void>;
  /** Closes the backend and deletes what it keeps on disk. */
  dispose(): Promise<void>;
}

/** One entry in canonical form: table name, key, namespace, canonical value. */
export type KeyedEntry = [state: string, key: unknown, namespace: Namespace, value: unknown];

/** A (table, key, namespace) that an incremental delta removes. */
export type RemovedEntry = [state: string, key: unknown, namespace: Namespace];

export interface KeyGroupChunk {
  keyGroup: number;
  entries: KeyedEntry[];
  /** Only in deltas of incremental checkpoints: entries removed since the checkpoint the delta builds on. */
  removed?: RemovedEntry[];
}

/** A frozen view of a keyed backend, read after the synchronous part of a checkpoint. */
export interface KeyedStateSnapshot {
  readonly states: StateMeta[];
  /** Entries by ascending key group; a key group may span several chunks. Values canonical. */
  chunks(): AsyncIterable<KeyGroupChunk>;
  /**
   * The same chunks already encoded as the msgpack items of a state file (`keyGroup` and bytes),
   * when the backend has its entries in that encoding (level): writing them costs no decode.
   */
  rawChunks?(): AsyncIterable<{ keyGroup: number; bytes: Buffer }>;
  /** Frees the view (level: releases its LevelDB snapshot). Idempotent. */
  release(): void;
}

/** How operator list state is redistributed when a job restores with another parallelism. */
export type OperatorStateMode = 'split' | 'union' | 'broadcast';

/** One operator state in canonical form. */
export interface OperatorStateEntry {
  name: string;
  mode: OperatorStateMode;
  items: unknown[];
}

/**
 * Canonical form of values by table kind (what snapshots and the level backend hold):
 * value/reducing/aggregating/raw: the value itself; list: an array; map: an array of [key, value]
 * pairs (msgpack has no Map that survives a round trip). TTL-wrapped values are { v, t } with v in
 * canonical form; a map with TTL wraps each entry's value instead ([key, { v, t }] pairs), as Flink
 * expires map entries one by one.
 */
export const SNAPSHOT_FORMAT = 'weir-state';
export const SNAPSHOT_VERSION = 1;
/**
 * A delta of an incremental checkpoint: the same items, with `removed` in chunks; it means
 * something only on top of the files before it in its chain, so it has a format name of its own
 * that a reader of full files refuses.
 */
export const DELTA_FORMAT = 'weir-state-delta';
