// Buffers of records of one flat shape of numbers (objects, or arrays of one length) go as columns
// (common/record-columns.ts): every number as it was, the fall back to rows when a record does not
// fit, and malformed column buffers refused.
import { describe, expect, it } from 'vitest';
import { decodeRecords, encodeRecords, RecordSerializer } from '../../common/serialization.js';
import { mulberry32 } from '../reference/random.js';

const FORMAT_ROWS = 0x04;
const FORMAT_COLUMNS = 0x05;

/** Numbers of every kind a column must keep: int32 edges, -0, NaN, infinities, fractions, beyond int32. */
function randomNumber(rnd: () => number): number {
  const r = rnd();
  if (r < 0.5) return Math.floor(rnd() * 20_000) - 10_000;
  if (r < 0.6)
    return [0, -0, NaN, Infinity, -Infinity, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1][Math.floor(rnd() * 9)]!;
  if (r < 0.8) return (rnd() - 0.5) * 1e6;
  return Math.floor(rnd() * 2 ** 53) * (rnd() < 0.5 ? -1 : 1);
}

/** Field by field with Object.is (-0 and NaN included), keys in order. */
function expectSame(actual: unknown[], expected: unknown[]): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as Record<string, unknown>;
    const e = expected[i] as Record<string, unknown>;
    expect(Object.keys(a), `record ${i}`).toEqual(Object.keys(e));
    for (const k of Object.keys(e))
      expect(Object.is(a[k], e[k]), `record ${i} field ${k}: ${a[k]} vs ${e[k]}`).toBe(true);
  }
}

describe('column buffers', () => {
  it('carry records of one numeric shape exactly, with and without timestamps (fixed seed)', () => {
    const rnd = mulberry32(11);
    for (let b = 0; b < 60; b++) {
      const keys = ['key', 'value', 'price', 'at', '0', 'x y'].slice(0, 1 + (b % 6));
      const n = 1 + Math.floor(rnd() * 2000);
      // Some columns hold only int32 values, others widen to float64 at a random record.
      const values = Array.from({ length: n }, () => {
        const o: Record<string, number> = {};
        keys.forEach((k, j) => (o[k] = j % 2 === 0 && b % 3 !== 0 ? Math.floor(rnd() * 1000) : randomNumber(rnd)));
        return o;
      });
      const timestamps = b % 2 === 0 ? null : values.map(() => 1_700_000_000_000 + Math.floor(rnd() * 1e6) + 0.25);
      const bytes = encodeRecords(values, timestamps);
      expect(bytes[0], `buffer ${b}`).toBe(FORMAT_COLUMNS);
      const decoded = decodeRecords(bytes);
      expectSame(decoded.values, values);
      expect(decoded.timestamps).toStrictEqual(timestamps);
    }
  });

  it('grow past the size they were made for, widening a column on the way', () => {
    const rnd = mulberry32(5);
    const values = Array.from({ length: 40_000 }, (_, i) => ({ key: i, value: i < 30_000 ? i : randomNumber(rnd) }));
    const timestamps = values.map((_, i) => i * 0.5);
    const bytes = encodeRecords(values, timestamps);
    expect(bytes[0]).toBe(FORMAT_COLUMNS);
    const decoded = decodeRecords(bytes);
    expectSame(decoded.values, values);
    expect(decoded.timestamps).toStrictEqual(timestamps);
  });

  it('reuse their columns from buffer to buffer, whatever an earlier buffer grew or widened them to', () => {
    const rnd = mulberry32(3);
    const s = new RecordSerializer(1024, 4096);
    for (let b = 0; b < 12; b++) {
      // Tiny int8 records (the columns grow past their first size), wide floats, one or two fields.
      const n = b % 3 === 0 ? 9000 : 1 + Math.floor(rnd() * 1500);
      const values = Array.from({ length: n }, (_, i) =>
        b % 2 === 0 ? { a: i % 100 } : { a: randomNumber(rnd), b: i },
      );
      const timestamps = b % 4 === 1 ? values.map((_, i) => i + 0.5) : null;
      values.forEach((v, i) => s.add(v, timestamps?.[i]));
      const bytes = s.finish()!;
      expect(bytes[0], `buffer ${b}`).toBe(FORMAT_COLUMNS);
      const decoded = decodeRecords(bytes);
      expectSame(decoded.values, values);
      expect(decoded.timestamps).toStrictEqual(timestamps);
    }
    s.dispose();
  });

  it('narrow int32 columns to one or two bytes per value where their values allow, at every edge', () => {
    const s = new RecordSerializer(1024, 32 * 1024);
    for (let i = 0; i < 3000; i++) s.add({ key: i % 100, value: i * 7 }, undefined);
    const size = s.size;
    const bytes = s.finish()!;
    expect(bytes[0]).toBe(FORMAT_COLUMNS);
    // An int8 and an int16 column: 3 bytes a record, less than rows (1 + 3) and the estimate.
    expect(bytes.length).toBeLessThanOrEqual(3000 * 3 + 32);
    // The size the owner compares with the segment size: at most each column's padding over.
    expect(size).toBeGreaterThanOrEqual(bytes.length);
    expect(size - bytes.length).toBeLessThanOrEqual(8 * 3);
    const edges = [-129, -128, 127, 128, -32769, -32768, 32767, 32768, 0, -1, 2 ** 31 - 1, -(2 ** 31)];
    for (const lo of edges)
      for (const hi of edges) {
        const values = [{ v: lo }, { v: hi }, { v: 0 }];
        const decoded = decodeRecords(encodeRecords(values, null));
        expectSame(decoded.values, values);
      }
    s.dispose();
  });

  it('are tried by encodeRecords in every call, whatever the call before fell back to', () => {
    expect(encodeRecords([{ a: 1 }, { a: 'x' }], null)[0]).not.toBe(FORMAT_COLUMNS);
    expect(encodeRecords([{ a: 1 }, { a: 2 }], null)[0]).toBe(FORMAT_COLUMNS);
  });

  it('fall back to rows when a record does not fit, keeping every record, and retry columns later', () => {
    const misfits: unknown[] = [
      { key: 1, value: 'text' },
      { key: 1 },
      { key: 1, value: 2, extra: 3 },
      { value: 2, key: 1 },
      { key: 1, value: { nested: 2 } },
      { key: 1, value: 2n },
      [1, 2],
      7,
      new (class Point {
        key = 1;
        value = 2;
      })(),
    ];
    for (const misfit of misfits) {
      const s = new RecordSerializer(1024, 1 << 20);
      const values: unknown[] = [];
      for (let i = 0; i < 500; i++) values.push({ key: i, value: i === 250 ? -0 : i / 4 });
      values.push(misfit);
      for (let i = 0; i < 10; i++) values.push({ key: i, value: i });
      for (const v of values) s.add(v, undefined);
      const bytes = s.finish()!;
      expect(bytes[0], JSON.stringify(String(misfit))).toBe(FORMAT_ROWS);
      // A class instance travels as a plain object of its fields.
      const expected = values.map((v) => (v === misfit && typeof v === 'object' && !Array.isArray(v) ? { ...v } : v));
      expect(decodeRecords(bytes).values).toStrictEqual(expected);
      // The next buffers start as rows, then columns are tried again.
      const formats: number[] = [];
      for (let b = 0; b < 10; b++) {
        s.add({ key: b, value: b }, undefined);
        formats.push(s.finish()![0]!);
      }
      expect(formats).toEqual([...Array(8).fill(FORMAT_ROWS), FORMAT_COLUMNS, FORMAT_COLUMNS]);
      s.dispose();
    }
  });

  it('go to rows when only some records have timestamps', () => {
    const values = [
      { key: 1, value: 2 },
      { key: 3, value: 4 },
    ];
    const bytes = encodeRecords(values, [5, undefined]);
    expect(bytes[0]).toBe(FORMAT_ROWS);
    expect(decodeRecords(bytes)).toStrictEqual({ values, timestamps: [5, undefined] });
  });

  it('leave records rows cannot do without: __proto__ and lone surrogates as keys, no prototype', () => {
    const proto = JSON.parse('{"__proto__": 1, "b": 2}') as unknown;
    const lone = { ['a\ud800']: 1 };
    const bare = Object.assign(Object.create(null) as object, { key: 1 });
    for (const v of [proto, lone, bare]) {
      const bytes = encodeRecords([v, v], null);
      expect(bytes[0]).toBe(FORMAT_ROWS);
      const out = decodeRecords(bytes).values;
      expect(Object.keys(out[0] as object)).toEqual(Object.keys(v as object));
    }
  });

  it('take any other key, however it must be quoted, and keep a different key order out', () => {
    // Records are written and read by code compiled per shape, with the keys in its source text.
    const keys = ['a"b', 'back\\slash', 'new\nline', '${x}', '`', '\u2028', 'accentué', '10', '2', 'constructor2'];
    const values = Array.from({ length: 50 }, (_, i) => Object.fromEntries(keys.map((k, j) => [k, i * 10 + j])));
    const bytes = encodeRecords(values, null);
    expect(bytes[0]).toBe(FORMAT_COLUMNS);
    expectSame(decodeRecords(bytes).values, values);
    // The same keys in another order are another shape: that buffer goes to rows, the order kept.
    const reordered = [
      values[0],
      Object.fromEntries(
        keys
          .slice()
          .reverse()
          .map((k) => [k, 1]),
      ),
    ];
    const mixed = encodeRecords(reordered, null);
    expect(mixed[0]).toBe(FORMAT_ROWS);
    expectSame(decodeRecords(mixed).values, reordered as unknown[]);
  });

  it('decode at any byte offset (a buffer inside a larger message)', () => {
    const values = Array.from({ length: 100 }, (_, i) => ({ key: i, value: i + 0.5 }));
    const bytes = encodeRecords(
      values,
      values.map((_, i) => i),
    );
    for (let offset = 0; offset < 9; offset++) {
      const host = new Uint8Array(bytes.length + offset);
      host.set(bytes, offset);
      expectSame(decodeRecords(host.subarray(offset)).values, values);
      // A Buffer, as gRPC hands them over: its slice() is a view, not a copy.
      const buffer = Buffer.concat([Buffer.alloc(offset), bytes]).subarray(offset);
      expectSame(decodeRecords(buffer).values, values);
    }
  });

  it('carry arrays of numbers of one length, such as [key, accumulator] partials, exactly (fixed seed)', () => {
    const rnd = mulberry32(23);
    for (let b = 0; b < 40; b++) {
      const length = 1 + (b % 5);
      const n = 1 + Math.floor(rnd() * 2000);
      const values = Array.from({ length: n }, () =>
        Array.from({ length }, (_, j) => (j === 0 ? Math.floor(rnd() * 50_000) : randomNumber(rnd))),
      );
      const timestamps = b % 2 === 0 ? null : values.map(() => 1_700_000_000_000 + Math.floor(rnd() * 1e6));
      const bytes = encodeRecords(values, timestamps);
      expect(bytes[0], `buffer ${b}`).toBe(FORMAT_COLUMNS);
      // The length, the kinds and no key names: a few bytes of header.
      expect(bytes.length).toBeLessThanOrEqual(16 + (timestamps ? 8 * n : 0) + length * (8 * n + 8));
      const decoded = decodeRecords(bytes);
      expect(decoded.timestamps).toStrictEqual(timestamps);
      expect(decoded.values).toHaveLength(n);
      for (let i = 0; i < n; i++) {
        const got = decoded.values[i] as number[];
        expect(Array.isArray(got)).toBe(true);
        expect(got).toHaveLength(length);
        for (let j = 0; j < length; j++)
          expect(Object.is(got[j], values[i]![j]), `record ${i} index ${j}: ${got[j]} vs ${values[i]![j]}`).toBe(true);
      }
    }
  });

  it('fall back to rows for an array that does not fit, keeping holes, strings and lengths', () => {
    class Pair extends Array<number> {}
    const misfits: unknown[] = [
      [1, 'x'],
      [1],
      [1, 2, 3],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3].slice(0, 2),
      [1, [2]],
      [1, 2n],
      { 0: 1, 1: 2 },
      Pair.from([1, 2]),
      [],
    ];
    for (const misfit of misfits) {
      const values: unknown[] = [];
      for (let i = 0; i < 300; i++) values.push([i, i === 150 ? -0 : i / 8]);
      values.push(misfit);
      values.push([7, 8]);
      const bytes = encodeRecords(values, null);
      expect(bytes[0], String(misfit)).toBe(FORMAT_ROWS);
      const decoded = decodeRecords(bytes).values;
      // Rows give plain arrays (a subclass's instance too), holes kept.
      const expected = values.map((v) => (v instanceof Pair ? [...v] : v));
      expect(decoded).toStrictEqual(expected);
      expect(Object.is((decoded[150] as number[])[1], -0)).toBe(true);
    }
    // A buffer that starts with objects takes no array, and the other way round.
    expect(encodeRecords([{ a: 1 }, [1]], null)[0]).toBe(FORMAT_ROWS);
    expect(encodeRecords([[1], { 0: 1 }], null)[0]).toBe(FORMAT_ROWS);
    // Arrays with a hole at the start, or of more than 32 numbers, are rows from the first.
    // eslint-disable-next-line no-sparse-arrays
    expect(encodeRecords([[, 1]], null)[0]).toBe(FORMAT_ROWS);
    expect(encodeRecords([Array.from({ length: 33 }, (_, i) => i)], null)[0]).toBe(FORMAT_ROWS);
    expect(encodeRecords([Array.from({ length: 32 }, (_, i) => i)], null)[0]).toBe(FORMAT_COLUMNS);
  });

  it('refuse malformed column buffers with a clear error', () => {
    const bytes = encodeRecords(
      Array.from({ length: 10 }, (_, i) => ({ key: i, value: i * 1.5 })),
      null,
    );
    expect(bytes[0]).toBe(FORMAT_COLUMNS);
    for (let cut = 1; cut < bytes.length; cut += 7)
      expect(() => decodeRecords(bytes.subarray(0, bytes.length - cut))).toThrow(
        /decodeRecords: .*(truncated|expected)/,
      );
    expect(() => decodeRecords(Uint8Array.of(...bytes, 0))).toThrow(
      /decodeRecords: column buffer of .* bytes, expected/,
    );
    const badKind = bytes.slice();
    badKind[7 + 1 + 3 + 1 + 5] = 9; // the second column's kind, after the keys "key" and "value"
    expect(() => decodeRecords(badKind)).toThrow(/unknown column kind 9/);
    const badFlags = bytes.slice();
    badFlags[5] = 0x80;
    expect(() => decodeRecords(badFlags)).toThrow(/unknown column buffer flags/);
    // A column named __proto__ (the writer never makes one) would set the records' prototype.
    const proto = encodeRecords([{ __proto_x: 1 }], null);
    proto.set(new TextEncoder().encode('__proto__'), 8);
    expect(() => decodeRecords(proto)).toThrow(/a __proto__ column/);
    // An object buffer flagged as arrays: its key names are read as kinds, and the size disagrees.
    const asArrays = bytes.slice();
    asArrays[5] = 2;
    expect(() => decodeRecords(asArrays)).toThrow(/decodeRecords: .*(unknown column kind|expected)/);
    const noColumns = bytes.slice();
    noColumns[6] = 0;
    expect(() => decodeRecords(noColumns)).toThrow(/with 0 columns/);
  });
});
