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

export function decodeDiskKey(diskKey: Uint8Array): { keyGroup: number; tableId: number; key: unknown; namespace: Namespace } {
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
