// The frozen view of a level backend: a LevelDB snapshot with the batches that were not yet
// acknowledged when it was taken laid over it (newest wins; a 'del' hides the key). Both are in
// disk-key order, which starts with the key group, so one merge yields canonical entries by
// ascending key group.
import type { Level } from 'level';
import type { KeyGroupRange } from '../../common/keygroups.js';
import { CHUNK_ENTRIES } from './chunk-size.js';
import { decodeDiskKey, decodeDiskValue } from './level-disk-format.js';
import type { KeyedEntry, KeyedStateSnapshot, KeyGroupChunk, StateMeta } from './types.js';

export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

type LevelDb = Level<Buffer, Buffer>;
type DbSnapshot = ReturnType<LevelDb['snapshot']>;

/** Entries and bytes read from LevelDB per iterator call (classic-level's default is 16 KiB). */
const READ_BATCH = 2000;
const READ_BATCH_BYTES = 1024 * 1024;

export class LevelSnapshotView implements KeyedStateSnapshot {
  private released = false;

  constructor(
    private readonly db: LevelDb,
    private readonly dbSnapshot: DbSnapshot,
    /** Batches in the order they were issued. */
    private readonly overlays: BatchOp[][],
    readonly states: StateMeta[],
    private readonly keyGroupRange: KeyGroupRange,
  ) {}

  async *chunks(): AsyncGenerator<KeyGroupChunk> {
    if (this.released) throw new Error('the keyed state snapshot was released before it was read');
    const overlay = mergeOverlays(this.overlays);
    // fillCache: false, so a checkpoint does not push the task's hot blocks out of LevelDB's cache.
    const options = { snapshot: this.dbSnapshot, fillCache: false, highWaterMarkBytes: READ_BATCH_BYTES };
    const it = this.db.iterator(options);
    let chunk: KeyGroupChunk | undefined;
    const { states, keyGroupRange } = this;
    function* add(diskKey: Buffer, value: Buffer): Generator<KeyGroupChunk> {
      const k = decodeDiskKey(diskKey);
      const meta = states[k.tableId];
      if (meta === undefined) throw new Error(`the level state backend holds an entry of unknown table id ${k.tableId}`);
      if (k.keyGroup < keyGroupRange.start || k.keyGroup > keyGroupRange.end) {
        throw new Error(`the level state backend holds an entry in key group ${k.keyGroup}, outside its key groups ${keyGroupRange.start}..${keyGroupRange.end}`);
      }
      if (chunk !== undefined && (chunk.keyGroup !== k.keyGroup || chunk.entries.length >= CHUNK_ENTRIES)) {
        yield chunk;
        chunk = undefined;
      }
      chunk ??= { keyGroup: k.keyGroup, entries: [] };
      const entry: KeyedEntry = [meta.name, k.key, k.namespace, decodeDiskValue(value)];
      chunk.entries.push(entry);
    }
    try {
      let o = 0;
      for (;;) {
        const batch = await it.nextv(READ_BATCH);
        if (batch.length === 0) break;
        for (const [key, value] of batch) {
          // Overlay keys before this one come first; one equal to it replaces it.
          let replaced = false;
          while (o < overlay.length) {
            const c = Buffer.compare(overlay[o].key, key);
            if (c > 0) break;
            const op = overlay[o++];
            if (op.type === 'put') yield* add(op.key, op.value);
            if (c === 0) replaced = true;
          }
          if (!replaced) yield* add(key, value);
        }
      }
      for (; o < overlay.length; o++) {
        const op = overlay[o];
        if (op.type === 'put') yield* add(op.key, op.value);
      }
      if (chunk !== undefined) yield chunk;
    } finally {
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

/** The batches as one sorted list of the newest operation per key. */
function mergeOverlays(overlays: BatchOp[][]): BatchOp[] {
  if (overlays.length === 0) return [];
  const newest = new Map<string, BatchOp>();
  for (const ops of overlays) for (const op of ops) newest.set(op.key.toString('latin1'), op);
  return Array.from(newest.values()).sort((a, b) => Buffer.compare(a.key, b.key));
}
