import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sha256OfFile } from '../../common/file-digest.js';
import { readMsgpackItems, TruncatedItemError } from '../../taskmanager/state/msgpack-items.js';
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

  it('decodes in vain less than twice each item, where msgpackr tried it again for every block', async () => {
    // 12 items of about 1.3 MB each, read in blocks of 64 KiB: about 20 blocks per item.
    const items = Array.from({ length: 12 }, (_, i) => ({
      keyGroup: i,
      entries: Array.from({ length: 1300 }, (_, j) => ['v', j, '', 'y'.repeat(1000)]),
    }));
    const { path, bytes } = await writeItems('large.mp', items);
    const spy = vi.spyOn(Unpackr.prototype, 'unpackMultiple');
    try {
      expect(await readAll(path, 65_536)).toHaveLength(12);
      const decoded = spy.mock.calls.reduce((sum, [source]) => sum + (source as Buffer).length, 0);
      expect(decoded).toBeLessThan(3 * bytes.length);
    } finally {
      spy.mockRestore();
    }
  });

  it('hands out binary values as copies: the buffer it reads into is used again', async () => {
    const { path } = await writeItems('binaries.mp', [
      Buffer.from([1, 2, 3]),
      { b: Buffer.alloc(5000, 9) },
      Buffer.from([4, 5]),
    ]);
    const items = await readAll(path, 16);
    expect(items).toEqual([Buffer.from([1, 2, 3]), { b: Buffer.alloc(5000, 9) }, Buffer.from([4, 5])]);
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
