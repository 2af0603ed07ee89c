import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sha256OfFile } from '../../common/file-digest.js';
import {
  INCOMPLETE,
  itemEnd,
  readMsgpackItems,
  TruncatedItemError,
  UNKNOWN,
} from '../../taskmanager/state/msgpack-items.js';
import { mulberry32 } from '../reference/random.js';

const OPTIONS = { useRecords: false, mapsAsObjects: true } as const;
const packr = new Packr({ useRecords: false });
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-msgpack-items-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Items of every size from a byte to ~600 KB, strings, numbers, nested arrays and binaries. */
function randomItems(seed: number, count: number): unknown[] {
  const rnd = mulberry32(seed);
  const items: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const size = Math.floor(rnd() ** 4 * 6000);
    items.push({
      keyGroup: i,
      entries: Array.from({ length: size }, (_, j) => [
        'value',
        `key-${i}-${j}`,
        '',
        rnd() < 0.1 ? Buffer.from([j & 255, i & 255, 7]) : 'x'.repeat(Math.floor(rnd() * 200)),
      ]),
    });
    if (rnd() < 0.2) items.push(Math.floor(rnd() * 1e9));
  }
  return items;
}

async function writeItems(name: string, items: unknown[]): Promise<{ path: string; bytes: Buffer }> {
  const bytes = Buffer.concat(items.map((i) => packr.pack(i)));
  const path = join(dir, name);
  await writeFile(path, bytes);
  return { path, bytes };
}

async function readAll(path: string, blockBytes: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of readMsgpackItems(path, blockBytes, OPTIONS)) out.push(item);
  return out;
}

describe('readMsgpackItems', () => {
  it('reads every item as msgpackr reads the whole file, whatever the block size (fixed seed)', async () => {
    const { path, bytes } = await writeItems('random.mp', randomItems(20261206, 60));
    const expected = new Unpackr(OPTIONS).unpackMultiple(bytes) as unknown[];
    for (const block of [1000, 4096, 65_536, 1 << 20, 8 << 20]) expect(await readAll(path, block)).toEqual(expected);
  });

  it('decodes each item once, however many blocks it spans, where msgpackr tried it again for every block', async () => {
    // 12 items of about 1.3 MB each, read in blocks of 64 KiB: about 20 blocks per item.
    const items = Array.from({ length: 12 }, (_, i) => ({
      keyGroup: i,
      entries: Array.from({ length: 1300 }, (_, j) => ['v', j, '', 'y'.repeat(1000)]),
    }));
    const { path, bytes } = await writeItems('large.mp', items);
    const unpack = vi.spyOn(Unpackr.prototype, 'unpack');
    const unpackMultiple = vi.spyOn(Unpackr.prototype, 'unpackMultiple');
    try {
      expect(await readAll(path, 65_536)).toEqual(items);
      expect(unpackMultiple).not.toHaveBeenCalled();
      expect(unpack).toHaveBeenCalledTimes(12);
      const decoded = unpack.mock.calls.reduce((sum, [source]) => sum + (source as Buffer).length, 0);
      expect(decoded).toBe(bytes.length);
    } finally {
      unpack.mockRestore();
      unpackMultiple.mockRestore();
    }
  });

  it('passes over the items the caller skips without decoding them', async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({ keyGroup: i, entries: [['s', i, '', 'z'.repeat(i * 100)]] }));
    const { path } = await writeItems('skipped.mp', items);
    const unpack = vi.spyOn(Unpackr.prototype, 'unpack');
    try {
      const out: unknown[] = [];
      // Items whose first field's value (a fixint right after msgpackr's map16 head and `keyGroup`) is odd.
      const skip = (src: Uint8Array, at: number) => src[at] === 0xde && (src[at + 12]! & 1) === 1;
      for await (const item of readMsgpackItems(path, 1000, OPTIONS, skip)) out.push(item);
      expect(out).toEqual(items.filter((_, i) => i % 2 === 0));
      expect(unpack).toHaveBeenCalledTimes(20);
    } finally {
      unpack.mockRestore();
    }
  });

  it('finds where every kind of value msgpackr writes ends, as msgpackr does (fixed seed)', () => {
    const rnd = mulberry32(5150);
    const str = (n: number) =>
      Array.from({ length: n }, () => String.fromCharCode(rnd() < 0.1 ? 0x4e00 + (n % 90) : 97)).join('');
    const values: unknown[] = [
      0,
      127,
      128,
      255,
      256,
      65_535,
      65_536,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 53 - 1,
      -1,
      -32,
      -33,
      -128,
      -129,
      -32_768,
      -32_769,
      -(2 ** 31),
      -(2 ** 31) - 1,
      -(2 ** 53),
      0.5,
      -0,
      NaN,
      Infinity,
      1e300,
      null,
      true,
      false,
      undefined,
      '',
      str(31),
      str(32),
      str(255),
      str(256),
      str(65_535),
      str(65_536),
      str(70_000),
      Buffer.alloc(0),
      Buffer.alloc(255, 1),
      Buffer.alloc(256, 2),
      Buffer.alloc(65_536, 3),
      new Uint8Array([1, 2]),
      new Float64Array([1.5, -2]),
      new Int32Array([7, -7]),
      new Date(0),
      new Date(1_700_000_000_000),
      new Date(1_700_000_000_123),
      new Date(-5_000),
      new Date(2 ** 42 * 1000),
      new Date(NaN),
      123n,
      -(2n ** 63n),
      2n ** 63n - 1n,
      [],
      Array.from({ length: 15 }, (_, i) => i),
      Array.from({ length: 16 }, (_, i) => i),
      new Array(70_000).fill(1),
      {},
      Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i])),
      Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, [i, { d: new Date(i) }]])),
      Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])),
      new Map<number, string>(Array.from({ length: 70_000 }, (_, i) => [i, `v${i % 10}`])),
      new Map<unknown, unknown>([
        [1, 'a'],
        ['b', { c: 2 }],
      ]),
      new Set([1, 'two', [3]]),
      /re+x/gi,
      new Error('boom'),
    ];
    for (let i = 0; i < 200; i++) values.push(randomItems(i, 1)[0]);
    const bytes = Buffer.concat(values.map((v) => packr.pack(v)));
    const ends: number[] = [];
    new Unpackr(OPTIONS).unpackMultiple(bytes, (_v: unknown, _start?: number, end?: number) => {
      ends.push(end!);
    });
    let at = 0;
    for (const expected of ends) {
      // Cut anywhere before its end, an item is incomplete.
      expect(itemEnd(bytes, at, at + Math.floor((expected - at) * rnd()))).toBe(INCOMPLETE);
      expect(itemEnd(bytes, at, bytes.length)).toBe(expected);
      at = expected;
    }
  });

  it('decodes an extension it cannot walk (one msgpackr may follow with its data) through msgpackr', async () => {
    // With moreTypes, msgpackr writes a Set as a one-byte extension followed by an array.
    const more = new Packr({ useRecords: false, moreTypes: true });
    const values = ['a', new Set([1, 2, 3]), { b: new Set(['x']) }, 'z'.repeat(3000)];
    const bytes = Buffer.concat(values.map((v) => more.pack(v)));
    expect(itemEnd(bytes, more.pack('a').length, bytes.length)).toBe(UNKNOWN);
    const path = join(dir, 'extensions.mp');
    await writeFile(path, bytes);
    for (const block of [16, 1 << 20]) expect(await readAll(path, block)).toEqual(values);
  });

  it('hands out binary values as copies: the buffer it reads into is used again', async () => {
    // 200 binaries of 100 bytes each, read 1 000 bytes at a time into the same buffer: views of it
    // would show the bytes read after them.
    const values = Array.from({ length: 200 }, (_, i) =>
      i % 2 === 0 ? Buffer.alloc(100, i) : { b: Buffer.alloc(100, i) },
    );
    const { path } = await writeItems('binaries.mp', values);
    const items = await readAll(path, 1000);
    expect(items).toEqual(values);
  });

  it('says a file that ends inside an item is truncated, after the items before it', async () => {
    const { path, bytes } = await writeItems('whole.mp', ['first', { big: 'z'.repeat(10_000) }]);
    const cut = join(dir, 'cut.mp');
    await writeFile(cut, bytes.subarray(0, bytes.length - 100));
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const item of readMsgpackItems(cut, 1024, OPTIONS)) seen.push(item);
      })(),
    ).rejects.toBeInstanceOf(TruncatedItemError);
    expect(seen).toEqual(['first']);
    expect(await readAll(path, 1024)).toHaveLength(2);
  });

  it('throws msgpackr’s error for bytes that are not MessagePack, and reads an empty file as no items', async () => {
    const bad = join(dir, 'bad.mp');
    // An extension type msgpackr does not know.
    await writeFile(bad, Buffer.concat([packr.pack('ok'), Buffer.from([0xd4, 0x05, 0x00])]));
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const item of readMsgpackItems(bad, 1024, OPTIONS)) seen.push(item);
      })(),
    ).rejects.toThrow(/Unknown extension 5/);
    expect(seen).toEqual(['ok']);
    const empty = join(dir, 'empty.mp');
    await writeFile(empty, Buffer.alloc(0));
    expect(await readAll(empty, 1024)).toEqual([]);
  });

  it('closes the file when the reader stops early', async () => {
    const { path } = await writeItems('early.mp', randomItems(3, 20));
    const before = (await readdir('/proc/self/fd')).length;
    for (let i = 0; i < 20; i++) {
      for await (const item of readMsgpackItems(path, 4096, OPTIONS)) {
        expect(item).toBeDefined();
        break;
      }
    }
    expect((await readdir('/proc/self/fd')).length).toBeLessThanOrEqual(before);
  });
});

describe('sha256OfFile', () => {
  it('equals the sha256 of the bytes, at every size around its block', async () => {
    const rnd = mulberry32(99);
    for (const size of [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3.5 * (1 << 20)]) {
      const bytes = Buffer.from(Array.from({ length: size }, () => Math.floor(rnd() * 256)));
      const path = join(dir, `digest-${size}`);
      await writeFile(path, bytes);
      expect(await sha256OfFile(path)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('fails with the file system’s error for a missing file', async () => {
    await expect(sha256OfFile(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
