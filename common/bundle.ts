// Bundles (.weir): a gzipped tarball of manifest.json and the esbuild-bundled job module, the
// way Flink jobs ship as jars. A bundle's id is the sha256 of the whole file.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readlink, rename, rm, symlink, unlink, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, posix, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
// esbuild and tar load on first use: every CLI command imports this module, few bundle.
import type * as esbuild from 'esbuild';
import { packageRoot } from './package-root.js';
import { ENGINE_VERSION } from './version.js';

export const MANIFEST_FILE = 'manifest.json';
export const BUNDLE_ENTRY = 'job.mjs';

export interface BundleManifest {
  name: string;
  version: string;
  entry: string;
  engineVersion: string;
  /** sha256 (hex) of the entry file. */
  sha256: string;
}

export interface CreateBundleOptions {
  name?: string;
  version?: string;
}

/** Bundles larger than this are refused rather than read into memory. */
const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;

function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function invalid(reason: string): Error {
  return new Error(`not a Weir bundle: ${reason}`);
}

/** Archive member names must be plain relative paths that stay inside the bundle. */
function isSafeMemberPath(p: string): boolean {
  if (!p || p.includes('\0') || p.includes('\\')) return false;
  if (posix.isAbsolute(p) || /^[a-zA-Z]:/.test(p)) return false;
  return !p.split('/').some((seg) => seg === '..');
}

function normalizeMemberPath(p: string): string {
  return posix.normalize(p).replace(/^\.\//, '');
}

function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}

/**
 * Bundles `entryFile` with esbuild (weir left external: the engine provides it) and packs it
 * with its manifest into `outFile`. Packing is reproducible: same source, same bundle id.
 */
export async function createBundle(
  entryFile: string,
  outFile: string,
  opts: CreateBundleOptions = {},
): Promise<{ id: string; manifest: BundleManifest }> {
  let code: string;
  try {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [entryFile],
      // Beside the entry, so source-map paths (and so user stack traces) read 'my-job.ts:12'.
      outfile: join(dirname(resolve(entryFile)), BUNDLE_ENTRY),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // 'weir' and its subpaths ('weir/nexmark', 'weir/testing'): node_modules/weir links the engine.
      external: ['weir', 'weir/*'],
      sourcemap: 'inline',
      write: false,
      logLevel: 'silent',
      // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
      banner: {
        js: "import { createRequire as __weirCreateRequire } from 'node:module'; const require = __weirCreateRequire(import.meta.url);",
      },
    });
    const out = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
    if (!out) throw new Error('esbuild produced no output');
    code = out.text;
  } catch (e) {
    const errors = (e as { errors?: esbuild.Message[] }).errors;
    if (errors?.length) {
      const first = errors[0]!;
      const where = first.location
        ? `${resolve(first.location.file)}:${first.location.line}:${first.location.column}: `
        : '';
      throw new Error(`cannot bundle ${entryFile}: ${where}${first.text}`, { cause: e });
    }
    throw new Error(`cannot bundle ${entryFile}: ${(e as Error).message}`, { cause: e });
  }

  const manifest: BundleManifest = {
    name: opts.name ?? basename(entryFile, extname(entryFile)),
    version: opts.version ?? '0.0.0',
    entry: BUNDLE_ENTRY,
    engineVersion: ENGINE_VERSION,
    sha256: sha256Hex(code),
  };

  const staging = await mkdtemp(join(tmpdir(), 'weir-bundle-'));
  try {
    await writeFile(join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    await writeFile(join(staging, BUNDLE_ENTRY), code);
    await mkdir(dirname(resolve(outFile)), { recursive: true });
    const tar = await import('tar');
    await tar.c({ gzip: true, file: outFile, cwd: staging, portable: true, mtime: new Date(0) }, [
      MANIFEST_FILE,
      BUNDLE_ENTRY,
    ]);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const id = sha256Hex(await readFile(outFile));
  return { id, manifest };
}

/** Reads the regular files of an uncompressed tar archive into memory, refusing unsafe names. */
async function readTarMembers(data: Buffer): Promise<Map<string, Buffer>> {
  const tar = await import('tar');
  return new Promise((resolvePromise, reject) => {
    const files = new Map<string, Buffer>();
    let failure: Error | undefined;
    const fail = (err: Error) => {
      failure ??= err;
    };
    const parser = new tar.Parser({
      strict: true,
      onReadEntry: (entry) => {
        const path = entry.path;
        if (!isSafeMemberPath(path)) {
          fail(invalid(`unsafe path '${path}' in archive`));
          entry.resume();
          return;
        }
        if (entry.type === 'Directory') {
          entry.resume();
          return;
        }
        if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
          fail(invalid(`unsupported archive member '${path}' (${entry.type})`));
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => files.set(normalizeMemberPath(path), Buffer.concat(chunks)));
      },
    });
    parser.on('error', (err: Error) => fail(invalid(`corrupt tar archive (${err.message})`)));
    parser.on('close', () => (failure ? reject(failure) : resolvePromise(files)));
    try {
      parser.end(data);
    } catch (e) {
      fail(invalid(`corrupt tar archive (${(e as Error).message})`));
    }
  });
}

function parseManifest(raw: Buffer): BundleManifest {
  let m: unknown;
  try {
    m = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw invalid(`manifest.json is not valid JSON (${(e as Error).message})`);
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw invalid('manifest.json is not a JSON object');
  const o = m as Record<string, unknown>;
  for (const field of ['name', 'version', 'entry', 'engineVersion', 'sha256'] as const) {
    if (typeof o[field] !== 'string' || (o[field] as string).length === 0) {
      throw invalid(`manifest.json: '${field}' must be a non-empty string`);
    }
  }
  const manifest = o as unknown as BundleManifest;
  if (!isSafeMemberPath(manifest.entry)) throw invalid(`manifest.json: unsafe entry path '${manifest.entry}'`);
  if (!/^[0-9a-f]{64}$/.test(manifest.sha256))
    throw invalid("manifest.json: 'sha256' must be 64 lowercase hex characters");
  if (!/^\d+\.\d+\.\d+/.test(manifest.engineVersion)) {
    throw invalid(`manifest.json: 'engineVersion' '${manifest.engineVersion}' is not a version`);
  }
  return manifest;
}

/** Reads and validates a bundle; every failure is an Error starting "not a Weir bundle: ". */
export async function readBundleFile(
  path: string,
): Promise<{ id: string; manifest: BundleManifest; entryCode: string }> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`bundle file not found: ${path}`, { cause: e });
    throw new Error(`cannot read bundle ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseBundle(data);
}

/** Validates bundle bytes already in memory (an upload, say). */
export async function parseBundle(data: Buffer): Promise<{ id: string; manifest: BundleManifest; entryCode: string }> {
  if (data.length > MAX_BUNDLE_BYTES) throw invalid(`larger than ${MAX_BUNDLE_BYTES} bytes`);
  if (data.length < 2 || data[0] !== 0x1f || data[1] !== 0x8b) throw invalid('not a gzip file');
  let tarData: Buffer;
  try {
    tarData = gunzipSync(data, { maxOutputLength: MAX_BUNDLE_BYTES });
  } catch (e) {
    throw invalid(`corrupt gzip data (${(e as Error).message})`);
  }
  if (tarData.length < 512) throw invalid('not a tar archive');
  const files = await readTarMembers(tarData);
  if (files.size === 0) throw invalid('not a tar archive (no files found)');
  const rawManifest = files.get(MANIFEST_FILE);
  if (!rawManifest) throw invalid('manifest.json is missing');
  const manifest = parseManifest(rawManifest);
  const entry = files.get(normalizeMemberPath(manifest.entry));
  if (!entry) throw invalid(`entry '${manifest.entry}' named in manifest.json is missing`);
  const actual = sha256Hex(entry);
  if (actual !== manifest.sha256) {
    throw invalid(
      `sha256 of '${manifest.entry}' is ${actual}, manifest.json says ${manifest.sha256} (corrupt or modified)`,
    );
  }
  if (majorOf(manifest.engineVersion) !== majorOf(ENGINE_VERSION)) {
    throw new Error(
      `incompatible bundle: built for Weir ${manifest.engineVersion}, this engine is ${ENGINE_VERSION} (major versions differ)`,
    );
  }
  return { id: sha256Hex(data), manifest, entryCode: entry.toString('utf8') };
}

/** Writes atomically so concurrent extractions of the same bundle never see half a file. */
async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Points dir/node_modules/weir at this engine so the job and the engine share one API module. */
async function linkEngine(dir: string): Promise<void> {
  const nodeModules = join(dir, 'node_modules');
  await mkdir(nodeModules, { recursive: true });
  const link = join(nodeModules, 'weir');
  const target = packageRoot();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if ((await readlink(link)) === target) return;
      await unlink(link);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EINVAL')
        await rm(link, { recursive: true, force: true }); // a real file or directory
      else if (code !== 'ENOENT') throw e;
    }
    try {
      await symlink(target, link, 'dir');
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // a concurrent extraction won; re-check
    }
  }
  throw new Error(`cannot link ${link} to ${target}`);
}

/**
 * Validates the bundle and writes its files into `dir`. Only the manifest and the entry are
 * written, under names already checked, so nothing can land outside `dir`. Idempotent.
 */
export async function extractBundle(
  bundlePath: string,
  dir: string,
): Promise<{ entryPath: string; manifest: BundleManifest }> {
  const { manifest, entryCode } = await readBundleFile(bundlePath);
  const root = resolve(dir);
  const entryPath = join(root, normalizeMemberPath(manifest.entry));
  if (!entryPath.startsWith(root + '/')) throw invalid(`unsafe entry path '${manifest.entry}'`);
  await mkdir(dirname(entryPath), { recursive: true });
  await writeFileAtomic(join(root, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  await writeFileAtomic(entryPath, entryCode);
  await linkEngine(root);
  return { entryPath, manifest };
}
