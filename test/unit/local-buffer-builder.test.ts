import { describe, expect, it } from 'vitest';
import { FORMAT_COLUMNS } from '../../common/record-columns.js';
import { decodeRecords, encodeRecords } from '../../common/serialization.js';
import { LocalBufferBuilder, RecordBatch } from '../../taskmanager/network/record-batch.js';
import { mulberry32 } from '../reference/random.js';

/** What the consumer on the same thread gets of a finished buffer: its records and timestamps. */
function received(buffer: Uint8Array | RecordBatch): { values: unknown[]; timestamps: (number | undefined)[] | null } {
  if (buffer instanceof RecordBatch) return { values: buffer.values, timestamps: buffer.timestamps };
  const decoded = decodeRecords(buffer);
  return { values: decoded.values, timestamps: decoded.timestamps };
}

/** Field by field with Object.is (-0 stays -0), keys in order. */
function expectSameRecords(actual: unknown[], expected: unknown[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as Record<string, unknown>;
    const e = expected[i] as Record<string, unknown>;
    expect(Object.keys(a)).toEqual(Object.keys(e));
    for (const k of Object.keys(e)) expect(Object.is(a[k], e[k]), `record ${i} field ${k}`).toBe(true);
  }
}

/** A flat record of numbers, as the keyed count sends: small ints, big ones, fractions, -0. */
function numberRecord(rnd: () => number): Record<string, number> {
  const r = rnd();
  const value = r < 0.1 ? -0 : r < 0.4 ? Math.floor(rnd() * 2 ** 40) : r < 0.6 ? rnd() * 1000 : Math.floor(rnd() * 300);
  return { key: Math.floor(rnd() * 10_000), value };
}

describe('LocalBufferBuilder: buffers for a consumer on the same thread', () => {
  it('sends flat records of numbers as column buffers, each record exactly, with timestamps', () => {
    const rnd = mulberry32(1306);
    const builder = new LocalBufferBuilder(32 * 1024);
    for (const withTimestamps of [false, true]) {
      const values = Array.from({ length: 3000 }, () => numberRecord(rnd));
      const timestamps = values.map(() => Math.floor(rnd() * 1e12));
      values.forEach((v, i) => builder.add(v, withTimestamps ? timestamps[i] : undefined));
      expect(builder.numRecords).toBe(values.length);
      const buffer = builder.finish()!;
      expect(buffer).toBeInstanceOf(Uint8Array);
      expect((buffer as Uint8Array)[0]).toBe(FORMAT_COLUMNS);
      const got = received(buffer);
      expectSameRecords(got.values, values);
      expect(got.timestamps).toEqual(withTimestamps ? timestamps : null);
      // The consumer's records are not the producer's objects.
      expect(got.values[0]).not.toBe(values[0]);
    }
    expect(builder.finish()).toBeNull();
  });

  it("estimates a column buffer's size as the bytes it finishes with", () => {
    const builder = new LocalBufferBuilder(32 * 1024);
    for (let i = 0; i < 1000; i++) builder.add({ key: i % 100, value: i * 1000 }, undefined);
    const estimate = builder.size;
    const bytes = (builder.finish() as Uint8Array).length;
    expect(estimate).toBeGreaterThanOrEqual(bytes - 8 * 3);
    expect(estimate).toBeLessThanOrEqual(bytes + 8 * 3);
  });

  it('turns a buffer into copies at the first record that does not fit, keeping every record in order', () => {
    const misfits: unknown[] = [
      { key: 1, value: 'a string' },
      { key: 1 },
      { value: 2, key: 1 },
      { key: 1, value: 2, extra: 3 },
      { key: 1, value: { nested: true } },
      'a string',
      7,
      null,
    ];
    for (const misfit of misfits) {
      const builder = new LocalBufferBuilder(32 * 1024);
      const before = Array.from({ length: 50 }, (_, i) => ({ key: i, value: i / 4 }));
      const after = Array.from({ length: 20 }, (_, i) => ({ key: -i, value: i }));
      before.forEach((v, i) => builder.add(v, 1000 + i));
      builder.add(misfit, 2000);
      after.forEach((v, i) => builder.add(v, 3000 + i));
      const buffer = builder.finish()!;
      expect(buffer).toBeInstanceOf(RecordBatch);
      const got = received(buffer);
      const expected = [...before, misfit, ...after];
      expect(got.values).toEqual(expected);
      expectSameRecords(got.values.slice(0, 50), before);
      expect(got.timestamps).toEqual([...before.map((_, i) => 1000 + i), 2000, ...after.map((_, i) => 3000 + i)]);
      // What went through columns is copied too: later changes to the producer's objects do not reach it.
      before[0]!.value = 99;
      expect((got.values[0] as { value: number }).value).toBe(0);
    }
  });

  it('sends the next 8 buffers after a misfit as copies, then tries columns again', () => {
    const builder = new LocalBufferBuilder(32 * 1024);
    builder.add({ key: 1, value: 1 }, undefined);
    builder.add({ key: 'k', value: 1 }, undefined);
    expect(builder.finish()).toBeInstanceOf(RecordBatch);
    const kinds: string[] = [];
    for (let b = 0; b < 10; b++) {
      for (let i = 0; i < 10; i++) builder.add({ key: i, value: b }, undefined);
      const buffer = builder.finish()!;
      kinds.push(buffer instanceof RecordBatch ? 'copies' : 'columns');
      expectSameRecords(
        received(buffer).values,
        Array.from({ length: 10 }, (_, i) => ({ key: i, value: b })),
      );
    }
    expect(kinds).toEqual([...Array<string>(8).fill('copies'), 'columns', 'columns']);
  });

  it('sends arrays of numbers, such as [key, accumulator] partials, as column buffers and misfits as copies', () => {
    const rnd = mulberry32(9);
    const builder = new LocalBufferBuilder(32 * 1024);
    const values = Array.from({ length: 2000 }, () => [Math.floor(rnd() * 5000), rnd() < 0.1 ? -0 : rnd() * 10]);
    values.forEach((v, i) => builder.add(v, 10 * i));
    const buffer = builder.finish() as Uint8Array;
    expect(buffer[0]).toBe(FORMAT_COLUMNS);
    const got = received(buffer);
    expect(got.timestamps).toEqual(values.map((_, i) => 10 * i));
    got.values.forEach((a, i) => {
      expect(Array.isArray(a)).toBe(true);
      expect(Object.is((a as number[])[0], values[i]![0]) && Object.is((a as number[])[1], values[i]![1])).toBe(true);
    });
    // A window's leaders ({count, auctions}) after its counts: the buffer turns into copies.
    builder.add([1, 2], 1);
    builder.add([3, { count: 2, auctions: [7] }], 2);
    const mixed = builder.finish();
    expect(mixed).toBeInstanceOf(RecordBatch);
    expect(received(mixed!).values).toEqual([
      [1, 2],
      [3, { count: 2, auctions: [7] }],
    ]);
  });

  it('gives a consumer on the same thread what one in another thread decodes', () => {
    const rnd = mulberry32(77);
    const builder = new LocalBufferBuilder(4 * 1024);
    for (let round = 0; round < 20; round++) {
      const values = Array.from({ length: 1 + Math.floor(rnd() * 800) }, () => numberRecord(rnd));
      for (const v of values) builder.add(v, undefined);
      const local = received(builder.finish()!).values;
      expectSameRecords(local, decodeRecords(encodeRecords(values, null)).values);
    }
  });
});
