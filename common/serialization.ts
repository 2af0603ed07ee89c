// Network buffer (de)serialization with msgpackr. A buffer holds many records and decodes on its
// own (no structures shared between buffers), so buffers may be decoded in any order, by any
// process. Layout:
//   0x00 | msgpack(values[])                                   records without timestamps
//   0x01 | u32le n | n x f64le timestamp (NaN: none) | msgpack(values[])
// msgpackr's record extension with inline definitions per message measured fastest for small
// objects such as {key, value} (about 2x faster to decode than plain maps, half the bytes).
import { Packr, RESERVE_START_SPACE, Unpackr } from 'msgpackr';

const FORMAT_VALUES = 0x00;
const FORMAT_TIMESTAMPED = 0x01;

// One instance each, reused: a Packr keeps its output arena between calls. No `structures`
// option, so record definitions are written inline in every buffer.
const packr = new Packr({ useRecords: true });
const unpackr = new Unpackr({ useRecords: true });

export interface DecodedRecords {
  values: unknown[];
  /** null when no record in the buffer had a timestamp. */
  timestamps: (number | undefined)[] | null;
}

/**
 * Serializes records into one buffer. `undefined` values (top level or nested) round-trip as
 * `undefined`. A timestamp of NaN decodes as undefined.
 */
export function encodeRecords(values: unknown[], timestamps: (number | undefined)[] | null): Uint8Array {
  if (timestamps === null) {
    // Reserve the format byte inside msgpackr's own output: no copy on the fast path.
    const out = packr.pack(values, RESERVE_START_SPACE | 1);
    out[0] = FORMAT_VALUES;
    return out;
  }
  const n = values.length;
  if (timestamps.length !== n) throw new Error(`encodeRecords: ${n} values but ${timestamps.length} timestamps`);
  const body = packr.pack(values);
  const header = 5 + 8 * n;
  const out = new Uint8Array(header + body.length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = FORMAT_TIMESTAMPED;
  view.setUint32(1, n, true);
  for (let i = 0, off = 5; i < n; i++, off += 8) {
    const t = timestamps[i];
    view.setFloat64(off, t === undefined ? NaN : t, true);
  }
  out.set(body, header);
  return out;
}

export function decodeRecords(bytes: Uint8Array): DecodedRecords {
  if (bytes.length === 0) throw new Error('decodeRecords: empty buffer');
  const format = bytes[0];
  if (format === FORMAT_VALUES) {
    return { values: unpackValues(bytes.subarray(1)), timestamps: null };
  }
  if (format !== FORMAT_TIMESTAMPED) throw new Error(`decodeRecords: unknown buffer format 0x${format.toString(16)}`);
  if (bytes.length < 5) throw new Error('decodeRecords: truncated buffer header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(1, true);
  const header = 5 + 8 * n;
  if (bytes.length < header) throw new Error('decodeRecords: truncated timestamps');
  const timestamps = new Array<number | undefined>(n);
  for (let i = 0, off = 5; i < n; i++, off += 8) {
    const t = view.getFloat64(off, true);
    timestamps[i] = t === t ? t : undefined; // NaN: no timestamp
  }
  const values = unpackValues(bytes.subarray(header));
  if (values.length !== n) throw new Error(`decodeRecords: ${values.length} values but ${n} timestamps`);
  return { values, timestamps };
}

function unpackValues(body: Uint8Array): unknown[] {
  const values = unpackr.unpack(body) as unknown;
  if (!Array.isArray(values)) throw new Error('decodeRecords: buffer does not hold a record list');
  return values;
}

/** Events are small and rare compared to records: one msgpack message each. */
export function encodeEvent(event: unknown): Uint8Array {
  return packr.pack(event);
}

export function decodeEvent<E = unknown>(bytes: Uint8Array): E {
  return unpackr.unpack(bytes) as E;
}
