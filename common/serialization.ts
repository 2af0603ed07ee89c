// Data plane (de)serialization: records into network buffers, and in-band events. A buffer holds
// many records and decodes on its own (object shapes are defined inline, once per buffer), so
// buffers may be decoded in any order, by any process or thread. Every value round-trips exactly:
// undefined (also as a field or array element, and array holes), -0, NaN, ±Infinity, bigints of
// any size, Dates, Maps, Sets, RegExps, Errors, typed arrays, ArrayBuffers, strings with lone
// surrogates (written as WTF-8). Class instances travel as plain objects of their own enumerable
// fields; functions and symbols as undefined.
//
// A buffer: u8 FORMAT_RECORDS | u32le record count | records, each one value, preceded by
// TAG_TIMESTAMP f64le when it has a timestamp. An event: u8 FORMAT_EVENT | one value. A buffer
// whose records all have one flat shape of numbers (or are arrays of as many numbers each) goes as
// columns instead (record-columns.ts).
//
// Why not msgpack: it turns -0 into 0, refuses bigints beyond 64 bits, decodes Sets as arrays and
// lone surrogates as U+FFFD; and its inline record structures are recompiled for every buffer.
// Here an object's shape (its key list) is found through a trie of keys without allocating, is
// written once per buffer, and decodes through a constructor compiled once per process and shape.
// Strings repeat as much as keys do (a channel, a URL, a country): each is written once per
// buffer, later as its number there, and decodes to the same string without decoding bytes again.

import { ColumnWriter, decodeColumns, FORMAT_COLUMNS } from './record-columns.js';

/** 0x02 had no string table. FORMAT_COLUMNS (0x05): record-columns.ts. */
const FORMAT_RECORDS = 0x04;
const FORMAT_EVENT = 0x03;
const HEADER_BYTES = 5;

// Value tags. 0x00-0x7f: the integers 0..127 themselves.
const TAG_UNDEFINED = 0x80;
const TAG_NULL = 0x81;
const TAG_FALSE = 0x82;
const TAG_TRUE = 0x83;
const TAG_INT8 = 0x84;
const TAG_INT16 = 0x85;
const TAG_INT32 = 0x86;
const TAG_FLOAT64 = 0x87;
/** varuint byte length, UTF-8 (the string is well formed). */
const TAG_STRING = 0x88;
/** varuint byte length, WTF-8 (the string has lone surrogates). */
const TAG_STRING_WTF8 = 0x89;
const TAG_ARRAY = 0x8a;
/** A new shape for this buffer: varuint key count, the keys (string values), then the field values.
 * Shapes are numbered in the order their definitions end, so nested ones come first. */
const TAG_SHAPE_DEF = 0x8b;
/** varuint shape id, then the field values. */
const TAG_SHAPE_REF = 0x8c;
/** An object without a shape (too many keys): varuint count, then key and value pairs. */
const TAG_OBJECT = 0x8d;
const TAG_DATE = 0x8e;
/** u8 sign, varuint byte count, magnitude little-endian. */
const TAG_BIGINT = 0x8f;
const TAG_MAP = 0x90;
const TAG_SET = 0x91;
/** u8 kind (TYPED_KINDS index), varuint byte length, the bytes. */
const TAG_TYPED = 0x92;
const TAG_REGEXP = 0x93;
const TAG_ERROR = 0x94;
/** An array hole (an absent index, unlike an undefined element). */
const TAG_HOLE = 0x95;
/** Before a record: its timestamp as f64le. Not a value. */
const TAG_TIMESTAMP = 0x96;
/** A string (the value that follows) that later values of this buffer refer to by its number. */
const TAG_STRING_DEF = 0x97;
/** varuint number of a string defined earlier in this buffer. */
const TAG_STRING_REF = 0x98;
/** 0xa0-0xbf: a UTF-8 string of 0..31 bytes. */
const TAG_FIXSTR = 0xa0;
/** 0xc0-0xff: an object of shape 0..63 of this buffer. */
const TAG_FIXSHAPE = 0xc0;
const FIXSHAPES = 64;

/** Objects with more keys are written as key and value pairs, not as a shape. */
const MAX_SHAPE_KEYS = 64;
/** Trie nodes kept per process; past this the trie starts afresh (key sets that never repeat). */
const MAX_SHAPE_NODES = 16_384;
/** Compiled shape constructors kept per process. */
const MAX_SHAPE_FACTORIES = 4096;
/** Strings this short are encoded by hand (faster than the native coder's call overhead, and WTF-8). */
const SHORT_STRING = 64;
/** UTF-8 strings from this many bytes on decode natively (measured faster from about 20 bytes). */
const NATIVE_DECODE_BYTES = 24;
/** Strings of these lengths go into a buffer's string table: shorter ones cost less to write again. */
const TABLE_MIN_LENGTH = 3;
const TABLE_MAX_LENGTH = 256;
/** Strings per buffer's table: past this, new strings are written in full (a table lookup still runs). */
const MAX_TABLE_STRINGS = 1024;
/**
 * Every this many strings defined, the table must have been referred to at least half as often as
 * it was filled, or the buffer stops using it: strings that never repeat (names, ids) would
 * otherwise pay a lookup and an insert each for nothing.
 */
const TABLE_REVIEW_EVERY = 64;

export type TypedArrayConstructor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;
/** The typed arrays that travel as their bytes; other views travel as their fields. */
export const TYPED_KINDS: readonly TypedArrayConstructor[] = [
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];
const KIND_BUFFER = 100;
const KIND_ARRAY_BUFFER = 101;
const ERROR_TYPES: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

const hasOwn = Object.prototype.hasOwnProperty;
const utf8Encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the string, not a marker to drop.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

// ---------------------------------------------------------------------------------------------
// Shapes on the writing side: a trie over key sequences. A node is the shape of the keys on its
// path; per serializer (slot) it remembers the buffer (epoch) that defined it and its id there.

/** Builds the copy of `o`, a value of this shape, passing each field's value through `copy`. */
export type FieldCopier = (o: Record<string, unknown>, copy: (v: unknown) => unknown) => Record<string, unknown>;

export class ShapeNode {
  next: Map<string, ShapeNode> | null = null;
  /** The child looked up last: a stream of one shape walks the trie without hashing. */
  lastKey: string | null = null;
  lastChild: ShapeNode | null = null;
  /** TAG_SHAPE_DEF, the key count and the keys; built on first use. */
  definition: Uint8Array | null = null;
  /** Copies an object of this shape into a literal of the decoder's hidden class (common/record-copy.ts). */
  copier: FieldCopier | null = null;
  /** Copies made before `copier` was compiled: a key set seen once is not worth compiling. */
  copies = 0;
  readonly epochs: number[] = [];
  readonly ids: number[] = [];

  constructor(
    readonly parent: ShapeNode | null,
    readonly key: string,
    readonly depth: number,
  ) {}
}

let shapeRoot = new ShapeNode(null, '', 0);
let shapeNodes = 0;
let nextEpoch = 1;
const freeSlots: number[] = [];
let nextSlot = 0;

function childOf(node: ShapeNode, key: string): ShapeNode {
  let next = node.next;
  if (next === null) next = node.next = new Map();
  let child = next.get(key);
  if (child === undefined) {
    child = new ShapeNode(node, key, node.depth + 1);
    next.set(key, child);
    shapeNodes++;
  }
  node.lastKey = key;
  node.lastChild = child;
  return child;
}

/** Forgets every shape once the trie is full: key sets that never repeat must not pile up. */
function checkShapeTrie(): void {
  if (shapeNodes > MAX_SHAPE_NODES) {
    shapeRoot = new ShapeNode(null, '', 0);
    shapeNodes = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing. The arena being written is loaded into module variables for the length of one record
// (or event): the hot functions then work on locals of this module, not on object fields.

/** A growable output buffer and the shape ids of the network buffer it holds. */
class Arena {
  bytes: Uint8Array;
  view: DataView;
  pos = 0;
  /** Index into every ShapeNode's per-serializer arrays; -1 once disposed. */
  slot: number;
  /** The network buffer being written: shape ids are valid within one epoch only. */
  epoch = 0;
  shapeCount = 0;
  /** Bytes at which the owner finishes a buffer, if it says. */
  sizeHint = 0;
  /** The string table of the buffer being written: string to number, and the strings in order. */
  readonly strings = new Map<string, number>();
  readonly stringList: string[] = [];
  stringRefs = 0;
  tableOpen = true;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
    this.slot = freeSlots.length > 0 ? (freeSlots.pop() as number) : nextSlot++;
  }

  newEpoch(): void {
    this.epoch = nextEpoch++;
    this.shapeCount = 0;
    if (this.stringList.length > 0) {
      this.strings.clear();
      this.stringList.length = 0;
    }
    this.stringRefs = 0;
    this.tableOpen = true;
  }

  dispose(): void {
    if (this.slot >= 0) freeSlots.push(this.slot);
    this.slot = -1;
  }
}

let out: Uint8Array = new Uint8Array(0);
let outView: DataView = new DataView(out.buffer);
let pos = 0;
let slot = 0;
let epoch = 0;
let shapeCount = 0;
let strings = new Map<string, number>();
let stringList: string[] = [];
let stringRefs = 0;
let tableOpen = true;
/** The active arena's expected buffer size (0: none). */
let sizeHint = 0;
/** Room past the size hint for the record that crosses it. */
const ARENA_SLACK = 1024;
/** Shapes defined while writing the current record, to undo them if the record is rolled back. */
const definedNow: ShapeNode[] = [];

/**
 * The arena whose state is in the module variables. It stays loaded after a record, so a run of
 * records into one serializer loads it once; any other use of an arena calls release(arena).
 */
let active: Arena | null = null;

function activate(a: Arena): void {
  if (active === a) return;
  if (active !== null) store(active);
  out = a.bytes;
  outView = a.view;
  pos = a.pos;
  slot = a.slot;
  epoch = a.epoch;
  shapeCount = a.shapeCount;
  sizeHint = a.sizeHint;
  strings = a.strings;
  stringList = a.stringList;
  stringRefs = a.stringRefs;
  tableOpen = a.tableOpen;
  active = a;
}

/** Writes the module state back into `a` if it is the active arena. */
function release(a: Arena): void {
  if (active !== a) return;
  store(a);
  active = null;
}

function store(a: Arena): void {
  a.bytes = out;
  a.view = outView;
  a.pos = pos;
  a.shapeCount = shapeCount;
  a.stringRefs = stringRefs;
  a.tableOpen = tableOpen;
}

/** Drops the bytes from `start`, the shapes defined since `definedFrom` and the strings numbered from `stringMark`. */
function rollBack(start: number, definedFrom: number, count: number, stringMark: number): void {
  for (let i = definedNow.length - 1; i >= definedFrom; i--) definedNow[i]!.epochs[slot] = 0;
  definedNow.length = definedFrom;
  shapeCount = count;
  for (let i = stringList.length - 1; i >= stringMark; i--) strings.delete(stringList[i]!);
  stringList.length = stringMark;
  pos = start;
}

function ensure(n: number): void {
  if (pos + n > out.length) grow(n);
}

function grow(n: number): void {
  let size = Math.max(out.length * 2, pos + n + 64);
  // A buffer is finished soon after the segment size: an arena need not double past it.
  const fit = sizeHint + ARENA_SLACK;
  if (pos + n + 64 <= fit && size > fit) size = fit;
  const next = new Uint8Array(size);
  next.set(out.subarray(0, pos));
  out = next;
  outView = new DataView(next.buffer);
}

function writeTag(t: number): void {
  ensure(1);
  out[pos++] = t;
}

function writeVaruint(v: number): void {
  ensure(5);
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
}

function writeFloat64(tag: number, v: number): void {
  ensure(9);
  out[pos] = tag;
  outView.setFloat64(pos + 1, v, true);
  pos += 9;
}

function writeValue(v: unknown): void {
  if (typeof v === 'number') writeNumber(v);
  else if (typeof v === 'string') writeString(v);
  else if (typeof v === 'object') {
    if (v === null) writeTag(TAG_NULL);
    else if ((v as { constructor?: unknown }).constructor === Object) writeFields(v as Record<string, unknown>, false);
    else writeObject(v);
  } else if (typeof v === 'boolean') writeTag(v ? TAG_TRUE : TAG_FALSE);
  else if (typeof v === 'bigint') writeBigint(v);
  // undefined, and what has no data form (functions, symbols)
  else writeTag(TAG_UNDEFINED);
}

function writeNumber(v: number): void {
  ensure(9);
  // -0 is an int32 to `|`, hence the sign check.
  if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
    const b = out;
    let p = pos;
    if (v >= 0 && v < 0x80) b[p++] = v;
    else if (v >= -0x80 && v < 0x80) {
      b[p++] = TAG_INT8;
      b[p++] = v;
    } else if (v >= -0x8000 && v < 0x8000) {
      b[p++] = TAG_INT16;
      b[p++] = v;
      b[p++] = v >> 8;
    } else {
      b[p++] = TAG_INT32;
      b[p++] = v;
      b[p++] = v >> 8;
      b[p++] = v >> 16;
      b[p++] = v >> 24;
    }
    pos = p;
  } else {
    out[pos] = TAG_FLOAT64;
    outView.setFloat64(pos + 1, v, true);
    pos += 9;
  }
}

function writeString(s: string): void {
  const n = s.length;
  if (tableOpen && n >= TABLE_MIN_LENGTH && n <= TABLE_MAX_LENGTH) {
    const id = strings.get(s);
    if (id !== undefined) {
      stringRefs++;
      writeTag(TAG_STRING_REF);
      writeVaruint(id);
      return;
    }
    const defined = stringList.length;
    if (defined < MAX_TABLE_STRINGS) {
      strings.set(s, defined);
      stringList.push(s);
      writeTag(TAG_STRING_DEF);
      if ((defined + 1) % TABLE_REVIEW_EVERY === 0 && stringRefs * 2 < defined + 1) tableOpen = false;
    }
  }
  writeStringBytes(s);
}

/** A string in full. Shape definitions use this directly: they are reused across buffers, tables are not. */
function writeStringBytes(s: string): void {
  const n = s.length;
  if (n < SHORT_STRING) {
    // Assume a fixstr (one tag byte); move the bytes if the guess was wrong.
    ensure(3 + 3 * n);
    const b = out;
    const start = pos;
    let p = start + 1;
    let wellFormed = true;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) b[p++] = c;
      else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
          const d = s.charCodeAt(i + 1);
          if (d >= 0xdc00 && d < 0xe000) {
            i++;
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            b[p++] = 0xf0 | (c >> 18);
            b[p++] = 0x80 | ((c >> 12) & 0x3f);
            b[p++] = 0x80 | ((c >> 6) & 0x3f);
            b[p++] = 0x80 | (c & 0x3f);
            continue;
          }
        }
        if (c >= 0xd800 && c < 0xe000) wellFormed = false;
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      }
    }
    const len = p - start - 1;
    if (wellFormed && len < 32) {
      b[start] = TAG_FIXSTR | len;
      pos = p;
    } else {
      // At most 3 × 63 bytes: a varuint of one or two bytes.
      const lenBytes = len < 0x80 ? 1 : 2;
      b.copyWithin(start + 1 + lenBytes, start + 1, p);
      b[start] = wellFormed ? TAG_STRING : TAG_STRING_WTF8;
      if (lenBytes === 1) b[start + 1] = len;
      else {
        b[start + 1] = (len & 0x7f) | 0x80;
        b[start + 2] = len >> 7;
      }
      pos = p + lenBytes;
    }
    return;
  }
  if (!(s as string & { isWellFormed(): boolean }).isWellFormed()) {
    writeWtf8(s);
    return;
  }
  // Reserve a varuint for the largest possible length, written padded (0x80 continuation bytes).
  const max = 3 * n;
  const lenBytes = max < 1 << 14 ? 2 : max < 1 << 21 ? 3 : 5;
  ensure(1 + lenBytes + max);
  const start = pos;
  out[start] = TAG_STRING;
  const written = utf8Encoder.encodeInto(s, out.subarray(start + 1 + lenBytes)).written;
  let v = written;
  for (let i = 0; i < lenBytes - 1; i++) {
    out[start + 1 + i] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[start + lenBytes] = v;
  pos = start + 1 + lenBytes + written;
}

function writeWtf8(s: string): void {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      }
    }
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  writeTag(TAG_STRING_WTF8);
  writeRaw(Uint8Array.from(bytes));
}

/** varuint length and the bytes. */
function writeRaw(bytes: Uint8Array): void {
  writeVaruint(bytes.length);
  ensure(bytes.length);
  out.set(bytes, pos);
  pos += bytes.length;
}

function writeBigint(v: bigint): void {
  let mag = v < 0n ? -v : v;
  const words: bigint[] = [];
  while (mag > 0n) {
    words.push(BigInt.asUintN(64, mag));
    mag >>= 64n;
  }
  writeTag(TAG_BIGINT);
  writeTag(v < 0n ? 1 : 0);
  writeVaruint(words.length * 8);
  ensure(words.length * 8);
  for (const w of words) {
    outView.setBigUint64(pos, w, true);
    pos += 8;
  }
}

function writeObject(o: object): void {
  const c = (o as { constructor?: unknown }).constructor;
  if (c === Object) writeFields(o as Record<string, unknown>, false);
  else if (Array.isArray(o)) writeArray(o);
  else if (o instanceof Date) writeFloat64(TAG_DATE, o.getTime());
  else if (o instanceof Map) {
    writeTag(TAG_MAP);
    writeVaruint(o.size);
    for (const [k, v] of o) {
      writeValue(k);
      writeValue(v);
    }
  } else if (o instanceof Set) {
    writeTag(TAG_SET);
    writeVaruint(o.size);
    for (const v of o) writeValue(v);
  } else if (ArrayBuffer.isView(o) && !(o instanceof DataView)) {
    const kind = Buffer.isBuffer(o) ? KIND_BUFFER : TYPED_KINDS.indexOf(o.constructor as TypedArrayConstructor);
    if (kind < 0) writeFields(o as unknown as Record<string, unknown>, true);
    else writeTyped(kind, new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
  } else if (o instanceof ArrayBuffer) writeTyped(KIND_ARRAY_BUFFER, new Uint8Array(o));
  else if (o instanceof RegExp) {
    writeTag(TAG_REGEXP);
    writeString(o.source);
    writeString(o.flags);
  } else if (o instanceof Error) {
    writeTag(TAG_ERROR);
    writeString(o.name);
    writeString(o.message);
    writeValue(o.stack);
  } else writeFields(o as Record<string, unknown>, true);
}

function writeTyped(kind: number, bytes: Uint8Array): void {
  writeTag(TAG_TYPED);
  writeTag(kind);
  writeRaw(bytes);
}

function writeArray(a: unknown[]): void {
  const n = a.length;
  writeTag(TAG_ARRAY);
  writeVaruint(n);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (v === undefined && !(i in a)) writeTag(TAG_HOLE);
    else writeValue(v);
  }
}

/**
 * An object's own enumerable string-keyed fields, as a shape of this buffer. The values are
 * written while the keys walk the trie (one pass); the shape's tag goes in front afterwards.
 * `checkOwn` for objects other than plain ones, whose prototypes may have enumerable fields.
 */
function writeFields(o: Record<string, unknown>, checkOwn: boolean): void {
  ensure(1);
  const start = pos++;
  const definedFrom = definedNow.length;
  const count = shapeCount;
  const stringMark = stringList.length;
  let node = shapeRoot;
  for (const k in o) {
    if (checkOwn && !hasOwn.call(o, k)) continue;
    node = node.lastKey === k ? (node.lastChild as ShapeNode) : childOf(node, k);
    if (node.depth > MAX_SHAPE_KEYS) {
      rollBack(start, definedFrom, count, stringMark);
      writeDictionary(o);
      return;
    }
    writeValue(o[k]);
  }
  // Ids count definitions in the order they complete (an object's after its fields'), so a
  // reference must name a shape defined before this object began: the reader knows no other.
  const known = node.epochs[slot] === epoch ? (node.ids[slot] as number) : count;
  if (known < count) {
    const id = known;
    if (id < FIXSHAPES) out[start] = TAG_FIXSHAPE | id;
    else {
      let n = 1;
      for (let v = id; v >= 0x80; v >>>= 7) n++;
      const head = new Uint8Array(1 + n);
      head[0] = TAG_SHAPE_REF;
      for (let i = 1, v = id; i <= n; i++, v >>>= 7) head[i] = i < n ? (v & 0x7f) | 0x80 : v;
      insertHead(start, head);
    }
    return;
  }
  const id = shapeCount++;
  node.epochs[slot] = epoch;
  node.ids[slot] = id;
  definedNow.push(node);
  insertHead(start, node.definition ?? definitionOf(node));
}

/** Replaces the byte reserved at `start` by `head`, moving what follows. */
function insertHead(start: number, head: Uint8Array): void {
  const extra = head.length - 1;
  ensure(extra);
  out.copyWithin(start + head.length, start + 1, pos);
  out.set(head, start);
  pos += extra;
}

/** The keys on the path to `node`, in order. */
export function shapeKeys(node: ShapeNode): string[] {
  const keys: string[] = [];
  for (let n: ShapeNode | null = node; n !== null && n.parent !== null; n = n.parent) keys.push(n.key);
  return keys.reverse();
}

/**
 * The shape of an object's enumerable string-keyed fields (own ones only with `checkOwn`), found
 * as writeFields finds it; null when it has more than MAX_SHAPE_KEYS, which the codec writes as a
 * dictionary.
 */
export function fieldShape(o: object, checkOwn: boolean): ShapeNode | null {
  checkShapeTrie();
  let node = shapeRoot;
  for (const k in o) {
    if (checkOwn && !hasOwn.call(o, k)) continue;
    node = node.lastKey === k ? (node.lastChild as ShapeNode) : childOf(node, k);
    if (node.depth > MAX_SHAPE_KEYS) return null;
  }
  return node;
}

function definitionOf(node: ShapeNode): Uint8Array {
  const keys = shapeKeys(node);
  // Written in an arena of its own; the current one's state is kept aside.
  const saved = { out, outView, pos };
  out = new Uint8Array(64);
  outView = new DataView(out.buffer);
  pos = 0;
  writeTag(TAG_SHAPE_DEF);
  writeVaruint(keys.length);
  for (const k of keys) writeStringBytes(k);
  const def = out.slice(0, pos);
  ({ out, outView, pos } = saved);
  return (node.definition = def);
}

function writeDictionary(o: Record<string, unknown>): void {
  const keys = Object.keys(o);
  writeTag(TAG_OBJECT);
  writeVaruint(keys.length);
  for (const k of keys) {
    writeString(k);
    writeValue(o[k]);
  }
}

const slotsOfDropped = new FinalizationRegistry<number>((slot) => freeSlots.push(slot));

/**
 * Serializes records one at a time into a network buffer (Flink's RecordSerializer writing into
 * a BufferBuilder). finish() hands out the buffer, in its own ArrayBuffer (it may be transferred
 * to another thread), and starts the next one in the same arena.
 */
export class RecordSerializer {
  private readonly arena: Arena;
  private count = 0;
  /** Records of one flat shape of numbers (or arrays of them) go in columns (record-columns.ts) until one does not fit. */
  private readonly columns: ColumnWriter;

  /**
   * `bufferSize`: the size at which the owner finishes buffers, so the arena grows to just that.
   * `adaptive`: after a buffer fell back from columns to rows, the next ones start as rows.
   */
  constructor(initialCapacity = 1024, bufferSize = 0, adaptive = true) {
    this.arena = new Arena(Math.max(64, initialCapacity));
    this.arena.sizeHint = bufferSize;
    this.columns = new ColumnWriter(bufferSize || initialCapacity, adaptive);
    // A serializer dropped without dispose() still gives its slot back.
    slotsOfDropped.register(this, this.arena.slot, this);
    this.start();
  }

  /** Records in the current buffer. */
  get numRecords(): number {
    return this.count;
  }

  /** Bytes of the current buffer so far, header included. */
  get size(): number {
    if (this.columns.active) return this.columns.size;
    return active === this.arena ? pos : this.arena.pos;
  }

  /** Appends a record; a record that cannot be serialized leaves the buffer as it was. */
  add(value: unknown, timestamp: number | undefined): void {
    if (this.columns.active) {
      if (this.columns.add(value, timestamp)) {
        this.count++;
        return;
      }
      // The buffer goes to rows: its records are written again from the columns.
      this.columns.fallBack((v, t) => this.addRow(v, t));
    }
    this.addRow(value, timestamp);
    this.count++;
  }

  private addRow(value: unknown, timestamp: number | undefined): void {
    activate(this.arena);
    const start = pos;
    const count = shapeCount;
    const stringMark = stringList.length;
    if (definedNow.length > 0) definedNow.length = 0;
    try {
      if (timestamp !== undefined) writeFloat64(TAG_TIMESTAMP, timestamp);
      writeValue(value);
    } catch (e) {
      rollBack(start, 0, count, stringMark);
      throw e;
    }
  }

  /** The buffer of the records added since the last finish(), or null when there were none. */
  finish(): Uint8Array | null {
    if (this.count === 0) return null;
    if (this.columns.active) {
      const buffer = this.columns.finish();
      this.start();
      return buffer;
    }
    const a = this.arena;
    release(a);
    a.view.setUint32(1, this.count, true);
    // new + set: a copy at memcpy speed (slice() takes a slower path).
    const buffer = new Uint8Array(a.pos);
    buffer.set(a.bytes.subarray(0, a.pos));
    this.start();
    return buffer;
  }

  /** Drops the records of the current buffer. */
  clear(): void {
    this.start();
  }

  /** Gives the serializer's slot in the shape trie back; the serializer must not be used afterwards. */
  dispose(): void {
    release(this.arena);
    slotsOfDropped.unregister(this);
    this.arena.dispose();
  }

  private start(): void {
    checkShapeTrie();
    const a = this.arena;
    release(a);
    a.newEpoch();
    a.bytes[0] = FORMAT_RECORDS;
    a.pos = HEADER_BYTES;
    this.count = 0;
    this.columns.nextBuffer();
  }
}

// ---------------------------------------------------------------------------------------------
// Reading. The state of the buffer being decoded lives in module variables: the hot functions
// take no arguments and allocate nothing but the values they return.

type ShapeFactory = (read: () => unknown) => Record<string, unknown>;

let src: Uint8Array = new Uint8Array(0);
let srcView: DataView = new DataView(src.buffer);
let at = 0;
let end = 0;
/** Shapes defined so far in the buffer being decoded. */
const shapes: ShapeFactory[] = [];
let numShapes = 0;
/** The string table of the buffer being decoded. */
const stringTable: string[] = [];
const factories = new Map<string, ShapeFactory>();
const units: number[] = [];

function begin(bytes: Uint8Array, offset: number): void {
  src = bytes;
  srcView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  at = offset;
  end = bytes.length;
  numShapes = 0;
  stringTable.length = 0;
}

/** Drops references to the buffer just decoded. */
function done(): void {
  src = EMPTY;
  for (let i = 0; i < numShapes; i++) shapes[i] = undefined as unknown as ShapeFactory;
  numShapes = 0;
  stringTable.length = 0;
}
const EMPTY = new Uint8Array(0);

function truncated(): never {
  throw new Error('truncated value');
}

function readVaruint(): number {
  let v = 0;
  let shift = 0;
  for (;;) {
    if (at >= end) truncated();
    const b = src[at++]!;
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return v;
    shift += 7;
    if (shift > 35) throw new Error('malformed length');
  }
}

// Reads past the end see undefined (an unknown tag) or NaN bytes; decodeRecords then finds the
// position beyond the end and fails. No bounds check per value.
function readValue(): unknown {
  const t = src[at++]!;
  if (t < 0x80) return t;
  if (t >= TAG_FIXSHAPE) return readShaped(t - TAG_FIXSHAPE);
  if (t >= TAG_FIXSTR) return readString(t - TAG_FIXSTR);
  switch (t) {
    case TAG_UNDEFINED:
      return undefined;
    case TAG_NULL:
      return null;
    case TAG_FALSE:
      return false;
    case TAG_TRUE:
      return true;
    case TAG_INT8:
      return (src[at++]! << 24) >> 24;
    case TAG_INT16:
      return readInt16();
    case TAG_INT32:
      return readInt32();
    case TAG_FLOAT64:
      return readFloat64();
    case TAG_STRING:
      return readString(readVaruint());
    case TAG_STRING_WTF8:
      return readWtf8(readVaruint());
    case TAG_ARRAY:
      return readArray();
    case TAG_STRING_REF: {
      const id = readVaruint();
      if (id >= stringTable.length) throw new Error(`string ${id} is not defined in this buffer`);
      return stringTable[id];
    }
    case TAG_STRING_DEF: {
      const s = readStringValue();
      stringTable.push(s);
      return s;
    }
    case TAG_SHAPE_DEF:
      return readShapeDefinition();
    case TAG_SHAPE_REF:
      return readShaped(readVaruint());
    case TAG_OBJECT:
      return readDictionary();
    case TAG_DATE:
      return new Date(readFloat64());
    case TAG_BIGINT:
      return readBigint();
    case TAG_MAP: {
      const n = readVaruint();
      const m = new Map<unknown, unknown>();
      for (let i = 0; i < n; i++) {
        const k = readValue();
        m.set(k, readValue());
      }
      return m;
    }
    case TAG_SET: {
      const n = readVaruint();
      const s = new Set<unknown>();
      for (let i = 0; i < n; i++) s.add(readValue());
      return s;
    }
    case TAG_TYPED:
      return readTyped();
    case TAG_REGEXP: {
      const source = readStringValue();
      return new RegExp(source, readStringValue());
    }
    case TAG_ERROR: {
      const name = readStringValue();
      const message = readStringValue();
      const stack = readValue();
      return reviveError(name, message, stack);
    }
    default:
      throw new Error(`unknown value tag 0x${t.toString(16)} at byte ${at - 1}`);
  }
}

/** An Error as it arrives: its class by name (Error when unknown), message and stack. */
export function reviveError(name: string, message: string, stack: unknown): Error {
  const e = new (ERROR_TYPES[name] ?? Error)(message);
  if (e.name !== name) e.name = name;
  if (typeof stack === 'string') e.stack = stack;
  else delete e.stack;
  return e;
}

function readFloat64(): number {
  if (at + 8 > end) truncated();
  const v = srcView.getFloat64(at, true);
  at += 8;
  return v;
}

function readStringValue(): string {
  const v = readValue();
  if (typeof v !== 'string') throw new Error(`expected a string at byte ${at}`);
  return v;
}

function readString(len: number): string {
  const start = at;
  const stop = start + len;
  if (stop > end) truncated();
  if (len >= NATIVE_DECODE_BYTES) {
    at = stop;
    return utf8Decoder.decode(src.subarray(start, stop));
  }
  return readWtf8(len);
}

/** UTF-8 or WTF-8 (lone surrogates come back as they were). */
function readWtf8(len: number): string {
  const stop = at + len;
  if (stop > end) truncated();
  const b = src;
  let n = 0;
  let p = at;
  while (p < stop) {
    const c = b[p++]!;
    if (c < 0x80) units[n++] = c;
    else if (c < 0xe0) units[n++] = ((c & 0x1f) << 6) | (b[p++]! & 0x3f);
    else if (c < 0xf0) {
      units[n++] = ((c & 0x0f) << 12) | ((b[p]! & 0x3f) << 6) | (b[p + 1]! & 0x3f);
      p += 2;
    } else {
      const cp =
        (((c & 0x07) << 18) | ((b[p]! & 0x3f) << 12) | ((b[p + 1]! & 0x3f) << 6) | (b[p + 2]! & 0x3f)) - 0x10000;
      p += 3;
      units[n++] = 0xd800 + (cp >> 10);
      units[n++] = 0xdc00 + (cp & 0x3ff);
    }
    // Long WTF-8 strings: flush in chunks so the argument list stays small.
    if (n >= 4096) {
      const head = String.fromCharCode.apply(null, units.slice(0, n));
      at = p;
      return head + readWtf8(stop - p);
    }
  }
  at = stop;
  if (n === 0) return '';
  if (units.length !== n) units.length = n;
  return String.fromCharCode.apply(null, units);
}

function readArray(): unknown[] {
  const n = readVaruint();
  if (n > end - at) truncated();
  const a = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    if (src[at] === TAG_HOLE) at++;
    else a[i] = readValue();
  }
  return a;
}

function readShapeDefinition(): Record<string, unknown> {
  const n = readVaruint();
  if (n > end - at) truncated();
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) keys[i] = readStringValue();
  const id = JSON.stringify(keys);
  let f = factories.get(id);
  if (f === undefined) {
    if (factories.size >= MAX_SHAPE_FACTORIES) factories.clear();
    f = compileShape(keys);
    factories.set(id, f);
  }
  // Numbered once its fields are read, as the writer numbers it (see writeFields).
  const o = f(readField);
  shapes[numShapes++] = f;
  return o;
}

function readShaped(id: number): Record<string, unknown> {
  if (id >= numShapes) throw new Error(`shape ${id} is not defined in this buffer`);
  return shapes[id]!(readField);
}

/**
 * A field of a shaped object: readValue, with the numbers most fields hold read here. Small enough
 * for V8 to inline into the shape's constructor, which it does not do with readValue (see the
 * exchange-loops benchmark).
 */
function readField(): unknown {
  const t = src[at]!;
  if (t < 0x80) {
    at++;
    return t;
  }
  if (t === TAG_INT32) {
    at++;
    return readInt32();
  }
  if (t === TAG_INT16) {
    at++;
    return readInt16();
  }
  if (t === TAG_FLOAT64) {
    at++;
    return readFloat64();
  }
  return readValue();
}

function readInt16(): number {
  const v = ((src[at]! | (src[at + 1]! << 8)) << 16) >> 16;
  at += 2;
  return v;
}

function readInt32(): number {
  const v = src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24);
  at += 4;
  return v;
}

/** A constructor of objects with these keys, as an object literal: one hidden class per shape. */
function compileShape(keys: string[]): ShapeFactory {
  if (keys.includes('__proto__')) {
    return (read) => {
      const o: Record<string, unknown> = {};
      for (const k of keys) defineField(o, k, read());
      return o;
    };
  }
  return new Function(
    'r',
    literalOf(keys, () => 'r()'),
  ) as ShapeFactory;
}

/** `return {...}` of these keys, each value the source text `value(key literal)`. */
function literalOf(keys: string[], value: (key: string) => string): string {
  return `return { ${keys.map((k) => `${JSON.stringify(k)}: ${value(JSON.stringify(k))}`).join(', ')} };`;
}

/** Sets a field even when it is named __proto__, which an assignment or a literal takes as the prototype. */
export function defineField(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/**
 * A copier of objects with these keys, as the same literal as compileShape's: a copy has the
 * hidden class of a decoded record, so an operator fed by both a local and a remote channel sees
 * one class, not two.
 */
export function compileCopier(keys: string[]): FieldCopier {
  if (keys.includes('__proto__')) {
    return (o, copy) => {
      const c: Record<string, unknown> = {};
      for (const k of keys) defineField(c, k, copy(o[k]));
      return c;
    };
  }
  return new Function(
    'o',
    'c',
    literalOf(keys, (k) => `c(o[${k}])`),
  ) as FieldCopier;
}

function readDictionary(): Record<string, unknown> {
  const n = readVaruint();
  const o: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const k = readStringValue();
    defineField(o, k, readValue());
  }
  return o;
}

function readBigint(): bigint {
  if (at >= end) truncated();
  const negative = src[at++] === 1;
  const len = readVaruint();
  if (len % 8 !== 0 || at + len > end) throw new Error('malformed bigint');
  let v = 0n;
  for (let i = len - 8; i >= 0; i -= 8) v = (v << 64n) | srcView.getBigUint64(at + i, true);
  at += len;
  return negative ? -v : v;
}

function readTyped(): unknown {
  if (at >= end) truncated();
  const kind = src[at++]!;
  const len = readVaruint();
  if (at + len > end) truncated();
  // A copy: the value must not keep the network buffer alive, and typed arrays need alignment.
  const copy = src.slice(at, at + len);
  at += len;
  if (kind === KIND_BUFFER) return Buffer.from(copy.buffer, 0, len);
  if (kind === KIND_ARRAY_BUFFER) return copy.buffer;
  const T = TYPED_KINDS[kind];
  if (T === undefined) throw new Error(`unknown typed array kind ${kind}`);
  if (len % T.BYTES_PER_ELEMENT !== 0) throw new Error(`malformed ${T.name}`);
  return kind === 0 ? copy : new T(copy.buffer, 0, len / T.BYTES_PER_ELEMENT);
}

// ---------------------------------------------------------------------------------------------

export interface DecodedRecords {
  values: unknown[];
  /** null when no record in the buffer had a timestamp. */
  timestamps: (number | undefined)[] | null;
}

// Each call's records alone decide their buffer's format.
const shared = new RecordSerializer(64 * 1024, 0, false);

/** Serializes records into one buffer (RecordSerializer does the same a record at a time). */
export function encodeRecords(values: unknown[], timestamps: (number | undefined)[] | null): Uint8Array {
  const n = values.length;
  if (timestamps !== null && timestamps.length !== n)
    throw new Error(`encodeRecords: ${n} values but ${timestamps.length} timestamps`);
  try {
    for (let i = 0; i < n; i++) shared.add(values[i], timestamps === null ? undefined : timestamps[i]);
  } catch (e) {
    shared.clear();
    throw e;
  }
  return shared.finish() ?? emptyBuffer();
}

function emptyBuffer(): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  out[0] = FORMAT_RECORDS;
  return out;
}

export function decodeRecords(bytes: Uint8Array): DecodedRecords {
  if (bytes.length === 0) throw new Error('decodeRecords: empty buffer');
  const format = bytes[0]!;
  if (format === FORMAT_COLUMNS) {
    try {
      return decodeColumns(bytes);
    } catch (e) {
      throw new Error(`decodeRecords: ${(e as Error).message}`, { cause: e });
    }
  }
  if (format !== FORMAT_RECORDS) throw new Error(`decodeRecords: unknown buffer format 0x${format.toString(16)}`);
  if (bytes.length < HEADER_BYTES) throw new Error('decodeRecords: truncated buffer header');
  begin(bytes, HEADER_BYTES);
  try {
    const n = srcView.getUint32(1, true);
    if (n > end - at) throw new Error(`decodeRecords: ${n} records cannot fit in ${end} bytes`);
    const values = new Array<unknown>(n);
    let timestamps: (number | undefined)[] | null = null;
    for (let i = 0; i < n; i++) {
      if (src[at] === TAG_TIMESTAMP) {
        at++;
        if (timestamps === null) timestamps = new Array<number | undefined>(n).fill(undefined);
        timestamps[i] = readFloat64();
      }
      values[i] = readValue();
    }
    if (at > end) truncated();
    if (at !== end) throw new Error(`decodeRecords: ${end - at} bytes left after ${n} records`);
    return { values, timestamps };
  } catch (e) {
    throw new Error(`decodeRecords: ${(e as Error).message.replace(/^decodeRecords: /, '')}`, { cause: e });
  } finally {
    done();
  }
}

const eventArena = new Arena(256);

/** Events are small and rare compared to records: one value each. */
export function encodeEvent(event: unknown): Uint8Array {
  checkShapeTrie();
  const a = eventArena;
  a.newEpoch();
  a.bytes[0] = FORMAT_EVENT;
  a.pos = 1;
  activate(a);
  try {
    writeValue(event);
  } finally {
    if (definedNow.length > 0) definedNow.length = 0;
    release(a);
  }
  return a.bytes.slice(0, a.pos);
}

export function decodeEvent<E = unknown>(bytes: Uint8Array): E {
  if (bytes.length === 0 || bytes[0] !== FORMAT_EVENT)
    throw new Error(`decodeEvent: not an event (format 0x${(bytes[0] ?? 0).toString(16)})`);
  begin(bytes, 1);
  try {
    const v = readValue();
    if (at > end) truncated();
    if (at !== end) throw new Error(`decodeEvent: ${end - at} bytes left after the event`);
    return v as E;
  } finally {
    done();
  }
}
