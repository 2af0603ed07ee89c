// A network buffer of records that all have one flat shape of numbers ({key: 7, value: 1.5}, or
// arrays of as many numbers each, [7, 1.5]), laid out as columns: a typed array per field. The row
// format (serialization.ts) spends most of its time per record on tags, variable-length integers
// and one call per value; here a field is one typed-array store when written and one load when
// read, and the decoded records are built by a loop compiled once per shape. Every number still
// round-trips exactly: an integer column is as narrow as its values allow (int8, int16, int32),
// float64 once one value is not an int32 or is -0.
//
// A buffer: u8 FORMAT_COLUMNS | u32le record count | u8 flags (1: timestamps, 2: arrays) | u8 key
// count (an array's length) | the keys (varuint byte length, UTF-8; none for arrays) | u8 kind per
// column (0 int32, 1 float64, 2 int16, 3 int8) | zeros up to a multiple of 8 | the timestamps
// (f64le each) when flagged | each column, padded to a multiple of 8 bytes.

export const FORMAT_COLUMNS = 0x05;
const FLAG_TIMESTAMPS = 1;
/** The records are arrays of the column count's length (a window aggregation's [key, accumulator] partials). */
const FLAG_ARRAYS = 2;
const KIND_INT32 = 0;
const KIND_FLOAT64 = 1;
const KIND_INT16 = 2;
const KIND_INT8 = 3;
/** Bytes per value, by kind. */
const WIDTH = [4, 8, 2, 1];
const VIEW = [Int32Array, Float64Array, Int16Array, Int8Array] as const;
/** The integers an integer kind holds (float64 takes any number: its range is not consulted). */
const LOWEST = [-0x80000000, 0, -0x8000, -0x80];
const HIGHEST = [0x7fffffff, 0, 0x7fff, 0x7f];
/** More fields than this go in rows: a wide record gains little from columns. */
const MAX_COLUMNS = 32;
/** After a buffer fell back from columns, this many more start in the owner's other format: mixed streams convert rarely. */
const BUFFERS_AFTER_MISS = 8;

type Column = Int32Array | Float64Array | Int16Array | Int8Array;

const utf8 = new TextEncoder();
/** Keys with surrogates (lone ones would not survive UTF-8) stay in rows, which write WTF-8. */
const SURROGATE = /[\ud800-\udfff]/;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** True for a number an int32 column holds exactly. */
function isInt32(v: number): boolean {
  return (v | 0) === v && (v !== 0 || 1 / v > 0);
}

/**
 * Collects records into columns while they all have the first one's shape. add() returns false,
 * writing nothing, for a record that does not fit; the owner then writes the buffer in its other
 * format (the serializer's rows, a same-thread channel's copies) through fallBack().
 */
export class ColumnWriter {
  /** Whether the owner's buffer is in columns: false from a record that did not fit until a later buffer tries again. */
  active = true;
  private buffersBeforeRetry = 0;
  private keys: string[] | null = null;
  private readonly cols: Column[] = [];
  /** Each column's kind so far: int8, widened to int16 and int32 as values need, float64 for any other number. */
  private readonly kinds: number[] = [];
  private timestamps: Float64Array | null = null;
  private hasTimestamps = false;
  private capacity = 0;
  private recordBytes = 0;
  private headerBytes = 0;
  /** Records collected. */
  n = 0;
  /** Serialized size so far. */
  size = 0;

  /**
   * `segmentSize`: the size at which the owner finishes buffers, so the columns are sized once.
   * `adaptive`: after a buffer fell back, the next ones start in the other format.
   */
  constructor(
    private readonly segmentSize: number,
    private readonly adaptive = true,
  ) {}

  add(value: unknown, timestamp: number | undefined): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if (this.keys === null) return this.first(value, timestamp);
    if ((timestamp !== undefined) !== this.hasTimestamps) return false;
    const n = this.n;
    if (n === this.capacity) this.grow();
    if (!this.adder(value, n, this.cols, this.kinds, this)) return false;
    if (timestamp !== undefined) this.timestamps![n] = timestamp;
    this.n = n + 1;
    this.size += this.recordBytes;
    return true;
  }

  /** Widens integer column `j` if `v` is not an integer it holds (called by the compiled adders). */
  fit(j: number, v: number): void {
    const kind = this.kinds[j]!;
    if (!isInt32(v)) this.widen(j, KIND_FLOAT64);
    else if (v < LOWEST[kind]! || v > HIGHEST[kind]!)
      this.widen(j, v >= -0x8000 && v < 0x8000 ? KIND_INT16 : KIND_INT32);
  }

  /** The first record decides the shape: plain keys and numbers only, or an array of numbers. */
  private first(value: object, timestamp: number | undefined): boolean {
    if (Array.isArray(value)) {
      // Its elements are checked as it is added, as every later array's are.
      const a = value as unknown[];
      if (a.constructor !== Array || a.length === 0 || a.length > MAX_COLUMNS) return false;
      this.arrays = true;
      this.keys = arrayKeys(a.length);
    } else {
      if ((value as { constructor?: unknown }).constructor !== Object) return false;
      const o = value as Record<string, unknown>;
      const keys: string[] = [];
      for (const k in o) {
        if (typeof o[k] !== 'number' || k === '__proto__' || SURROGATE.test(k) || keys.length === MAX_COLUMNS)
          return false;
        keys.push(k);
      }
      if (keys.length === 0) return false;
      // Most buffers of a stream have the shape of the one before: its encoded keys are kept.
      const last = this.lastKeys;
      if (last === null || last.length !== keys.length || keys.some((k, j) => k !== last[j])) {
        this.lastKeys = keys;
        this.keyBytes = keys.map((k) => utf8.encode(k));
      }
      this.arrays = false;
      this.keys = this.lastKeys;
    }
    const keys = this.keys!;
    this.adder = adderOf(keys, this.arrays);
    this.hasTimestamps = timestamp !== undefined;
    const perRecord = 4 * keys.length + (this.hasTimestamps ? 8 : 0);
    this.capacity = Math.max(16, Math.ceil(this.segmentSize / perRecord) + 1);
    // Columns are reused from buffer to buffer (fresh memory costs page faults): finish() copies them out.
    this.cols.length = keys.length;
    this.kinds.length = keys.length;
    for (let j = 0; j < keys.length; j++) {
      this.cols[j] = this.reusable(this.intColumns, j, Int32Array);
      this.kinds[j] = KIND_INT8;
    }
    this.timestamps = this.hasTimestamps ? this.reusable(this.floatColumns, MAX_COLUMNS, Float64Array) : null;
    // Kept columns may have grown for an earlier buffer of narrow records: fill them that far.
    let capacity = this.timestamps?.length ?? Infinity;
    for (const c of this.cols) capacity = Math.min(capacity, c.length);
    this.capacity = capacity;
    this.recordBytes = keys.length + (this.hasTimestamps ? 8 : 0);
    let head = 1 + 4 + 1 + 1 + keys.length;
    if (!this.arrays) for (const b of this.keyBytes) head += b.length + varuintBytes(b.length);
    this.headerBytes = align8(head);
    this.size = this.headerBytes + 8 * (keys.length + 1);
    return this.add(value, timestamp);
  }

  /** Whether the buffer's records are arrays (keys are then their indices, written nowhere). */
  private arrays = false;
  /** Checks a record against the buffer's shape and writes it at an index: compiled per shape. */
  private adder: ColumnsAdder = rejectAll;
  private lastKeys: string[] | null = null;
  private keyBytes: Uint8Array[] = [];
  private readonly intColumns: Int32Array[] = [];
  /** Float64 columns by field index; index MAX_COLUMNS holds the timestamps. */
  private readonly floatColumns: Float64Array[] = [];

  /** The kept array at `j` if it holds `capacity` values, else a new one kept there. */
  private reusable<C extends Column>(kept: C[], j: number, type: { new (n: number): C }): C {
    const c = kept[j];
    if (c !== undefined && c.length >= this.capacity) return c;
    return (kept[j] = new type(this.capacity));
  }

  private grow(): void {
    this.capacity *= 2;
    for (let j = 0; j < this.cols.length; j++) {
      const old = this.cols[j]!;
      const c =
        this.kinds[j] === KIND_FLOAT64
          ? this.reusable(this.floatColumns, j, Float64Array)
          : this.reusable(this.intColumns, j, Int32Array);
      if (c !== old) c.set(old.subarray(0, this.n));
      this.cols[j] = c;
    }
    if (this.timestamps) {
      const old = this.timestamps;
      this.timestamps = this.reusable(this.floatColumns, MAX_COLUMNS, Float64Array);
      if (this.timestamps !== old) this.timestamps.set(old.subarray(0, this.n));
    }
  }

  /** Column `j` needs a wider kind: int16 or int32 (the values stay where they are), or float64. */
  private widen(j: number, kind: number): void {
    const more = WIDTH[kind]! - WIDTH[this.kinds[j]!]!;
    this.kinds[j] = kind;
    this.recordBytes += more;
    this.size += more * this.n;
    if (kind === KIND_FLOAT64) {
      const c = this.reusable(this.floatColumns, j, Float64Array);
      c.set(this.cols[j]!.subarray(0, this.n));
      this.cols[j] = c;
    }
  }

  /**
   * The buffer goes to the owner's other format: `replay` gets each record so far, rebuilt from the
   * columns, and the writer stays inactive until nextBuffer() says to try columns again.
   */
  fallBack(replay: (value: unknown, timestamp: number | undefined) => void): void {
    this.active = false;
    if (this.adaptive) this.buffersBeforeRetry = BUFFERS_AFTER_MISS;
    const keys = this.keys ?? [];
    const ts = this.timestamps;
    for (let i = 0; i < this.n; i++) {
      let record: unknown;
      if (this.arrays) {
        const a: number[] = [];
        for (let j = 0; j < keys.length; j++) a.push(this.cols[j]![i]!);
        record = a;
      } else {
        const o: Record<string, unknown> = {};
        for (let j = 0; j < keys.length; j++) o[keys[j]!] = this.cols[j]![i];
        record = o;
      }
      replay(record, ts === null ? undefined : ts[i]);
    }
    this.reset();
  }

  /** Empties the writer for the owner's next buffer: in columns, unless a recent buffer fell back. */
  nextBuffer(): void {
    this.reset();
    this.active = this.buffersBeforeRetry === 0;
    if (!this.active) this.buffersBeforeRetry--;
  }

  /** The buffer of the records collected, in its own ArrayBuffer; the writer is then empty. */
  finish(): Uint8Array {
    const keys = this.keys!;
    const n = this.n;
    const kinds = this.kinds;
    let size = this.headerBytes + (this.hasTimestamps ? 8 * n : 0);
    for (const k of kinds) size += align8(n * WIDTH[k]!);
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    out[0] = FORMAT_COLUMNS;
    view.setUint32(1, n, true);
    out[5] = (this.hasTimestamps ? FLAG_TIMESTAMPS : 0) | (this.arrays ? FLAG_ARRAYS : 0);
    out[6] = keys.length;
    let p = 7;
    if (!this.arrays)
      for (const bytes of this.keyBytes) {
        for (let len = bytes.length; ; len >>>= 7) {
          if (len < 0x80) {
            out[p++] = len;
            break;
          }
          out[p++] = (len & 0x7f) | 0x80;
        }
        out.set(bytes, p);
        p += bytes.length;
      }
    for (const k of kinds) out[p++] = k;
    p = this.headerBytes;
    // Little-endian typed arrays, as the DataView writes above: every platform Node.js runs on.
    if (this.timestamps) {
      out.set(new Uint8Array(this.timestamps.buffer, 0, 8 * n), p);
      p += 8 * n;
    }
    for (let j = 0; j < kinds.length; j++) {
      const k = kinds[j]!;
      const c = this.cols[j]!;
      if (k === KIND_INT32 || k === KIND_FLOAT64) out.set(new Uint8Array(c.buffer, 0, n * WIDTH[k]!), p);
      else new VIEW[k](out.buffer, p, n).set(c.subarray(0, n));
      p += align8(n * WIDTH[k]!);
    }
    this.reset();
    return out;
  }

  /** Drops what was collected; the next record decides the shape again. */
  reset(): void {
    this.keys = null;
    this.n = 0;
    this.size = 0;
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function varuintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

/**
 * Writes record `value` at index `n` of the columns if it has the shape the adder was compiled
 * for, else returns false (what it may have written at `n` is overwritten by the next record).
 */
type ColumnsAdder = (value: object, n: number, cols: Column[], kinds: number[], writer: ColumnWriter) => boolean;

/** Compiled adders and decoders kept per shape; past this many, a stream of ever new shapes starts them afresh. */
const MAX_SHAPES = 1024;
const rejectAll: ColumnsAdder = () => false;
const adders = new Map<string, ColumnsAdder>();

/**
 * A record's fields are read by name (or index) in code compiled once per shape: a generic loop's
 * keyed loads and stores cost several times what the numbers' writes do. An object's own
 * enumerable keys must still be exactly the shape's, in its order (for-in lists them as the
 * decoder's literal will, integer-like keys first); an array's length and constructor say as much.
 */
function adderOf(keys: string[], arrays: boolean): ColumnsAdder {
  return perShape(adders, keys, arrays, () => {
    const m = keys.length;
    const field = (j: number) => (arrays ? `value[${j}]` : `value[${JSON.stringify(keys[j])}]`);
    const check = arrays
      ? `if (!Array.isArray(value) || value.length !== ${m} || value.constructor !== Array) return false;`
      : `if (value.constructor !== Object) return false;
         let j = 0;
         for (const k in value) { if (j === ${m} || k !== keys[j]) return false; j++; }
         if (j !== ${m}) return false;`;
    const loads = keys.map((_, j) => `const v${j} = ${field(j)}; if (typeof v${j} !== 'number') return false;`);
    const stores = keys.map(
      (_, j) => `if (kinds[${j}] !== ${KIND_FLOAT64}) writer.fit(${j}, v${j}); cols[${j}][n] = v${j};`,
    );
    const body = `return function add(value, n, cols, kinds, writer) { ${check} ${loads.join(' ')} ${stores.join(' ')} return true; };`;
    return new Function('keys', body)(keys) as ColumnsAdder;
  });
}

/** The function compiled for a shape (an object's keys, or an array's length), compiled on first use. */
function perShape<F>(cache: Map<string, F>, keys: string[], arrays: boolean, compile: () => F): F {
  const id = arrays ? String(keys.length) : JSON.stringify(keys);
  let f = cache.get(id);
  if (f === undefined) {
    if (cache.size >= MAX_SHAPES) cache.clear();
    f = compile();
    cache.set(id, f);
  }
  return f;
}

type ColumnsDecoder = (cols: Column[], n: number, out: unknown[]) => void;

const decoders = new Map<string, ColumnsDecoder>();

/**
 * Builds the records as the row decoder's compiled shapes do, with an object literal of the same
 * keys in the same order: the objects get the same hidden class either way. Arrays are built as
 * array literals of their length.
 */
function decoderOf(keys: string[], arrays: boolean): ColumnsDecoder {
  return perShape(decoders, keys, arrays, () => {
    const locals = keys.map((_, j) => `const c${j} = cols[${j}];`).join(' ');
    const record = arrays
      ? `[${keys.map((_, j) => `c${j}[i]`).join(', ')}]`
      : `{ ${keys.map((k, j) => `${JSON.stringify(k)}: c${j}[i]`).join(', ')} }`;
    return new Function(
      'cols',
      'n',
      'out',
      `${locals} for (let i = 0; i < n; i++) out[i] = ${record};`,
    ) as ColumnsDecoder;
  });
}

const arrayKeyLists: string[][] = [];

/** The keys of an array of `length` numbers: its indices. */
function arrayKeys(length: number): string[] {
  return (arrayKeyLists[length] ??= Array.from({ length }, (_, j) => String(j)));
}

/** Decodes a FORMAT_COLUMNS buffer; malformed ones throw. */
export function decodeColumns(input: Uint8Array): { values: unknown[]; timestamps: (number | undefined)[] | null } {
  // Typed-array views need 8-byte alignment; a buffer received over gRPC may sit anywhere.
  // (A copy made by hand: a Node.js Buffer's slice() is a view.)
  let bytes = input;
  if (input.byteOffset % 8 !== 0) {
    bytes = new Uint8Array(input.length);
    bytes.set(input);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = bytes.length;
  if (total < 7) throw new Error('truncated column buffer header');
  const n = view.getUint32(1, true);
  const flags = bytes[5]!;
  if ((flags & ~(FLAG_TIMESTAMPS | FLAG_ARRAYS)) !== 0)
    throw new Error(`unknown column buffer flags 0x${flags.toString(16)}`);
  const numKeys = bytes[6]!;
  if (numKeys === 0 || numKeys > MAX_COLUMNS) throw new Error(`column buffer with ${numKeys} columns`);
  const arrays = (flags & FLAG_ARRAYS) !== 0;
  let p = 7;
  const keys = arrays ? arrayKeys(numKeys) : new Array<string>(numKeys);
  if (!arrays)
    for (let j = 0; j < numKeys; j++) {
      let len = 0;
      for (let shift = 0; ; shift += 7) {
        if (p >= total || shift > 28) throw new Error('truncated column buffer keys');
        const b = bytes[p++]!;
        len |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
      if (p + len > total) throw new Error('truncated column buffer keys');
      const key = utf8Decoder.decode(bytes.subarray(p, p + len));
      // The writer leaves such records in rows; as a literal's key it would set the prototype.
      if (key === '__proto__') throw new Error('column buffer with a __proto__ column');
      keys[j] = key;
      p += len;
    }
  if (p + numKeys > total) throw new Error('truncated column buffer kinds');
  const kinds = bytes.subarray(p, p + numKeys);
  p = align8(p + numKeys);
  let need = p + ((flags & FLAG_TIMESTAMPS) !== 0 ? 8 * n : 0);
  for (const k of kinds) {
    if (k >= WIDTH.length) throw new Error(`unknown column kind ${k}`);
    need += align8(n * WIDTH[k]!);
  }
  if (need !== total)
    throw new Error(`column buffer of ${total} bytes, expected ${need} for ${n} records of ${numKeys} columns`);
  let timestamps: (number | undefined)[] | null = null;
  if ((flags & FLAG_TIMESTAMPS) !== 0) {
    timestamps = Array.from(new Float64Array(bytes.buffer, bytes.byteOffset + p, n));
    p += 8 * n;
  }
  const cols: Column[] = [];
  for (const k of kinds) {
    cols.push(new VIEW[k]!(bytes.buffer as ArrayBuffer, bytes.byteOffset + p, n));
    p += align8(n * WIDTH[k]!);
  }
  const values = new Array<unknown>(n);
  decoderOf(keys, arrays)(cols, n, values);
  return { values, timestamps };
}
