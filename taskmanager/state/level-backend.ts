// Keyed state in LevelDB (Flink's RocksDBKeyedStateBackend, with the `level` package). Reads are
// synchronous (getSync). Recently used values stay decoded in a write-back cache: the window
// operator gets a value, mutates it and puts it back per record, which must not cost an encode
// and a write each time. Dirty entries are encoded and written when there are `cacheLimit` of
// them, in batches of at most 2 MB. Batches are written one after the other (two concurrent
// LevelDB batches may apply in either order), and an entry stays in the cache until its batch is
// acknowledged, so the cache always holds the newest value of anything not yet on disk: a read
// checks the cache, then LevelDB. Clean, acknowledged entries are evicted (second-chance) when the
// cache outgrows its limit. For incremental checkpoints every write batch is also kept, newest
// operation per key, per epoch (the writes between two checkpoints): a delta is the epochs since
// the last completed checkpoint, read from memory, so it costs nothing in LevelDB reads however
// large the database is.
import { rm } from 'node:fs/promises';
import type { Level } from 'level';
import type { KeyGroupRange } from '../../common/keygroups.js';
import { lazyRequire } from '../../common/lazy-require.js';
import { checkCanonicalMap, fromCanonicalValue, toCanonicalValue } from './canonical-values.js';
import { checkKeyGroupRange, keyGroupInRange } from './key-group-check.js';
import { normalizeKey } from './key-normalizer.js';
import { decodeDiskValue, encodeDiskKey, encodeDiskValue, MAX_TABLES } from './level-disk-format.js';
import { LevelDeltaView, LevelSnapshotView, type BatchOp } from './level-snapshot.js';
import { checkSameTable, copyMeta } from './state-meta.js';
import type { KeyedStateBackend, KeyedStateSnapshot, Namespace, StateMeta, StateTable } from './types.js';

export interface LevelBackendOptions {
  maxParallelism: number;
  keyGroupRange: KeyGroupRange;
  /** Dirty entries that trigger a write batch, and the size the cache is kept near. */
  cacheLimit?: number;
  /**
   * Bytes of changed entries kept for the next incremental checkpoint; beyond them the changes are
   * dropped and that checkpoint is a full one (so a bulk load does not hold its data twice).
   */
  maxChangeBytes?: number;
}

export const DEFAULT_CACHE_LIMIT = 20_000;
export const DEFAULT_MAX_CHANGE_BYTES = 64 * 1024 * 1024;

/** The writes between two incremental snapshots; changes undefined: too many were kept (overflow) or none were tracked. */
interface ChangeEpoch {
  /** The checkpoint whose snapshot closed the epoch. */
  checkpointId: number;
  changes: Map<string, BatchOp> | undefined;
  bytes: number;
  /** Keys whose newest operation is a put. */
  puts: number;
}

/** An incremental checkpoint's keyed part: the whole state, or what changed since `baseCheckpointId`. */
export interface IncrementalKeyedSnapshot {
  snapshot: KeyedStateSnapshot;
  delta: boolean;
  /** The completed checkpoint a delta builds on. */
  baseCheckpointId?: number;
}
/**
 * Bytes of a write batch at most (besides `cacheLimit` entries). LevelDB's binding copies a batch on
 * the task's thread, and large batches cost more per entry: 20 000 entries of 1 KB took 4-6.5 µs
 * each, 1 000 or 4 000 of them 1.5-2 µs (and 3-4 µs instead of 7-10 until written).
 */
const WRITE_BATCH_BYTES = 2 * 1024 * 1024;
/** Batches in flight above which a restore, or a task writing state, waits for LevelDB. */
const MAX_BATCHES_IN_FLIGHT = 2;
// Every slot thread imports this module; fewer open a level backend.
const levelModule = lazyRequire<{ Level: typeof Level }>('level');

type LevelDb = Level<Buffer, Buffer>;

class CacheEntry {
  /** undefined: the (key, namespace) has no value. */
  value: unknown = undefined;
  dirty = false;
  /** Second-chance bit: set on every access, cleared by an eviction pass that spares the entry. */
  referenced = true;
  /** Batch that last wrote the entry (0: none); it may be evicted once that batch is acknowledged. */
  batchSeq = 0;
  diskKey: Buffer | undefined = undefined;

  constructor(
    readonly table: LevelStateTable,
    readonly namespace: Namespace,
  ) {}
}

interface Batch {
  ops: BatchOp[];
  done: Promise<void>;
}

export class LevelStateTable<V = unknown> implements StateTable<V> {
  /** namespace -> normalized key -> cached entry. */
  readonly cache = new Map<Namespace, Map<unknown, CacheEntry>>();
  /** False while nothing of this table was ever written to LevelDB: a cache miss then needs no read. */
  persisted = false;

  constructor(
    readonly meta: StateMeta,
    readonly id: number,
    private readonly backend: LevelKeyedStateBackend,
  ) {}

  get(namespace: Namespace): V | undefined {
    return this.entry(namespace).value as V | undefined;
  }

  put(namespace: Namespace, value: V): void {
    if (value === undefined) {
      this.remove(namespace);
      return;
    }
    const e = this.entry(namespace);
    if (e.diskKey === undefined) this.backend.assignDiskKey(e);
    if (e.value === undefined) this.backend.entryCount++;
    e.value = value;
    if (!e.dirty) this.backend.markDirty(e);
  }

  remove(namespace: Namespace): void {
    const e = this.entry(namespace);
    if (e.value === undefined) return;
    this.backend.entryCount--;
    e.value = undefined;
    if (!e.dirty) this.backend.markDirty(e);
  }

  private entry(namespace: Namespace): CacheEntry {
    let map = this.cache.get(namespace);
    if (map === undefined) {
      map = new Map();
      this.cache.set(namespace, map);
    }
    const norm = this.backend.currentNormalizedKey;
    const e = map.get(norm);
    if (e !== undefined) {
      e.referenced = true;
      return e;
    }
    return this.backend.load(this, namespace, map, norm);
  }
}

export class LevelKeyedStateBackend implements KeyedStateBackend {
  readonly type = 'level' as const;
  readonly maxParallelism: number;
  readonly keyGroupRange: KeyGroupRange;
  private readonly cacheLimit: number;

  /** @internal read by LevelStateTable */
  currentNormalizedKey: unknown = undefined;
  /** @internal kept exact by LevelStateTable */
  entryCount = 0;
  private currentKey: unknown = undefined;
  private currentKeyGroup = -1;

  private readonly tables = new Map<string, LevelStateTable>();
  private readonly tablesById: LevelStateTable[] = [];
  private cacheSize = 0;
  private nextEvictionAt: number;
  private dirty: CacheEntry[] = [];
  private readonly restoreBatch = new BatchBuilder();
  private restoring = false;

  private lastSeq = 0;
  private ackedSeq = 0;
  /** Batches issued and not yet acknowledged, oldest first. */
  private readonly inFlight: Batch[] = [];
  private writeChain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private disposed = false;

  private readonly maxChangeBytes: number;
  /** Writes are kept for deltas once an incremental snapshot was taken. */
  private tracking = false;
  /** The open epoch's newest operation per disk key (latin1); undefined after an overflow. */
  private changes: Map<string, BatchOp> | undefined = undefined;
  private changesBytes = 0;
  private changesPuts = 0;
  /** Closed epochs after the last confirmed checkpoint, oldest first. */
  private readonly epochs: ChangeEpoch[] = [];
  private heldChangeBytes = 0;
  /** The newest completed checkpoint that had an incremental snapshot here (-1: none). */
  private confirmedCheckpointId = -1;

  private constructor(
    private readonly db: LevelDb,
    readonly dir: string,
    opts: LevelBackendOptions,
  ) {
    this.maxParallelism = opts.maxParallelism;
    this.keyGroupRange = { start: opts.keyGroupRange.start, end: opts.keyGroupRange.end };
    const limit = opts.cacheLimit ?? DEFAULT_CACHE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`level backend cacheLimit must be a positive integer, got ${String(limit)}`);
    this.cacheLimit = limit;
    this.nextEvictionAt = limit;
    this.maxChangeBytes = opts.maxChangeBytes ?? DEFAULT_MAX_CHANGE_BYTES;
  }

  /** Opens a fresh backend in `dir`: the directory is created, anything in it before is deleted. */
  static async open(dir: string, opts: LevelBackendOptions): Promise<LevelKeyedStateBackend> {
    checkKeyGroupRange(opts.maxParallelism, opts.keyGroupRange);
    await rm(dir, { recursive: true, force: true });
    const { Level: LevelDatabase } = levelModule();
    const db: LevelDb = new LevelDatabase<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    try {
      await db.open();
    } catch (err) {
      throw new Error(`cannot open the LevelDB state backend in ${dir}: ${(err as Error).message}`, { cause: err });
    }
    const supports = db.supports as unknown as Record<string, unknown>;
    if (!supports.getSync || !supports.explicitSnapshots) {
      await db.close();
      throw new Error(
        'the installed `level` package lacks getSync() or explicit snapshots (classic-level 3 or newer is needed)',
      );
    }
    return new LevelKeyedStateBackend(db, dir, opts);
  }

  setCurrentKey(key: unknown): void {
    const norm = normalizeKey(key);
    this.currentKey = norm === 0 ? 0 : key;
    this.currentNormalizedKey = norm;
    this.currentKeyGroup = -1;
  }

  getCurrentKey(): unknown {
    return this.currentKey;
  }

  getTable<V = unknown>(meta: StateMeta): StateTable<V> {
    return this.table(meta) as LevelStateTable<V>;
  }

  private table(meta: StateMeta): LevelStateTable {
    const existing = this.tables.get(meta.name);
    if (existing !== undefined) {
      checkSameTable(existing.meta, meta);
      return existing;
    }
    if (this.tablesById.length >= MAX_TABLES)
      throw new Error(`the level state backend holds at most ${MAX_TABLES} keyed states per operator`);
    const table = new LevelStateTable(copyMeta(meta), this.tablesById.length, this);
    this.tables.set(meta.name, table);
    this.tablesById.push(table);
    return table;
  }

  numEntries(): number {
    return this.entryCount;
  }

  /** Entries held decoded in memory (for metrics and tests). */
  cachedEntries(): number {
    return this.cacheSize;
  }

  /** @internal A cache miss of the current key: read LevelDB (unless the table never wrote there). */
  load(table: LevelStateTable, namespace: Namespace, map: Map<unknown, CacheEntry>, norm: unknown): CacheEntry {
    this.checkUsable();
    if (this.restoring) throw new Error('keyed state was accessed before finishRestore() completed');
    const e = new CacheEntry(table, namespace);
    if (table.persisted) {
      e.diskKey = encodeDiskKey(this.keyGroupOfCurrentKey(), table.id, this.currentKey, namespace);
      const bytes = this.db.getSync(e.diskKey);
      if (bytes !== undefined) e.value = fromCanonicalValue(table.meta, decodeDiskValue(bytes));
    }
    map.set(norm, e);
    if (++this.cacheSize > this.nextEvictionAt) this.evict();
    return e;
  }

  /**
   * @internal For an entry of the current key, before its first write: a key outside this
   * subtask's key groups fails here, at its record, and before anything changed.
   */
  assignDiskKey(e: CacheEntry): void {
    e.diskKey = encodeDiskKey(this.keyGroupOfCurrentKey(), e.table.id, this.currentKey, e.namespace);
  }

  /** @internal The entry has a disk key and a new value (or none). */
  markDirty(e: CacheEntry): void {
    e.dirty = true;
    this.dirty.push(e);
    if (this.dirty.length >= this.cacheLimit) this.flush();
  }

  private keyGroupOfCurrentKey(): number {
    if (this.currentKeyGroup < 0)
      this.currentKeyGroup = keyGroupInRange(
        this.currentKey,
        this.maxParallelism,
        this.keyGroupRange,
        'level state backend',
      );
    return this.currentKeyGroup;
  }

  /** Encodes the dirty entries into batches of at most WRITE_BATCH_BYTES and queues them for writing. */
  private flush(): void {
    const dirty = this.dirty;
    if (dirty.length === 0) return;
    this.dirty = [];
    const batch = new BatchBuilder();
    let seq = 0;
    for (let i = 0; i < dirty.length; i++) {
      const e = dirty[i];
      const table = e.table;
      if (batch.ops.length === 0) seq = ++this.lastSeq;
      e.dirty = false;
      e.batchSeq = seq;
      const key = e.diskKey as Buffer;
      table.persisted = true;
      const full = batch.add(
        e.value === undefined
          ? { type: 'del', key }
          : { type: 'put', key, value: encodeDiskValue(toCanonicalValue(table.meta.kind, e.value)) },
      );
      if (full) this.write(seq, batch.take());
    }
    if (batch.ops.length > 0) this.write(seq, batch.take());
  }

  private write(seq: number, ops: BatchOp[]): void {
    if (this.tracking) this.recordChanges(ops);
    this.enqueue(seq, ops);
  }

  private recordChanges(ops: BatchOp[]): void {
    const changes = this.changes;
    if (changes === undefined) return;
    let bytes = this.changesBytes;
    let puts = this.changesPuts;
    for (const op of ops) {
      const k = op.key.toString('latin1');
      const prev = changes.get(k);
      if (prev !== undefined) {
        bytes -= opBytes(prev);
        if (prev.type === 'put') puts--;
      }
      changes.set(k, op);
      bytes += opBytes(op);
      if (op.type === 'put') puts++;
    }
    this.changesBytes = bytes;
    this.changesPuts = puts;
    if (bytes + this.heldChangeBytes > this.maxChangeBytes) {
      // Too much changed to keep: the next checkpoint reads the whole state instead.
      this.changes = undefined;
      this.changesBytes = 0;
      this.changesPuts = 0;
    }
  }

  private enqueue(seq: number, ops: BatchOp[]): void {
    const done = this.writeChain.then(async () => {
      if (this.failure === undefined) {
        try {
          await this.db.batch(ops);
        } catch (err) {
          this.failure = new Error(`writing keyed state to LevelDB in ${this.dir} failed: ${(err as Error).message}`, {
            cause: err,
          });
        }
      }
      this.ackedSeq = seq;
      this.inFlight.shift();
      if (this.cacheSize > this.cacheLimit) this.evict();
    });
    this.writeChain = done;
    this.inFlight.push({ ops, done });
  }

  /** One second-chance pass over the cache, dropping clean acknowledged entries down to half the limit. */
  private evict(): void {
    const target = this.cacheLimit >> 1;
    const acked = this.ackedSeq;
    outer: for (const table of this.tablesById) {
      for (const [namespace, map] of table.cache) {
        for (const [norm, e] of map) {
          if (e.dirty || e.batchSeq > acked) continue;
          if (e.referenced) {
            e.referenced = false;
            continue;
          }
          map.delete(norm);
          if (--this.cacheSize <= target) {
            if (map.size === 0) table.cache.delete(namespace);
            break outer;
          }
        }
        if (map.size === 0) table.cache.delete(namespace);
      }
    }
    // When little could be dropped (hot or unwritten entries), wait for more growth before the next pass.
    this.nextEvictionAt = this.cacheSize <= target ? this.cacheLimit : this.cacheSize + target;
  }

  snapshot(): KeyedStateSnapshot {
    this.checkUsable();
    // The dirty entries become the newest batch: with every batch not yet acknowledged laid over a
    // LevelDB snapshot (newest wins), they show exactly the state at this call.
    this.flush();
    const dbSnapshot = this.db.snapshot();
    const overlays = this.inFlight.map((b) => b.ops);
    const states = this.tablesById.map((t) => copyMeta(t.meta));
    return new LevelSnapshotView(this.db, dbSnapshot, overlays, states, this.keyGroupRange);
  }

  /**
   * Synchronous part of an incremental checkpoint: closes the epoch of writes that ends here and
   * returns what changed since checkpoint `baseCheckpointId` (a delta), or the whole state when no
   * base is given or no delta can be built on it (not the confirmed one, or too much changed).
   */
  snapshotIncremental(checkpointId: number, baseCheckpointId: number | undefined): IncrementalKeyedSnapshot {
    this.checkUsable();
    this.flush();
    const tracked = this.tracking ? this.changes : undefined;
    const closed: ChangeEpoch = {
      checkpointId,
      changes: tracked,
      bytes: tracked ? this.changesBytes : 0,
      puts: tracked ? this.changesPuts : 0,
    };
    this.epochs.push(closed);
    this.heldChangeBytes += closed.bytes;
    this.tracking = true;
    this.changes = new Map();
    this.changesBytes = 0;
    this.changesPuts = 0;
    const states = this.tablesById.map((t) => copyMeta(t.meta));
    // Every live entry was written since the last snapshot (hot state): the epoch is the whole
    // state, written as a full file from memory with no LevelDB reads, and a chain starts anew.
    if (closed.changes !== undefined && closed.puts === this.entryCount) {
      return { snapshot: new LevelDeltaView([closed.changes], states, this.keyGroupRange, true), delta: false };
    }
    const base = this.confirmedCheckpointId;
    if (baseCheckpointId === undefined || baseCheckpointId !== base || this.epochs.some((e) => e.changes === undefined))
      return { snapshot: this.snapshot(), delta: false };
    return {
      snapshot: new LevelDeltaView(
        this.epochs.map((e) => e.changes!),
        states,
        this.keyGroupRange,
      ),
      delta: true,
      baseCheckpointId: base,
    };
  }

  /**
   * Checkpoint `checkpointId` completed: later deltas build on it, and the writes up to it are no
   * longer needed. Ignored for checkpoints without an incremental snapshot here (savepoints).
   */
  confirmCheckpoint(checkpointId: number): void {
    const i = this.epochs.findIndex((e) => e.checkpointId === checkpointId);
    if (i < 0 || checkpointId <= this.confirmedCheckpointId) return;
    for (const e of this.epochs.splice(0, i + 1)) this.heldChangeBytes -= e.bytes;
    this.confirmedCheckpointId = checkpointId;
  }

  /**
   * The state just restored from an incremental chain is checkpoint `checkpointId` (a failover
   * continuing its own job's chain, as Flink's RocksDB backend restores its last completed
   * checkpoint id): the restore's writes are not changes, tracking starts here, and the next
   * snapshotIncremental(next, checkpointId) is a delta of the writes from now on. Called after
   * finishRestore() and before anything else writes, since earlier writes would be missing from it.
   */
  continueIncrementalFrom(checkpointId: number): void {
    this.checkUsable();
    if (this.restoring || this.tracking || this.dirty.length > 0 || this.lastSeq !== this.ackedSeq)
      throw new Error('an incremental chain can only be continued right after the restore finished');
    this.tracking = true;
    this.changes = new Map();
    this.changesBytes = 0;
    this.changesPuts = 0;
    this.confirmedCheckpointId = checkpointId;
  }

  restoreEntry(meta: StateMeta, key: unknown, namespace: Namespace, canonicalValue: unknown): void {
    this.checkUsable();
    const table = this.table(meta);
    if (table.meta.kind === 'map') checkCanonicalMap(table.meta, canonicalValue);
    const kg = keyGroupInRange(key, this.maxParallelism, this.keyGroupRange, `restoring keyed state '${meta.name}'`);
    this.restoring = true;
    table.persisted = true;
    const full = this.restoreBatch.add({
      type: 'put',
      key: encodeDiskKey(kg, table.id, normalizeKey(key) === 0 ? 0 : key, namespace),
      value: encodeDiskValue(canonicalValue),
    });
    this.entryCount++;
    if (full || this.restoreBatch.ops.length >= this.cacheLimit) this.flushRestore();
  }

  private flushRestore(): void {
    if (this.restoreBatch.ops.length === 0) return;
    this.enqueue(++this.lastSeq, this.restoreBatch.take());
  }

  /** Waits while too many restore batches are in flight, so a restore does not outrun LevelDB. */
  /** More batches are on their way to LevelDB than a task should let pile up (it then waits: backpressure). */
  hasWriteBacklog(): boolean {
    return this.inFlight.length > MAX_BATCHES_IN_FLIGHT;
  }

  async awaitWriteCapacity(): Promise<void> {
    while (this.inFlight.length > MAX_BATCHES_IN_FLIGHT) await this.inFlight[0].done;
  }

  async finishRestore(): Promise<void> {
    this.flushRestore();
    await this.writeChain;
    this.restoring = false;
    this.checkUsable();
  }

  /** Resolves when every write issued so far is in LevelDB. */
  async drain(): Promise<void> {
    await this.writeChain;
    this.checkUsable();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.writeChain;
    for (const t of this.tablesById) t.cache.clear();
    this.dirty = [];
    this.epochs.length = 0;
    this.changes = undefined;
    this.cacheSize = 0;
    await this.db.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  private checkUsable(): void {
    if (this.disposed) throw new Error(`the level state backend in ${this.dir} was disposed`);
    if (this.failure !== undefined) throw this.failure;
  }
}

/** Operations gathered for one LevelDB batch, which ends at WRITE_BATCH_BYTES. */
class BatchBuilder {
  ops: BatchOp[] = [];
  private bytes = 0;

  /** Adds `op`; true once the batch is full. */
  add(op: BatchOp): boolean {
    this.ops.push(op);
    this.bytes += opBytes(op);
    return this.bytes >= WRITE_BATCH_BYTES;
  }

  take(): BatchOp[] {
    const ops = this.ops;
    this.ops = [];
    this.bytes = 0;
    return ops;
  }
}

function opBytes(op: BatchOp): number {
  return op.type === 'put' ? op.key.length + op.value.length + 64 : op.key.length + 64;
}
