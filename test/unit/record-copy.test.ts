import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/package-root.js';
import { copiedBytes, copyRecord } from '../../common/record-copy.js';
import { decodeRecords, encodeRecords } from '../../common/serialization.js';
import { LocalBufferBuilder } from '../../taskmanager/network/record-batch.js';
import { mulberry32 } from '../reference/random.js';
import { jsonLike, Point, randomValue } from '../reference/random-values.js';

/** What a consumer in another thread or process receives. */
function throughBytes(v: unknown): unknown {
  return decodeRecords(encodeRecords([v], null)).values[0];
}

/** Every object reachable from `root`, itself included. */
function reachable(root: unknown): Set<unknown> {
  const found = new Set<unknown>();
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || found.has(v)) return;
    found.add(v);
    const children = v instanceof Map ? [...v].flat() : v instanceof Set ? [...v] : Object.values(v);
    for (const x of children) visit(x);
  };
  visit(root);
  return found;
}

/** The objects a copy shares with its original (a copy shares nothing mutable). */
function sharedObjects(copy: unknown, original: unknown): unknown[] {
  const inOriginal = reachable(original);
  return [...reachable(copy)].filter((o) => inOriginal.has(o));
}

describe('record copy for consumers on the same thread', () => {
  it('gives exactly what the network codec gives: a fixed-seed randomized run', () => {
    const rnd = mulberry32(20261205);
    for (let i = 0; i < 5000; i++) {
      const v = i % 2 === 0 ? jsonLike(rnd) : randomValue(rnd);
      const copy = copyRecord(v);
      expect(copy).toStrictEqual(throughBytes(v));
      expect(sharedObjects(copy, v)).toStrictEqual([]);
    }
  });

  it('rebuilds what JSON cannot hold, as the codec does', () => {
    const values: unknown[] = [
      -0,
      { x: -0, f: () => 1, s: Symbol('s'), u: undefined },
      [1, , 3], // eslint-disable-line no-sparse-arrays
      2n ** 1000n,
      Buffer.from('bytes'),
      new Float64Array([1.5, -0, NaN]),
      new BigInt64Array([-5n]),
      new Uint8Array(new ArrayBuffer(8), 2, 3),
      new ArrayBuffer(4),
      new DataView(new ArrayBuffer(2)),
      new TypeError('bad'),
      Object.assign(new RangeError('odd'), { name: 'CustomError' }),
      /a+b/giu,
      new Date(NaN),
      new Map<unknown, unknown>([[{ k: 1 }, new Set([1, { v: 2 }])]]),
      Object.assign(Object.create(null) as object, { a: 1 }),
      new Point(3, 4),
      JSON.parse('{"__proto__": {"polluted": true}, "y": 1}'),
      'lone \ud800 high',
      { [Symbol('dropped')]: 1, kept: 2 },
      Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, i])),
    ];
    // Twice: a shape seen again is copied by its compiled copier.
    for (const v of [...values, ...values]) {
      const copy = copyRecord(v);
      const expected = throughBytes(v);
      expect(copy).toStrictEqual(expected);
      if (typeof v === 'object' && v !== null) expect(copy).not.toBe(v);
      if (v instanceof Error) {
        expect((copy as Error).name).toBe((expected as Error).name);
        expect((copy as Error).stack).toBe((expected as Error).stack);
        expect(Object.getPrototypeOf(copy)).toBe(Object.getPrototypeOf(expected));
      }
    }
    expect(Object.is(copyRecord(-0), -0)).toBe(true);
    expect(1 in (copyRecord([1, , 3]) as unknown[])).toBe(false); // eslint-disable-line no-sparse-arrays
    expect(Buffer.isBuffer(copyRecord(Buffer.from('x')))).toBe(true);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  // Runs the compiled modules (dist/, from `npm test`'s pretest build) under V8's natives syntax.
  it('gives a repeated shape the hidden class of a decoded record, so operators see one class', () => {
    const dist = (m: string) => pathToFileURL(join(packageRoot(), 'dist/common', m)).href;
    const script = `
      const { copyRecord } = await import(${JSON.stringify(dist('record-copy.js'))});
      const { decodeRecords, encodeRecords } = await import(${JSON.stringify(dist('serialization.js'))});
      const same = new Function('a', 'b', 'return %HaveSameMap(a, b)');
      const literal = (i) => ({ key: i, value: i * 2, nested: { when: 'now' } });
      const decoded = decodeRecords(encodeRecords([literal(1)], null)).values[0];
      const copies = [1, 2, 3].map((i) => copyRecord(literal(i)));
      console.log(JSON.stringify({
        literal: same(literal(0), decoded),
        copy: same(copies[2], decoded),
        nested: same(copies[2].nested, decoded.nested),
      }));`;
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toStrictEqual({ literal: true, copy: true, nested: true });
  });

  it('is not affected by later changes to the emitted object', () => {
    const emitted = { key: 1, nested: { list: [1, 2] } };
    const copy = copyRecord(emitted) as typeof emitted;
    emitted.key = 2;
    emitted.nested.list.push(3);
    expect(copy).toStrictEqual({ key: 1, nested: { list: [1, 2] } });
  });

  it('estimates about the serialized size, so a batch holds about a buffer of records', () => {
    const rnd = mulberry32(5);
    const values = Array.from({ length: 2000 }, () => jsonLike(rnd));
    const before = copiedBytes;
    for (const v of values) copyRecord(v);
    const estimate = (copiedBytes - before) | 0;
    const serialized = encodeRecords(values, null).length;
    // Within a factor of three either way of the codec's size.
    expect(estimate).toBeGreaterThan(serialized / 3);
    expect(estimate).toBeLessThan(serialized * 3);
  });

  it('keeps its running estimate an int32 past 2^31 bytes, and a batch measures its records across the wrap', () => {
    // A string is not copied, so 2^28 characters (a rope, no memory) add 2^28 to the estimate.
    const big = 'x'.repeat(2 ** 28);
    const batch = new LocalBufferBuilder(32 * 1024);
    for (let i = 0; i < 9; i++) batch.add(big, undefined);
    expect(copiedBytes | 0).toBe(copiedBytes);
    const before = batch.size;
    batch.add({ key: 1, value: 2 }, undefined);
    expect(before).toBe(9 * (2 ** 28 + 2));
    expect(batch.size - before).toBeGreaterThan(0);
    expect(batch.size - before).toBeLessThan(32);
  });
});
