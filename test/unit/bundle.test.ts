import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, extractBundle, readBundleFile } from '../../common/bundle.js';
import { packageRoot } from '../../common/package-root.js';
import { ENGINE_VERSION } from '../../common/version.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** A raw tar archive built header by header, so tests can write names tar.c would refuse. */
function rawTar(members: { path: string; data: string | Buffer }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const data = Buffer.isBuffer(m.data) ? m.data : Buffer.from(m.data);
    const header = new tar.Header({ path: m.path, mode: 0o644, size: data.length, type: 'File', mtime: new Date(0) });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function manifestFor(code: string, overrides: Record<string, unknown> = {}) {
  return JSON.stringify({
    name: 'j',
    version: '1.0.0',
    entry: 'job.mjs',
    engineVersion: ENGINE_VERSION,
    sha256: sha256(code),
    ...overrides,
  });
}

describe('bundles', () => {
  let dir: string;
  let jobFile: string;
  let bundle: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-bundle-test-'));
    jobFile = join(dir, 'my-job.ts');
    writeFileSync(join(dir, 'helper.ts'), 'export const twice = (n: number): number => n * 2;\n');
    writeFileSync(
      jobFile,
      "import { StreamExecutionEnvironment } from 'weir';\nimport { twice } from './helper.js';\n" +
        'export default function main(env: StreamExecutionEnvironment, args: string[]): void { void twice(args.length); }\n' +
        'export const envClass = StreamExecutionEnvironment;\n',
    );
    bundle = join(dir, 'out', 'my-job.weir');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, data: Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };

  it('round-trips: manifest, entry code, id = sha256 of the file, reproducible', async () => {
    const created = await createBundle(jobFile, bundle);
    expect(created.manifest).toEqual({
      name: 'my-job',
      version: '0.0.0',
      entry: 'job.mjs',
      engineVersion: ENGINE_VERSION,
      sha256: created.manifest.sha256,
    });
    expect(created.id).toBe(sha256(readFileSync(bundle)));

    const read = await readBundleFile(bundle);
    expect(read.id).toBe(created.id);
    expect(read.manifest).toEqual(created.manifest);
    expect(sha256(read.entryCode)).toBe(created.manifest.sha256);
    // weir stays external, the local helper is inlined, and a source map points at the sources.
    expect(read.entryCode).toMatch(/from ["']weir["']/);
    expect(read.entryCode).toContain('n * 2');
    expect(read.entryCode).toContain('sourceMappingURL=data:application/json');
    const map = /sourceMappingURL=data:application\/json;base64,(\S+)/.exec(read.entryCode)![1]!;
    expect(JSON.parse(Buffer.from(map, 'base64').toString()).sources.sort()).toEqual(['helper.ts', 'my-job.ts']);

    const again = await createBundle(jobFile, join(dir, 'again.weir'));
    expect(again.id).toBe(created.id);
  });

  it('takes name and version from options', async () => {
    const { manifest } = await createBundle(jobFile, join(dir, 'named.weir'), { name: 'clicks', version: '2.1.0' });
    expect(manifest.name).toBe('clicks');
    expect(manifest.version).toBe('2.1.0');
  });

  it('reports a bundling error with its location', async () => {
    const broken = join(dir, 'broken.ts');
    writeFileSync(broken, 'export default function main( {\n');
    await expect(createBundle(broken, join(dir, 'broken.weir'))).rejects.toThrow(
      /^cannot bundle \/.*broken\.ts: \/.*broken\.ts:2:0: Expected identifier/,
    );
  });

  it('extracts safely and links weir to the engine, idempotently', async () => {
    await createBundle(jobFile, bundle);
    const target = join(dir, 'extract');
    const first = await extractBundle(bundle, target);
    expect(first.entryPath).toBe(join(target, 'job.mjs'));
    expect(readFileSync(first.entryPath, 'utf8')).toBe((await readBundleFile(bundle)).entryCode);
    expect(JSON.parse(readFileSync(join(target, 'manifest.json'), 'utf8'))).toEqual(first.manifest);
    expect(readlinkSync(join(target, 'node_modules', 'weir'))).toBe(packageRoot());
    expect(realpathSync(join(target, 'node_modules', 'weir', 'package.json'))).toBe(
      join(packageRoot(), 'package.json'),
    );
    const second = await extractBundle(bundle, target);
    expect(second).toEqual(first);
    await Promise.all([extractBundle(bundle, join(dir, 'concurrent')), extractBundle(bundle, join(dir, 'concurrent'))]);
    expect(readlinkSync(join(dir, 'concurrent', 'node_modules', 'weir'))).toBe(packageRoot());
  });

  describe('refuses corrupt input with a clear message', () => {
    const code = 'export default function main() {}\n';

    it('missing file', async () => {
      await expect(readBundleFile(join(dir, 'nope.weir'))).rejects.toThrow(/^bundle file not found: /);
    });

    it('random bytes', async () => {
      let seed = 42;
      const bytes = Buffer.alloc(4096, 0).map(() => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16);
      bytes[0] = 0x50; // never accidentally the gzip magic
      await expect(readBundleFile(write('random.weir', Buffer.from(bytes)))).rejects.toThrow(
        'not a Weir bundle: not a gzip file',
      );
    });

    it('gzip magic followed by garbage', async () => {
      const p = write('badgzip.weir', Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(64, 7)]));
      await expect(readBundleFile(p)).rejects.toThrow(/^not a Weir bundle: corrupt gzip data/);
    });

    it('a gzip of garbage', async () => {
      const p = write('garbage.weir', gzipSync(Buffer.alloc(4096, 'not a tar archive at all ')));
      await expect(readBundleFile(p)).rejects.toThrow(/^not a Weir bundle: (corrupt tar archive|not a tar archive)/);
    });

    it('a tar without manifest', async () => {
      const p = write('nomanifest.weir', gzipSync(rawTar([{ path: 'job.mjs', data: code }])));
      await expect(readBundleFile(p)).rejects.toThrow('not a Weir bundle: manifest.json is missing');
    });

    it('a manifest that is not JSON or lacks fields', async () => {
      const p1 = write(
        'badjson.weir',
        gzipSync(
          rawTar([
            { path: 'manifest.json', data: '{ name: ' },
            { path: 'job.mjs', data: code },
          ]),
        ),
      );
      await expect(readBundleFile(p1)).rejects.toThrow(/^not a Weir bundle: manifest.json is not valid JSON/);
      const noName = JSON.stringify({ ...JSON.parse(manifestFor(code)), name: undefined });
      const p2 = write(
        'noname.weir',
        gzipSync(
          rawTar([
            { path: 'manifest.json', data: noName },
            { path: 'job.mjs', data: code },
          ]),
        ),
      );
      await expect(readBundleFile(p2)).rejects.toThrow(
        "not a Weir bundle: manifest.json: 'name' must be a non-empty string",
      );
    });

    it('a manifest with the wrong sha256', async () => {
      const m = manifestFor(code, { sha256: sha256('something else') });
      const p = write(
        'badsha.weir',
        gzipSync(
          rawTar([
            { path: 'manifest.json', data: m },
            { path: 'job.mjs', data: code },
          ]),
        ),
      );
      await expect(readBundleFile(p)).rejects.toThrow(
        /^not a Weir bundle: sha256 of 'job.mjs' is [0-9a-f]{64}, manifest.json says/,
      );
    });

    it('a missing entry', async () => {
      const p = write('noentry.weir', gzipSync(rawTar([{ path: 'manifest.json', data: manifestFor(code) }])));
      await expect(readBundleFile(p)).rejects.toThrow(
        "not a Weir bundle: entry 'job.mjs' named in manifest.json is missing",
      );
    });

    it('a path traversal member', async () => {
      const p = write(
        'traversal.weir',
        gzipSync(
          rawTar([
            { path: 'manifest.json', data: manifestFor(code) },
            { path: 'job.mjs', data: code },
            { path: '../../evil.sh', data: 'x' },
          ]),
        ),
      );
      await expect(readBundleFile(p)).rejects.toThrow("not a Weir bundle: unsafe path '../../evil.sh' in archive");
      const target = join(dir, 'traversal-extract');
      await expect(extractBundle(p, target)).rejects.toThrow(/unsafe path/);
      expect(existsSync(join(target, 'job.mjs'))).toBe(false);
      expect(existsSync(join(dir, 'evil.sh'))).toBe(false);
    });

    it('a traversal entry named by the manifest', async () => {
      const m = manifestFor(code, { entry: '../job.mjs' });
      const p = write(
        'entrytraversal.weir',
        gzipSync(
          rawTar([
            { path: 'manifest.json', data: m },
            { path: 'job.mjs', data: code },
          ]),
        ),
      );
      await expect(readBundleFile(p)).rejects.toThrow(
        "not a Weir bundle: manifest.json: unsafe entry path '../job.mjs'",
      );
    });

    it('an incompatible engine major version', async () => {
      const major = Number(ENGINE_VERSION.split('.')[0]) + 1;
      const m = manifestFor(code, { engineVersion: `${major}.0.0` });
      const p = write(
        'future.weir',
        gzipSync(
          rawTar([
            { path: 'manifest.json', data: m },
            { path: 'job.mjs', data: code },
          ]),
        ),
      );
      await expect(readBundleFile(p)).rejects.toThrow(/^incompatible bundle: built for Weir \d+\.0\.0, this engine is/);
    });
  });
});
