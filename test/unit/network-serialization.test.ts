import { describe, expect, it, vi } from 'vitest';
import {
  decodeEvent,
  decodeRecords,
  encodeEvent,
  encodeRecords,
  RecordSerializer,
} from '../../common/serialization.js';
import type { NetworkEvent } from '../../taskmanager/network/types.js';
import { mulberry32 } from '../reference/random.js';
import { jsonLike, Point, randomValue } from '../reference/random-values.js';

describe('record serialization', () => {
  it('round-trips randomized values, with and without timestamps, decoded in any order', () => {
    const rnd = mulberry32(42);
    const buffers: { bytes: Uint8Array; values: unknown[]; timestamps: (number | undefined)[] | null }[] = [];
    for (let b = 0; b < 200; b++) {
      const n = 1 + Math.floor(rnd() * 300);
      const values = Array.from({ length: n }, () => randomValue(rnd));
      let timestamps: (number | undefined)[] | null = null;
      if (b % 2 === 1)
        timestamps = values.map(() =>
          rnd() < 0.2 ? undefined : 1_700_000_000_000 + Math.floor(rnd() * 1e6) + (rnd() < 0.1 ? 0.5 : 0),
        );
      buffers.push({ bytes: encodeRecords(values, timestamps), values, timestamps });
    }
    // Reverse order: no buffer may depend on structures defined in an earlier one.
    for (let i = buffers.length - 1; i >= 0; i--) {
      const { bytes, values, timestamps } = buffers[i];
      const decoded = decodeRecords(bytes);
      expect(decoded.values).toStrictEqual(values);
      expect(decoded.timestamps).toStrictEqual(timestamps);
    }
  });

  it('is self-contained: a fresh process decodes a buffer written after many others', async () => {
    for (let i = 0; i < 50; i++) encodeRecords([{ key: i, value: i }, { other: i }], null);
    const bytes = encodeRecords([{ key: 1, value: 2 }, { other: 3 }], null);
    // A fresh module instance has seen no shapes at all.
    vi.resetModules();
    const fresh = await import('../../common/serialization.js');
    expect(fresh.decodeRecords(bytes).values).toStrictEqual([{ key: 1, value: 2 }, { other: 3 }]);
  });

  it('round-trips undefined values and undefined fields', () => {
    const values = [undefined, { key: 1, value: undefined }, [undefined, 1], null];
    const decoded = decodeRecords(encodeRecords(values, null));
    expect(decoded.values).toHaveLength(4);
    expect(decoded.values[0]).toBeUndefined();
    expect(Object.hasOwn(decoded.values[1] as object, 'value')).toBe(true);
    expect(decoded.values).toStrictEqual(values);
  });

  it('keeps small {key, value} records compact', () => {
    const values = Array.from({ length: 1000 }, (_, i) => ({ key: i % 100, value: i * 7 }));
    const bytes = encodeRecords(values, null);
    // Record definitions are written once per buffer, not once per record.
    expect(bytes.length).toBeLessThan(1000 * 10);
  });

  it('rejects malformed buffers with a clear error', () => {
    expect(() => decodeRecords(new Uint8Array(0))).toThrow(/empty buffer/);
    expect(() => decodeRecords(Uint8Array.of(7, 1, 2))).toThrow(/unknown buffer format/);
    const good = encodeRecords([{ key: 'abc', value: [1, 2, 3] }], null);
    expect(() => decodeRecords(good.subarray(0, good.length - 2))).toThrow(/decodeRecords/);
    expect(() => decodeRecords(Uint8Array.of(...good, 0x01))).toThrow(/bytes left/);
    // Number fields of a shape are read without a bounds check each: a cut one still fails.
    for (const value of [300, 100_000, 1.5e12]) {
      const fields = encodeRecords([{ key: 1, value }], null);
      for (let cut = 1; cut <= 8; cut++)
        expect(() => decodeRecords(fields.subarray(0, fields.length - cut)), `${value}, ${cut}`).toThrow(
          /decodeRecords|truncated|not defined|bytes/,
        );
    }
    expect(() => encodeRecords([1, 2], [1])).toThrow(/2 values but 1 timestamps/);
  });

  it('round-trips every network event kind', () => {
    const events: NetworkEvent[] = [
      { type: 'endOfPartition' },
      { type: 'watermark', timestamp: 1_700_000_000_123 },
      { type: 'barrier', checkpointId: 7, timestamp: 99, savepoint: true },
      { type: 'cancelBarrier', checkpointId: 8 },
      { type: 'idle', idle: true },
    ];
    for (const e of events) expect(decodeEvent(encodeEvent(e))).toStrictEqual(e);
  });
});

describe('exact round trip', () => {
  it('keeps every value as it was: a fixed-seed randomized run', () => {
    const rnd = mulberry32(20261204);
    const serializer = new RecordSerializer(256);
    for (let b = 0; b < 100; b++) {
      const n = 1 + Math.floor(rnd() * 100);
      const values = Array.from({ length: n }, () => jsonLike(rnd));
      const timestamps = b % 3 === 0 ? null : values.map(() => (rnd() < 0.3 ? undefined : Math.floor(rnd() * 2 ** 45)));
      // Both ways in: one call, and a record at a time.
      const whole = encodeRecords(values, timestamps);
      values.forEach((v, i) => serializer.add(v, timestamps?.[i]));
      const incremental = serializer.finish()!;
      for (const bytes of [whole, incremental]) {
        const decoded = decodeRecords(bytes);
        expect(decoded.values).toStrictEqual(values);
        expect(decoded.timestamps).toStrictEqual(
          timestamps !== null && timestamps.some((t) => t !== undefined) ? timestamps : null,
        );
      }
    }
  });

  it('keeps -0, holes, bigints, Buffers, typed arrays, errors and regular expressions', () => {
    const values: unknown[] = [
      -0,
      { x: -0 },
      [1, , 3], // eslint-disable-line no-sparse-arrays
      2n ** 1000n,
      -(2n ** 64n),
      0n,
      Buffer.from('bytes'),
      new Float64Array([1.5, -0, NaN]),
      new BigInt64Array([-5n]),
      new Uint8Array(new ArrayBuffer(8), 2, 3),
      new TypeError('bad'),
      /a+b/giu,
      new Date(NaN),
      Object.assign(Object.create(null) as object, { a: 1 }),
      { nested: { deeper: { deepest: [undefined, null] } } },
    ];
    const decoded = decodeRecords(encodeRecords(values, null)).values;
    expect(Object.is(decoded[0], -0)).toBe(true);
    expect(Object.is((decoded[1] as { x: number }).x, -0)).toBe(true);
    expect(1 in (decoded[2] as unknown[])).toBe(false);
    expect(decoded[3]).toBe(2n ** 1000n);
    expect(decoded[4]).toBe(-(2n ** 64n));
    expect(decoded[5]).toBe(0n);
    expect(Buffer.isBuffer(decoded[6])).toBe(true);
    expect(decoded[6]).toStrictEqual(Buffer.from('bytes'));
    expect(decoded[7]).toStrictEqual(new Float64Array([1.5, -0, NaN]));
    expect(decoded[8]).toStrictEqual(new BigInt64Array([-5n]));
    expect(decoded[9]).toStrictEqual(Uint8Array.of(0, 0, 0));
    expect(decoded[10]).toBeInstanceOf(TypeError);
    expect((decoded[10] as Error).message).toBe('bad');
    expect(decoded[11]).toStrictEqual(/a+b/giu);
    expect(Number.isNaN((decoded[12] as Date).getTime())).toBe(true);
    expect(decoded[13]).toStrictEqual({ a: 1 });
    expect(decoded[14]).toStrictEqual(values[14]);
  });

  it('sends class instances as their fields, and functions as undefined', () => {
    const [p, f] = decodeRecords(encodeRecords([new Point(3, 4), { g: () => 1 }], null)).values;
    expect(p).toStrictEqual({ x: 3, y: 4 });
    expect(f).toStrictEqual({ g: undefined });
  });

  it('leaves the buffer as it was when a record cannot be serialized', () => {
    const serializer = new RecordSerializer();
    serializer.add({ key: 1, value: 2 }, undefined);
    const bad = {
      key: 1,
      get value(): number {
        throw new Error('getter failed');
      },
    };
    expect(() => serializer.add({ wrapper: { inner: bad } }, 5)).toThrow(/getter failed/);
    serializer.add({ wrapper: { inner: { key: 3, value: 4 } } }, undefined);
    const decoded = decodeRecords(serializer.finish()!);
    expect(decoded.values).toStrictEqual([{ key: 1, value: 2 }, { wrapper: { inner: { key: 3, value: 4 } } }]);
    expect(decoded.timestamps).toBeNull();
  });

  it('interleaves serializers without mixing their shapes', () => {
    const a = new RecordSerializer();
    const b = new RecordSerializer();
    const rnd = mulberry32(7);
    const expected: [unknown[], unknown[]] = [[], []];
    for (let i = 0; i < 2000; i++) {
      const v = rnd() < 0.5 ? { key: i, value: -i } : { word: 'w' + i, count: i, extra: rnd() < 0.5 ? { a: 1 } : [i] };
      const which = rnd() < 0.5 ? 0 : 1;
      (which === 0 ? a : b).add(v, undefined);
      expected[which].push(v);
    }
    expect(decodeRecords(b.finish()!).values).toStrictEqual(expected[1]);
    expect(decodeRecords(a.finish()!).values).toStrictEqual(expected[0]);
    a.dispose();
    b.dispose();
  });

  it('writes a repeated string once per buffer, and each buffer decodes on its own', () => {
    const channels = ['Google', 'Facebook', 'Baidu', 'Apple'];
    const url = (i: number) => `https://www.nexmark.com/item.htm?query=1&channel_id=${i % 4}`;
    const bids = (from: number) =>
      Array.from({ length: 500 }, (_, i) => ({
        auction: from + i,
        channel: channels[(from + i) % 4],
        url: url(from + i),
        extra: i % 50 === 0 ? 'x'.repeat(300) : '',
      }));
    const first = bids(0);
    const second = bids(500);
    const a = encodeRecords(first, null);
    const b = encodeRecords(second, null);
    // Each URL's 52 bytes once, then a reference of two bytes; the 300-character extra (longer
    // than the table takes) in full every time.
    const full = first.map((v) => JSON.stringify(v).length).reduce((x, y) => x + y, 0);
    expect(a.length).toBeLessThan(full / 3);
    expect(decodeRecords(b).values).toStrictEqual(second);
    expect(decodeRecords(a).values).toStrictEqual(first);
    // Every channel and URL after the first four of each is a reference (0x98; a few auction ids
    // may contain that byte too, far fewer than a hundred).
    expect(a.filter((x) => x === 0x98).length).toBeGreaterThan(2 * 500 - 8 - 1);
  });

  it('keeps the string table right when a record is rolled back or becomes a dictionary', () => {
    const serializer = new RecordSerializer();
    serializer.add({ s: 'before' }, undefined);
    const bad = {
      fresh: 'defined then dropped',
      get value(): number {
        throw new Error('getter failed');
      },
    };
    expect(() => serializer.add({ wrapper: bad }, undefined)).toThrow(/getter failed/);
    // More keys than a shape takes: the fields written so far (with new strings) are written again.
    const wide = Object.fromEntries(
      Array.from({ length: 70 }, (_, i) => [`f${i}`, i % 2 === 0 ? 'repeated value' : `v${i}xyz`]),
    );
    const values = [{ s: 'before' }, { s: 'defined then dropped' }, wide, { s: 'repeated value', t: 'before' }];
    for (const v of values.slice(1)) serializer.add(v, undefined);
    expect(decodeRecords(serializer.finish()!).values).toStrictEqual(values);
  });

  it('stops using the table in a buffer whose strings do not repeat', () => {
    const unique = Array.from({ length: 1000 }, (_, i) => ({ name: `user-${i}-name` }));
    const bytes = encodeRecords(unique, null);
    // 64 definitions without a single reference, then every string in full.
    expect(bytes.filter((b) => b === 0x97).length).toBe(64);
    expect(decodeRecords(bytes).values).toStrictEqual(unique);
    // Repeating strings keep it open.
    const repeated = Array.from({ length: 1000 }, (_, i) => ({ name: `user-${i % 10}-name`, other: `o-${i}` }));
    const open = encodeRecords(repeated, null);
    expect(open.filter((b) => b === 0x98).length).toBeGreaterThan(900);
    expect(decodeRecords(open).values).toStrictEqual(repeated);
  });

  it('writes strings in full once the table is full, and rejects a reference to no string', () => {
    const values = Array.from({ length: 3000 }, (_, i) => ({ name: `name-${i % 1500}` }));
    expect(decodeRecords(encodeRecords(values, null)).values).toStrictEqual(values);
    const bytes = encodeRecords([{ a: 'abcdef' }, { a: 'abcdef' }], null);
    // The second record's reference (0x98, 0) made to point at string 5.
    const bad = Uint8Array.from(bytes);
    bad[bad.length - 1] = 5;
    expect(() => decodeRecords(bad)).toThrow(/string 5 is not defined in this buffer/);
  });

  it('round-trips events with values msgpack would change', () => {
    for (const e of [
      { type: 'watermark', timestamp: -0 },
      { type: 'x', big: 2n ** 90n, when: new Date(5) },
    ]) {
      expect(decodeEvent(encodeEvent(e))).toStrictEqual(e);
    }
    expect(Object.is(decodeEvent<{ timestamp: number }>(encodeEvent({ timestamp: -0 })).timestamp, -0)).toBe(true);
  });
});
