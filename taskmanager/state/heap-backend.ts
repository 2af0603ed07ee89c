// Keyed state on the JavaScript heap (Flink's HeapKeyedStateBackend). Each table is
// namespace-major: Map<namespace, Map<normalizedKey, HeapEntry>>, so plain user state
// (VOID_NAMESPACE) is one map. Snapshots use copy-on-write in the spirit of Flink's
// CopyOnWriteStateMap: the synchronous part copies the entry references and bumps the state
// version; an entry older than the newest pending snapshot is never changed again, the live side
// replaces it (and structuredClones an object value on its first get() or put() after the
// snapshot), so the snapshot keeps seeing the values as they were.
import type { KeyGroupRange } from '../../common/keygroups.js';
import { fromCanonicalValue } from './canonical-values.js';
import { normalizeKey } from './key-normalizer.js';
import { keyGroupChunks, type SnapshotPart } from './heap-snapshot.js';
import { checkKeyGroupRange, keyGroupInRange } from './key-group-check.js';
import { checkSameTable, copyMeta } from './state-meta.js';
import type { KeyedStateBackend, KeyedStateSnapshot, Namespace, StateMeta, StateTable } from './types.js';

/** One value of one (key, namespace). Frozen (never mutated) once older than a pending snapshot. */
export class HeapEntry {
  constructor(
    readonly key: unknown,
    public value: unknown,
    readonly version: number,
    /** Computed at the first snapshot that sees the entry; -1 until then. */
    public keyGroup: number,
  ) {}
}

/** What the tables of one backend share: the current key and the copy-on-write versions. */
class HeapContext {
  currentKey: unknown = undefined;
  currentNormalizedKey: unknown = undefined;
  /** Version given to new entries; bumped by every snapshot. */
  version = 0;
  /** Entries with a lower version belong to a pending snapshot and must not be changed. */
  requiredVersion = 0;
  entryCount = 0;
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null;
}

export class HeapStateTable<V = unknown> implements StateTable<V> {
  /** namespace -> normalized key -> entry. Empty namespace maps are removed. */
  readonly byNamespace = new Map<Namespace, Map<unknown, HeapEntry>>();

  constructor(
    readonly meta: StateMeta,
    private readonly ctx: HeapContext,
  ) {}

  get(namespace: Namespace): V | undefined {
    const map = this.byNamespace.get(namespace);
    if (map === undefined) return undefined;
    const ctx = this.ctx;
    const e = map.get(ctx.currentNormalizedKey);
    if (e === undefined) return undefined;
    if (e.version < ctx.requiredVersion && isObject(e.value)) {
      // The caller may mutate what it gets: give it a private copy, the snapshot keeps the original.
      const copy = new HeapEntry(e.key, structuredClone(e.value), ctx.version, e.keyGroup);
      map.set(ctx.currentNormalizedKey, copy);
      return copy.value as V;
    }
    return e.value as V;
  }

  put(namespace: Namespace, value: V): void {
    if (value === undefined) {
      this.remove(namespace);
      return;
    }
    const ctx = this.ctx;
    let map = this.byNamespace.get(namespace);
    if (map === undefined) {
      map = new Map();
      this.byNamespace.set(namespace, map);
    }
    const e = map.get(ctx.currentNormalizedKey);
    if (e === undefined) {
      map.set(ctx.currentNormalizedKey, new HeapEntry(ctx.currentKey, value, ctx.version, -1));
      ctx.entryCount++;
    } else if (e.version < ctx.requiredVersion) {
      map.set(ctx.currentNormalizedKey, new HeapEntry(e.key, value, ctx.version, e.keyGroup));
    } else {
      e.value = value;
    }
  }

  remove(namespace: Namespace): void {
    const map = this.byNamespace.get(namespace);
    if (map === undefined) return;
    if (map.delete(this.ctx.currentNormalizedKey)) {
      this.ctx.entryCount--;
      if (map.size === 0) this.byNamespace.delete(namespace);
    }
  }

  /** Namespaces holding a value for the current key (heap only: the level backend cannot list them synchronously). */
  namespaces(): Namespace[] {
    const out: Namespace[] = [];
    for (const [namespace, map] of this.byNamespace) if (map.has(this.ctx.currentNormalizedKey)) out.push(namespace);
    return out;
  }

  /** Puts one restored entry for `key` (not the current key), whose key group is known. */
  restore(key: unknown, keyGroup: number, namespace: Namespace, value: unknown): void {
    let map = this.byNamespace.get(namespace);
    if (map === undefined) {
      map = new Map();
      this.byNamespace.set(namespace, map);
    }
    const norm = normalizeKey(key);
    if (!map.has(norm)) this.ctx.entryCount++;
    map.set(norm, new HeapEntry(norm === 0 ? 0 : key, value, this.ctx.version, keyGroup));
  }
}

export interface HeapBackendOptions {
  maxParallelism: number;
  keyGroupRange: KeyGroupRange;
}

export class HeapKeyedStateBackend implements KeyedStateBackend {
  readonly type = 'heap' as const;
  readonly maxParallelism: number;
  readonly keyGroupRange: KeyGroupRange;
  private readonly ctx = new HeapContext();
  private readonly tables = new Map<string, HeapStateTable>();
  /** Versions of snapshots not released yet. */
  private readonly pendingSnapshots = new Set<number>();

  constructor(opts: HeapBackendOptions) {
    checkKeyGroupRange(opts.maxParallelism, opts.keyGroupRange);
    this.maxParallelism = opts.maxParallelism;
    this.keyGroupRange = { start: opts.keyGroupRange.start, end: opts.keyGroupRange.end };
  }

  setCurrentKey(key: unknown): void {
    const norm = normalizeKey(key);
    this.ctx.currentKey = norm === 0 ? 0 : key;
    this.ctx.currentNormalizedKey = norm;
  }

  getCurrentKey(): unknown {
    return this.ctx.currentKey;
  }

  getTable<V = unknown>(meta: StateMeta): StateTable<V> {
    return this.table(meta) as HeapStateTable<V>;
  }

  private table(meta: StateMeta): HeapStateTable {
    const existing = this.tables.get(meta.name);
    if (existing !== undefined) {
      checkSameTable(existing.meta, meta);
      return existing;
    }
    const table = new HeapStateTable(copyMeta(meta), this.ctx);
    this.tables.set(meta.name, table);
    return table;
  }

  numEntries(): number {
    return this.ctx.entryCount;
  }

  /** Every key with a value in table `name` (heap only, for tests and diagnostics). */
  keys(name: string): unknown[] {
    const table = this.tables.get(name);
    if (table === undefined) return [];
    const seen = new Map<unknown, unknown>();
    for (const map of table.byNamespace.values()) for (const [norm, e] of map) if (!seen.has(norm)) seen.set(norm, e.key);
    return [...seen.values()];
  }

  snapshot(): KeyedStateSnapshot {
    const ctx = this.ctx;
    const version = ++ctx.version;
    ctx.requiredVersion = version;
    this.pendingSnapshots.add(version);
    const parts: SnapshotPart[] = [];
    const states: StateMeta[] = [];
    for (const table of this.tables.values()) {
      states.push(copyMeta(table.meta));
      for (const [namespace, map] of table.byNamespace) parts.push({ meta: table.meta, namespace, entries: Array.from(map.values()) });
    }
    const { maxParallelism, keyGroupRange } = this;
    let released = false;
    return {
      states,
      chunks: () => keyGroupChunks(parts, maxParallelism, keyGroupRange),
      release: () => {
        if (released) return;
        released = true;
        parts.length = 0;
        this.pendingSnapshots.delete(version);
        let highest = 0;
        for (const v of this.pendingSnapshots) if (v > highest) highest = v;
        ctx.requiredVersion = highest;
      },
    };
  }

  restoreEntry(meta: StateMeta, key: unknown, namespace: Namespace, canonicalValue: unknown): void {
    const table = this.table(meta);
    const keyGroup = keyGroupInRange(key, this.maxParallelism, this.keyGroupRange, `restoring keyed state '${meta.name}'`);
    table.restore(key, keyGroup, namespace, fromCanonicalValue(table.meta, canonicalValue));
  }

  async finishRestore(): Promise<void> {}

  async dispose(): Promise<void> {
    this.tables.clear();
    this.ctx.entryCount = 0;
  }
}
