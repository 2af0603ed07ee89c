// The canonical state file of one (operator, subtask), which either keyed backend writes and
// either restores from. Plain msgpack (no msgpackr records, so any msgpack reader can read it), a
// sequence of items:
//   1. header { format: 'weir-state', version, operatorId, subtaskIndex, maxParallelism,
//      keyGroupRange, states: StateMeta[] }
//   2. the operator states: OperatorStateEntry[]
//   3. keyed chunks { keyGroup, entries: KeyedEntry[] } by ascending key group, at most
//      CHUNK_ENTRIES entries each (a key group may span several chunks).
// Written as a stream to a temporary name, synced and renamed; read as a stream. A delta of an
// incremental checkpoint has the same items under format 'weir-state-delta', its chunks also
// listing `removed` entries; it is read only as part of its chain (backend-factory.ts).
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { Packr } from 'msgpackr';
import { sha256OfFile } from '../../common/file-digest.js';
import { assignToKeyGroup, type KeyGroupRange } from '../../common/keygroups.js';
import { CHUNK_ENTRIES } from './chunk-size.js';
import { describeKey } from './key-normalizer.js';
import { readMsgpackItems } from './msgpack-items.js';
import { checkKeyGroupRange } from './key-group-check.js';
import {
  DELTA_FORMAT,
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  type KeyedEntry,
  type RemovedEntry,
  type KeyedStateSnapshot,
  type KeyGroupChunk,
  type OperatorStateEntry,
  type StateMeta,
} from './types.js';

export interface SnapshotFileContent {
  operatorId: string;
  subtaskIndex: number;
  maxParallelism: number;
  /** Key groups of the keyed part; null when the operator has no keyed state. */
  keyGroupRange: KeyGroupRange | null;
  operatorStates: OperatorStateEntry[];
  /** The backend's frozen view; the caller releases it after the write. */
  keyed?: KeyedStateSnapshot;
  /** Keyed entries kept outside the backend (timers); the writer puts them in key-group order. */
  extraKeyed?: { states: StateMeta[]; entries: KeyedEntry[] };
  /** `keyed` is a delta of an incremental checkpoint (its chunks may list removed entries). */
  delta?: boolean;
}

export interface SnapshotFileHeader {
  format: typeof SNAPSHOT_FORMAT | typeof DELTA_FORMAT;
  version: number;
  operatorId: string;
  subtaskIndex: number;
  maxParallelism: number;
  keyGroupRange: KeyGroupRange | null;
  states: StateMeta[];
}

export interface SnapshotFileReader {
  header: SnapshotFileHeader;
  operatorStates: OperatorStateEntry[];
  states: StateMeta[];
  /** Keyed chunks by ascending key group (only those in the requested range); reads the file again each call. */
  chunks(): AsyncIterable<KeyGroupChunk>;
}

export interface ReadSnapshotOptions {
  /** Checked over the whole file before anything is returned. */
  expectedSha256?: string;
  /** Only chunks of these key groups are returned. */
  keyGroupRange?: KeyGroupRange;
  /** Accept a delta file (format 'weir-state-delta'). */
  allowDelta?: boolean;
}

/** Bytes read at a time for the keyed chunks (256 KiB to 4 MiB read a 100 MB file alike, 80-99 ms). */
const CHUNK_READ_BYTES = 1024 * 1024;

/** Bytes collected before a write to the file. */
const WRITE_BUFFER_BYTES = 256 * 1024;

// Plain msgpack both ways: maps are written as msgpack maps and read back as objects.
const packr = new Packr({ useRecords: false });
const UNPACK_OPTIONS = { useRecords: false, mapsAsObjects: true } as const;

export async function writeSnapshotFile(
  path: string,
  content: SnapshotFileContent,
): Promise<{ size: number; sha256: string }> {
  const { maxParallelism, keyGroupRange } = content;
  if (keyGroupRange !== null) checkKeyGroupRange(maxParallelism, keyGroupRange);
  if ((content.keyed || content.extraKeyed?.entries.length) && keyGroupRange === null) {
    throw new Error(`state file ${path}: keyed state needs a keyGroupRange`);
  }
  const states = [...(content.keyed?.states ?? []), ...(content.extraKeyed?.states ?? [])];
  const names = new Set<string>();
  for (const s of states) {
    if (names.has(s.name)) throw new Error(`state file ${path}: two keyed states are named '${s.name}'`);
    names.add(s.name);
  }
  if (content.delta && content.extraKeyed?.entries.length)
    throw new Error(`state file ${path}: a delta holds only the keyed backend's changes`);
  const header: SnapshotFileHeader = {
    format: content.delta ? DELTA_FORMAT : SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    operatorId: content.operatorId,
    subtaskIndex: content.subtaskIndex,
    maxParallelism,
    keyGroupRange: keyGroupRange && { start: keyGroupRange.start, end: keyGroupRange.end },
    states,
  };

  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w');
  const hash = createHash('sha256');
  let size = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const drain = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const buffers = pending;
    pending = [];
    pendingBytes = 0;
    await fh.writev(buffers);
  };
  const emit = async (item: unknown): Promise<void> => {
    const bytes = packr.pack(item);
    hash.update(bytes);
    size += bytes.length;
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes >= WRITE_BUFFER_BYTES) await drain();
  };
  const emitRaw = async (bytes: Buffer): Promise<void> => {
    hash.update(bytes);
    size += bytes.length;
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes >= WRITE_BUFFER_BYTES) await drain();
  };
  const emitChunk = async (keyGroup: number, entries: KeyedEntry[], removed?: RemovedEntry[]): Promise<void> => {
    if (removed !== undefined && removed.length > 0) {
      await emit({ keyGroup, entries, removed });
      return;
    }
    for (let i = 0; i < entries.length; i += CHUNK_ENTRIES) {
      await emit({
        keyGroup,
        entries: i === 0 && entries.length <= CHUNK_ENTRIES ? entries : entries.slice(i, i + CHUNK_ENTRIES),
      });
    }
  };

  try {
    await emit(header);
    await emit(content.operatorStates);
    const extra = extraByKeyGroup(content.extraKeyed?.entries ?? [], maxParallelism, keyGroupRange, path);
    let x = 0;
    let last = -1;
    if (content.keyed?.rawChunks) {
      for await (const chunk of content.keyed.rawChunks()) {
        if (chunk.keyGroup < last)
          throw new Error(`state file ${path}: the keyed backend returned key group ${chunk.keyGroup} after ${last}`);
        last = chunk.keyGroup;
        for (; x < extra.length && extra[x].keyGroup <= chunk.keyGroup; x++)
          await emitChunk(extra[x].keyGroup, extra[x].entries);
        await emitRaw(chunk.bytes);
      }
    } else if (content.keyed) {
      for await (const chunk of content.keyed.chunks()) {
        if (chunk.keyGroup < last)
          throw new Error(`state file ${path}: the keyed backend returned key group ${chunk.keyGroup} after ${last}`);
        last = chunk.keyGroup;
        for (; x < extra.length && extra[x].keyGroup <= chunk.keyGroup; x++)
          await emitChunk(extra[x].keyGroup, extra[x].entries);
        if (chunk.removed !== undefined && chunk.removed.length > 0 && !content.delta)
          throw new Error(`state file ${path}: a full snapshot returned removed entries`);
        if (chunk.entries.length > 0 || (chunk.removed?.length ?? 0) > 0)
          await emitChunk(chunk.keyGroup, chunk.entries, chunk.removed);
      }
    }
    for (; x < extra.length; x++) await emitChunk(extra[x].keyGroup, extra[x].entries);
    await drain();
    await fh.sync();
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await rename(tmp, path);
  return { size, sha256: hash.digest('hex') };
}

/** The extra entries grouped by key group, ascending; every one must be in this subtask's range. */
function extraByKeyGroup(
  entries: KeyedEntry[],
  maxParallelism: number,
  range: KeyGroupRange | null,
  path: string,
): KeyGroupChunk[] {
  if (entries.length === 0 || range === null) return [];
  const groups = new Map<number, KeyedEntry[]>();
  for (const e of entries) {
    const kg = assignToKeyGroup(e[1], maxParallelism);
    if (kg < range.start || kg > range.end) {
      throw new Error(
        `state file ${path}: entry of '${e[0]}' for key ${describeKey(e[1])} is in key group ${kg}, outside this subtask's key groups ${range.start}..${range.end}`,
      );
    }
    let g = groups.get(kg);
    if (g === undefined) groups.set(kg, (g = []));
    g.push(e);
  }
  return [...groups].sort((a, b) => a[0] - b[0]).map(([keyGroup, es]) => ({ keyGroup, entries: es }));
}

export async function readSnapshotFile(path: string, opts: ReadSnapshotOptions = {}): Promise<SnapshotFileReader> {
  if (opts.expectedSha256 !== undefined) await verifyChecksum(path, opts.expectedSha256);
  let header: SnapshotFileHeader | undefined;
  let operatorStates: OperatorStateEntry[] | undefined;
  // Small reads: callers that want only the operator states should not decode the keyed part.
  for await (const item of items(path, 16 * 1024)) {
    if (header === undefined) header = checkHeader(item, path, opts.allowDelta === true);
    else {
      operatorStates = checkOperatorStates(item, path);
      break;
    }
  }
  if (header === undefined) throw damaged(path, 'it is empty');
  if (operatorStates === undefined) throw damaged(path, 'it ends after its header (truncated)');
  const range = opts.keyGroupRange;
  const fileRange = header.keyGroupRange;
  const delta = header.format === DELTA_FORMAT;
  return {
    header,
    operatorStates,
    states: header.states,
    chunks: () => readChunks(path, fileRange, range, delta),
  };
}

async function* readChunks(
  path: string,
  fileRange: KeyGroupRange | null,
  range: KeyGroupRange | undefined,
  delta: boolean,
): AsyncGenerator<KeyGroupChunk> {
  let index = 0;
  let last = -1;
  // Chunks of key groups before the range are passed over undecoded (a subtask of a rescaled job
  // reads files that other subtasks' key groups come first in).
  const start = range?.start ?? 0;
  const skip = (src: Uint8Array, at: number, end: number): boolean => {
    const keyGroup = chunkKeyGroup(src, at, end);
    if (keyGroup < 0 || keyGroup >= start) return false;
    index++;
    return true;
  };
  for await (const item of items(path, CHUNK_READ_BYTES, start > 0 ? skip : undefined)) {
    if (index++ < 2) continue;
    const chunk = item as KeyGroupChunk;
    if (
      chunk === null ||
      typeof chunk !== 'object' ||
      !Number.isInteger(chunk.keyGroup) ||
      !Array.isArray(chunk.entries)
    ) {
      throw damaged(path, `item ${index} is not a keyed chunk { keyGroup, entries }`);
    }
    if (fileRange === null || chunk.keyGroup < fileRange.start || chunk.keyGroup > fileRange.end) {
      throw damaged(
        path,
        `a chunk has key group ${chunk.keyGroup}, outside the file's key-group range ${fileRange ? `${fileRange.start}..${fileRange.end}` : '(none)'}`,
      );
    }
    if (chunk.keyGroup < last) throw damaged(path, `key group ${chunk.keyGroup} follows key group ${last}`);
    last = chunk.keyGroup;
    if (range !== undefined) {
      if (chunk.keyGroup < range.start) continue;
      if (chunk.keyGroup > range.end) return; // ascending: nothing of the range follows
    }
    for (const e of chunk.entries) {
      if (!Array.isArray(e) || e.length !== 4 || typeof e[0] !== 'string')
        throw damaged(path, `a chunk of key group ${chunk.keyGroup} holds a malformed entry`);
    }
    if (chunk.removed !== undefined) {
      if (!delta || !Array.isArray(chunk.removed))
        throw damaged(path, `a chunk of key group ${chunk.keyGroup} lists removed entries, which only a delta may`);
      for (const e of chunk.removed) {
        if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== 'string')
          throw damaged(path, `a chunk of key group ${chunk.keyGroup} holds a malformed removed entry`);
      }
    }
    yield chunk;
  }
}

/**
 * The `keyGroup` of the keyed chunk whose bytes are [at, end), -1 for anything else. Both writers put it first:
 * msgpackr in a map16 of 2 or 3 fields, the level backend's raw chunks in a fixmap.
 */
function chunkKeyGroup(src: Uint8Array, at: number, end: number): number {
  const t0 = src[at];
  const head =
    t0 === 0x82 || t0 === 0x83
      ? 1
      : t0 === 0xde && src[at + 1] === 0 && (src[at + 2] === 2 || src[at + 2] === 3)
        ? 3
        : 0;
  if (head === 0 || at + head + KEY_GROUP_FIELD.length + 3 > end) return -1;
  for (let i = 0; i < KEY_GROUP_FIELD.length; i++) if (src[at + head + i] !== KEY_GROUP_FIELD[i]) return -1;
  const p = at + head + KEY_GROUP_FIELD.length;
  const t = src[p]!;
  if (t < 0x80) return t;
  if (t === 0xcc) return src[p + 1]!;
  if (t === 0xcd) return (src[p + 1]! << 8) | src[p + 2]!;
  return -1;
}

/** The field name `keyGroup` as msgpack writes it (a fixstr). */
const KEY_GROUP_FIELD = packr.pack('keyGroup');

/** The file's msgpack items, read as a stream; damage surfaces as an error naming the file. */
async function* items(
  path: string,
  readBytes: number,
  skip?: (src: Uint8Array, at: number, end: number) => boolean,
): AsyncGenerator<unknown> {
  try {
    yield* readMsgpackItems(path, readBytes, UNPACK_OPTIONS, skip);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { incomplete?: boolean };
    if (err.code === 'ENOENT') throw new Error(`state file ${path} is missing`, { cause: e });
    if (err.incomplete) throw damaged(path, 'it ends in the middle of an item (truncated)', e);
    if (typeof err.code === 'string') throw new Error(`cannot read state file ${path}: ${err.message}`, { cause: e });
    throw damaged(path, `it is not valid MessagePack (${err.message})`, e);
  }
}

async function verifyChecksum(path: string, expected: string): Promise<void> {
  let actual: string;
  try {
    actual = await sha256OfFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`state file ${path} is missing`, { cause: e });
    throw new Error(`cannot read state file ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (actual !== expected.toLowerCase())
    throw damaged(path, `its sha256 is ${actual}, the checkpoint recorded ${expected}`);
}

function damaged(path: string, what: string, cause?: unknown): Error {
  return new Error(`state file ${path} is damaged: ${what}`, cause === undefined ? undefined : { cause });
}

function checkHeader(item: unknown, path: string, allowDelta: boolean): SnapshotFileHeader {
  const h = item as Partial<SnapshotFileHeader> | null;
  if (h !== null && typeof h === 'object' && h.format === DELTA_FORMAT && !allowDelta) {
    throw new Error(
      `${path} is a delta of an incremental checkpoint, readable only with the files before it in its chain`,
    );
  }
  if (h === null || typeof h !== 'object' || (h.format !== SNAPSHOT_FORMAT && h.format !== DELTA_FORMAT)) {
    throw new Error(`${path} is not a Weir state file (its first item lacks format '${SNAPSHOT_FORMAT}')`);
  }
  if (typeof h.version !== 'number' || !Number.isInteger(h.version) || h.version < 1)
    throw damaged(path, `its format version ${JSON.stringify(h.version)} is not valid`);
  if (h.version > SNAPSHOT_VERSION) {
    throw new Error(
      `state file ${path} has format version ${h.version}, newer than this Weir reads (up to ${SNAPSHOT_VERSION}); restore it with a newer Weir`,
    );
  }
  if (
    typeof h.operatorId !== 'string' ||
    !Number.isInteger(h.subtaskIndex) ||
    !Number.isInteger(h.maxParallelism) ||
    !Array.isArray(h.states)
  ) {
    throw damaged(path, 'its header lacks operatorId, subtaskIndex, maxParallelism or states');
  }
  const r = h.keyGroupRange;
  if (
    r !== null &&
    (typeof r !== 'object' || r === undefined || !Number.isInteger(r.start) || !Number.isInteger(r.end))
  ) {
    throw damaged(path, 'its header has a malformed keyGroupRange');
  }
  for (const s of h.states) {
    if (!s || typeof s.name !== 'string' || typeof s.kind !== 'string')
      throw damaged(path, 'its header lists a malformed state');
  }
  return h as SnapshotFileHeader;
}

function checkOperatorStates(item: unknown, path: string): OperatorStateEntry[] {
  if (!Array.isArray(item)) throw damaged(path, 'its second item is not the list of operator states');
  for (const e of item as OperatorStateEntry[]) {
    if (
      !e ||
      typeof e.name !== 'string' ||
      !['split', 'union', 'broadcast'].includes(e.mode) ||
      !Array.isArray(e.items)
    ) {
      throw damaged(path, 'it holds a malformed operator state');
    }
  }
  return item as OperatorStateEntry[];
}
