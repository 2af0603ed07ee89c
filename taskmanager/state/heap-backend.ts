// Keyed state on the JavaScript heap (Flink's HeapKeyedStateBackend). Each table is
// namespace-major: per namespace a Map<normalizedKey, value>, so plain user state
// (VOID_NAMESPACE, kept apart from the other namespaces) is one map, and a record's get() and
// put() touch nothing but that map and the value (no entry object per value on the record path).
//
// Snapshots use copy-on-write in the spirit of Flink's CopyOnWriteStateMap: the synchronous part
// copies each map's keys and values (references) and starts a new snapshot generation. While a
// snapshot is pending, the values it holds are shared with the live maps and must not change: a
// get() of an object value the current generation has not seen yet hands out (and stores) a
// structuredClone instead, and every object put() is remembered as the live side's own, so each
// value is copied at most once per snapshot. With no snapshot pending there is no such check.
import type { KeyGroupRange } from '../../common/keygroups.js';
import { fromCanonicalValue } from './canonical-values.js';
import { denormalizeKey, normalizeKey } from './key-normalizer.js';
import { keyGroupChunks, type SnapshotPart } from './heap-snapshot.js';
import { checkKeyGroupRange, keyGroupInRange } from './key-group-check.js';
import { checkSameTable, copyMeta } from './state-meta.js';
import {
  VOID_NAMESPACE,
  type KeyedStateBackend,
  type KeyedStateSnapshot,
  type Namespace,
  type StateMeta,
  type StateTable,
} from './types.js';

/** What the tables of one backend share: the current key and the snapshot generations. */
class HeapContext {
  currentKey: unknown = undefined;
  currentNormalizedKey: unknown = undefined;
  /** Snapshots taken and not released yet: while there are any, values are copied on write. */
  pendingSnapshots = 0;
  /** Generation of the newest snapshot (bumped by every snapshot). */
  generation = 0;
  entryCount = 0;
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null;
}

/** The values of one table in one namespace. */
class NamespaceValues {
  /** normalized key -> live value. Never holds undefined. */
  readonly values = new Map<unknown, unknown>();
  /**
   * Keys whose object value was put or copied since the snapshot of generation `ownGeneration`:
   * no pending snapshot holds that value, so it may be handed out as it is.
   */
  private own: Set<unknown> | undefined = undefined;
  private ownGeneration = -1;

  constructor(readonly namespace: Namespace) {}

  /** `value` (the object stored under `nk`), or a private copy of it while a snapshot may hold it. */
  thaw(nk: unknown, value: unknown, ctx: HeapContext): unknown {
    const own = this.ownSet(ctx);
    if (own.has(nk)) return value;
    const copy = structuredClone(value);
    this.values.set(nk, copy);
    own.add(nk);
    return copy;
  }

  /** Remembers that the object value just put under `nk` is the live side's own. */
  markOwn(nk: unknown, ctx: HeapContext): void {
    this.ownSet(ctx).add(nk);
  }

  private ownSet(ctx: HeapContext): Set<unknown> {
    if (this.ownGeneration !== ctx.generation || this.own === undefined) {
      this.own = new Set();
      this.ownGeneration = ctx.generation;
    }
    return this.own;
  }

  /** Forgets what was copied (no snapshot pending any more). */
  releaseOwn(): void {
    this.own = undefined;
    this.ownGeneration = -1;
  }
}

export class HeapStateTable<V = unknown> implements StateTable<V> {
  /** VOID_NAMESPACE's values: always there, looked up without a map. */
  private readonly voidValues = new NamespaceValues(VOID_NAMESPACE);
  /** The other namespaces. Empty ones are removed. */
  private readonly byNamespace = new Map<Namespace, NamespaceValues>();
  /** The last namespace looked up in byNamespace (a record's get() and put() address the same one). */
  private last: NamespaceValues | undefined = undefined;

  constructor(
    readonly meta: StateMeta,
    private readonly ctx: HeapContext,
  ) {}

  private find(namespace: Namespace): NamespaceValues | undefined {
    if (namespace === VOID_NAMESPACE) return this.voidValues;
    const last = this.last;
    if (last !== undefined && last.namespace === namespace) return last;
    const found = this.byNamespace.get(namespace);
    if (found !== undefined) this.last = found;
    return found;
  }

  get(namespace: Namespace): V | undefined {
    const ns = this.find(namespace);
    if (ns === undefined) return undefined;
    const ctx = this.ctx;
    const nk = ctx.currentNormalizedKey;
    const v = ns.values.get(nk);
    // The caller may mutate what it gets: while a snapshot may hold the value, it gets a private copy.
    if (ctx.pendingSnapshots !== 0 && isObject(v)) return ns.thaw(nk, v, ctx) as V;
    return v as V | undefined;
  }

  put(namespace: Namespace, value: V): void {
    if (value === undefined) {
      this.remove(namespace);
      return;
    }
    let ns = this.find(namespace);
    if (ns === undefined) {
      // As a Map key: -0 is 0, so a snapshot never holds -0.
      ns = new NamespaceValues(namespace === 0 ? 0 : namespace);
      this.byNamespace.set(namespace, ns);
      this.last = ns;
    }
    const ctx = this.ctx;
    const values = ns.values;
    const size = values.size;
    values.set(ctx.currentNormalizedKey, value);
    ctx.entryCount += values.size - size;
    if (ctx.pendingSnapshots !== 0 && isObject(value)) ns.markOwn(ctx.currentNormalizedKey, ctx);
  }

  remove(namespace: Namespace): void {
    const ns = this.find(namespace);
    if (ns === undefined || !ns.values.delete(this.ctx.currentNormalizedKey)) return;
    this.ctx.entryCount--;
    if (ns.values.size === 0 && ns !== this.voidValues) {
      this.byNamespace.delete(namespace);
      if (this.last === ns) this.last = undefined;
    }
  }

  /** Namespaces holding a value for the current key (heap only: the level backend cannot list them synchronously). */
  namespaces(): Namespace[] {
    const nk = this.ctx.currentNormalizedKey;
    const out: Namespace[] = [];
    if (this.voidValues.values.has(nk)) out.push(VOID_NAMESPACE);
    for (const [namespace, ns] of this.byNamespace) if (ns.values.has(nk)) out.push(namespace);
    return out;
  }

  /** Every normalized key with a value in some namespace. */
  normalizedKeys(): Set<unknown> {
    const out = new Set<unknown>(this.voidValues.values.keys());
    for (const ns of this.byNamespace.values()) for (const nk of ns.values.keys()) out.add(nk);
    return out;
  }

  /** Puts one restored entry for `key` (not the current key). */
  restore(key: unknown, namespace: Namespace, value: unknown): void {
    let ns = this.find(namespace);
    if (ns === undefined) {
      ns = new NamespaceValues(namespace === 0 ? 0 : namespace);
      this.byNamespace.set(namespace, ns);
    }
    const values = ns.values;
    const size = values.size;
    values.set(normalizeKey(key), value);
    this.ctx.entryCount += values.size - size;
  }

  /** The synchronous part of a snapshot: the keys and values of every namespace, as they are now. */
  snapshotParts(parts: SnapshotPart[]): void {
    for (const ns of [this.voidValues, ...this.byNamespace.values()]) {
      const values = ns.values;
      if (values.size === 0) continue;
      parts.push({
        meta: this.meta,
        namespace: ns.namespace,
        keys: Array.from(values.keys()),
        values: Array.from(values.values()),
      });
    }
  }

  /** Forgets which values were copied since the last snapshot (none is pending any more). */
  releaseOwn(): void {
    this.voidValues.releaseOwn();
    for (const ns of this.byNamespace.values()) ns.releaseOwn();
  }

  /** Drops every value (the backend's count is the caller's). */
  clear(): void {
    this.voidValues.values.clear();
    this.byNamespace.clear();
    this.last = undefined;
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
    return Array.from(table.normalizedKeys(), denormalizeKey);
  }

  snapshot(): KeyedStateSnapshot {
    const ctx = this.ctx;
    ctx.generation++;
    ctx.pendingSnapshots++;
    const parts: SnapshotPart[] = [];
    const states: StateMeta[] = [];
    for (const table of this.tables.values()) {
      states.push(copyMeta(table.meta));
      table.snapshotParts(parts);
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
        if (--ctx.pendingSnapshots === 0) for (const table of this.tables.values()) table.releaseOwn();
      },
    };
  }

  restoreEntry(meta: StateMeta, key: unknown, namespace: Namespace, canonicalValue: unknown): void {
    const table = this.table(meta);
    keyGroupInRange(key, this.maxParallelism, this.keyGroupRange, `restoring keyed state '${meta.name}'`);
    table.restore(key, namespace, fromCanonicalValue(table.meta, canonicalValue));
  }

  async finishRestore(): Promise<void> {}

  async dispose(): Promise<void> {
    for (const table of this.tables.values()) table.clear();
    this.tables.clear();
    this.ctx.entryCount = 0;
  }
}
