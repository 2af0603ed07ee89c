// How the level backend lays out keyed state in LevelDB. Key: key group (2 bytes, big-endian),
// table id (2 bytes, big-endian), msgpack of [key, namespace]; so the database iterates in key-group
// order, and a (table, key) is one contiguous range. Value: msgpack of the canonical value.
// Plain msgpack (no records) keeps the bytes of equal keys equal.
import { Packr, RESERVE_START_SPACE, Unpackr } from 'msgpackr';
import type { Namespace } from './types.js';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

export const MAX_TABLES = 0x10000;

export function encodeDiskKey(keyGroup: number, tableId: number, key: unknown, namespace: Namespace): Buffer {
  const out = packr.pack([key, namespace], RESERVE_START_SPACE | 4);
  out.writeUInt16BE(keyGroup, 0);
  out.writeUInt16BE(tableId, 2);
  return out;
}

export function decodeDiskKey(diskKey: Uint8Array): {
  keyGroup: number;
  tableId: number;
  key: unknown;
  namespace: Namespace;
} {
  const keyGroup = (diskKey[0] << 8) | diskKey[1];
  const tableId = (diskKey[2] << 8) | diskKey[3];
  const pair = unpackr.unpack(diskKey.subarray(4)) as [unknown, Namespace];
  return { keyGroup, tableId, key: pair[0], namespace: pair[1] };
}

export function encodeDiskValue(canonical: unknown): Buffer {
  return packr.pack(canonical);
}

export function decodeDiskValue(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}

// Chunks of a snapshot file spliced from disk bytes, with no decode and re-encode: the disk key's
// msgpack of [key, namespace] is an array header (one byte, 0x92) then the key's and the
// namespace's bytes, which are exactly the middle of a canonical entry [state, key, namespace, value].
const KEY_GROUP = packr.pack('keyGroup');
const ENTRIES = packr.pack('entries');
const REMOVED = packr.pack('removed');

function arrayHeader(n: number): Buffer {
  if (n < 16) return Buffer.from([0x90 | n]);
  if (n < 0x10000) {
    const b = Buffer.allocUnsafe(3);
    b[0] = 0xdc;
    b.writeUInt16BE(n, 1);
    return b;
  }
  const b = Buffer.allocUnsafe(5);
  b[0] = 0xdd;
  b.writeUInt32BE(n, 1);
  return b;
}

/** Collects one key group's entries (and removals) as msgpack bytes of a chunk { keyGroup, entries[, removed] }. */
export class RawChunkBuilder {
  private parts: Buffer[] = [];
  private removedParts: Buffer[] = [];
  count = 0;
  private removedCount = 0;
  private readonly names = new Map<string, Buffer>();

  constructor(readonly keyGroup: number) {}

  private name(state: string): Buffer {
    let b = this.names.get(state);
    if (b === undefined) this.names.set(state, (b = packr.pack(state)));
    return b;
  }

  /** An entry from its disk key and disk value. */
  put(state: string, diskKey: Buffer, value: Buffer): void {
    if (diskKey[4] !== 0x92) throw new Error('a level state backend key is not a msgpack [key, namespace] pair');
    this.parts.push(ENTRY_HEADER, this.name(state), diskKey.subarray(5), value);
    this.count++;
  }

  remove(state: string, diskKey: Buffer): void {
    if (diskKey[4] !== 0x92) throw new Error('a level state backend key is not a msgpack [key, namespace] pair');
    this.removedParts.push(REMOVED_HEADER, this.name(state), diskKey.subarray(5));
    this.count++;
    this.removedCount++;
  }

  bytes(): Buffer {
    const head = [
      Buffer.from([this.removedCount > 0 ? 0x83 : 0x82]),
      KEY_GROUP,
      packr.pack(this.keyGroup),
      ENTRIES,
      arrayHeader(this.count - this.removedCount),
    ];
    const tail = this.removedCount > 0 ? [REMOVED, arrayHeader(this.removedCount), ...this.removedParts] : [];
    return Buffer.concat([...head, ...this.parts, ...tail]);
  }
}

const ENTRY_HEADER = Buffer.from([0x94]);
const REMOVED_HEADER = Buffer.from([0x93]);
