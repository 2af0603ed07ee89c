// The frozen view of a level backend: a LevelDB snapshot with the batches that were not yet
// acknowledged when it was taken laid over it (newest wins; a 'del' hides the key). Both are in
// disk-key order, which starts with the key group, so one merge yields canonical entries by
// ascending key group.
import type { Level } from 'level';
import type { KeyGroupRange } from '../../common/keygroups.js';
import { CHUNK_ENTRIES } from './chunk-size.js';
import { decodeDiskKey, decodeDiskValue, RawChunkBuilder } from './level-disk-format.js';
import type { KeyedEntry, KeyedStateSnapshot, KeyGroupChunk, StateMeta } from './types.js';

export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

type LevelDb = Level<Buffer, Buffer>;
type DbSnapshot = ReturnType<LevelDb['snapshot']>;

/** Entries and bytes read from LevelDB per iterator call (classic-level's default is 16 KiB). */
const READ_BATCH = 2000;
const READ_BATCH_BYTES = 1024 * 1024;

/** Both views: entries in disk-key order as (disk key, disk value; undefined: removed). */
abstract class LevelView implements KeyedStateSnapshot {
  constructor(
    readonly states: StateMeta[],
    private readonly keyGroupRange: KeyGroupRange,
  ) {}

  protected abstract entries(): AsyncGenerator<[Buffer, Buffer | undefined]>;
  abstract release(): void;

  /** The table name of a disk key, checked against the tables and the key groups of the backend. */
  private stateOf(diskKey: Buffer): { keyGroup: number; state: string } {
    const keyGroup = (diskKey[0]! << 8) | diskKey[1]!;
    const tableId = (diskKey[2]! << 8) | diskKey[3]!;
    const meta = this.states[tableId];
    if (meta === undefined) throw new Error(`the level state backend holds an entry of unknown table id ${tableId}`);
    if (keyGroup < this.keyGroupRange.start || keyGroup > this.keyGroupRange.end) {
      throw new Error(
        `the level state backend holds an entry in key group ${keyGroup}, outside its key groups ${this.keyGroupRange.start}..${this.keyGroupRange.end}`,
      );
    }
    return { keyGroup, state: meta.name };
  }

  async *chunks(): AsyncGenerator<KeyGroupChunk> {
    let chunk: KeyGroupChunk | undefined;
    let n = 0;
    for await (const [diskKey, value] of this.entries()) {
      const { keyGroup, state } = this.stateOf(diskKey);
      if (chunk !== undefined && (chunk.keyGroup !== keyGroup || n >= CHUNK_ENTRIES)) {
        yield chunk;
        chunk = undefined;
      }
      if (chunk === undefined) {
        chunk = { keyGroup, entries: [] };
        n = 0;
      }
      n++;
      const k = decodeDiskKey(diskKey);
      if (value !== undefined) chunk.entries.push([state, k.key, k.namespace, decodeDiskValue(value)] as KeyedEntry);
      else (chunk.removed ??= []).push([state, k.key, k.namespace]);
    }
    if (chunk !== undefined) yield chunk;
  }

  async *rawChunks(): AsyncGenerator<{ keyGroup: number; bytes: Buffer }> {
    let chunk: RawChunkBuilder | undefined;
    for await (const [diskKey, value] of this.entries()) {
      const { keyGroup, state } = this.stateOf(diskKey);
      if (chunk !== undefined && (chunk.keyGroup !== keyGroup || chunk.count >= CHUNK_ENTRIES)) {
        yield { keyGroup: chunk.keyGroup, bytes: chunk.bytes() };
        chunk = undefined;
      }
      chunk ??= new RawChunkBuilder(keyGroup);
      if (value !== undefined) chunk.put(state, diskKey, value);
      else chunk.remove(state, diskKey);
    }
    if (chunk !== undefined) yield { keyGroup: chunk.keyGroup, bytes: chunk.bytes() };
  }
}

export class LevelSnapshotView extends LevelView {
  private released = false;

  constructor(
    private readonly db: LevelDb,
    private readonly dbSnapshot: DbSnapshot,
    /** Batches in the order they were issued. */
    private readonly overlays: BatchOp[][],
    states: StateMeta[],
    keyGroupRange: KeyGroupRange,
  ) {
    super(states, keyGroupRange);
  }

  protected async *entries(): AsyncGenerator<[Buffer, Buffer | undefined]> {
    if (this.released) throw new Error('the keyed state snapshot was released before it was read');
    const overlay = mergeOverlays(this.overlays);
    // fillCache: false, so a checkpoint does not push the task's hot blocks out of LevelDB's cache.
    const options = { snapshot: this.dbSnapshot, fillCache: false, highWaterMarkBytes: READ_BATCH_BYTES };
    const it = this.db.iterator(options);
    let next: Promise<Array<[Buffer, Buffer]>> | null = it.nextv(READ_BATCH);
    try {
      let o = 0;
      for (;;) {
        const batch: Array<[Buffer, Buffer]> = await next;
        if (batch.length === 0) {
          next = null;
          break;
        }
        // LevelDB reads the next batch (on the thread pool) while this one is consumed.
        next = it.nextv(READ_BATCH);
        next.catch(() => undefined);
        for (const [key, value] of batch) {
          // Overlay keys before this one come first; one equal to it replaces it.
          let replaced = false;
          while (o < overlay.length) {
            const c = Buffer.compare(overlay[o]!.key, key);
            if (c > 0) break;
            const op = overlay[o++]!;
            if (op.type === 'put') yield [op.key, op.value];
            if (c === 0) replaced = true;
          }
          if (!replaced) yield [key, value];
        }
      }
      for (; o < overlay.length; o++) {
        const op = overlay[o]!;
        if (op.type === 'put') yield [op.key, op.value];
      }
    } finally {
      // A read still in flight (the reader stopped early) ends before the iterator closes.
      await next?.catch(() => undefined);
      await it.close();
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.overlays.length = 0;
    // Closing waits for reads still using the snapshot; a failure there has nobody to tell.
    this.dbSnapshot.close().catch(() => undefined);
  }
}

/**
 * A delta of an incremental checkpoint: the newest operation per key over the epochs since the
 * confirmed checkpoint, kept in memory by the backend; 'del' operations become `removed`.
 */
export class LevelDeltaView extends LevelView {
  private epochs: Array<Map<string, BatchOp>> | undefined;

  constructor(
    /** Oldest first; not changed after this call (the backend opens a new epoch). */
    epochs: Array<Map<string, BatchOp>>,
    states: StateMeta[],
    keyGroupRange: KeyGroupRange,
    /** The puts are every live entry: a full snapshot (removals left out). */
    private readonly complete = false,
  ) {
    super(states, keyGroupRange);
    this.epochs = [...epochs];
  }

  protected async *entries(): AsyncGenerator<[Buffer, Buffer | undefined]> {
    const epochs = this.epochs;
    if (epochs === undefined) throw new Error('the keyed state snapshot was released before it was read');
    let ops: BatchOp[];
    if (epochs.length === 1) ops = Array.from(epochs[0]!.values());
    else {
      const newest = new Map<string, BatchOp>();
      for (const e of epochs) for (const [k, op] of e) newest.set(k, op);
      ops = Array.from(newest.values());
    }
    ops.sort((a, b) => Buffer.compare(a.key, b.key));
    for (const op of ops) {
      if (op.type === 'put') yield [op.key, op.value];
      else if (!this.complete) yield [op.key, undefined];
    }
  }

  release(): void {
    this.epochs = undefined;
  }
}

/** The batches as one sorted list of the newest operation per key. */
function mergeOverlays(overlays: BatchOp[][]): BatchOp[] {
  if (overlays.length === 0) return [];
  const newest = new Map<string, BatchOp>();
  for (const ops of overlays) for (const op of ops) newest.set(op.key.toString('latin1'), op);
  return Array.from(newest.values()).sort((a, b) => Buffer.compare(a.key, b.key));
}
