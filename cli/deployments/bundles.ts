// The bundle of each document, known by its content hash before anything is sent: a .weir file as
// it is, or a job module (.ts, .js) bundled first into a temporary directory. Bundling is
// reproducible, so the same source gives the same hash and a second apply changes nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { createBundle, readBundleFile } from '../../common/bundle.js';
import { CliError } from '../errors.js';
import { bundlePathOf, where, type LoadedDocument } from './manifest.js';

export interface ResolvedBundle {
  /** The .weir file to upload. */
  path: string;
  /** sha256 of the bundle file: the bundle's identity. */
  hash: string;
  /** File name the JobManager shows. */
  name: string;
}

const MODULE = /\.(ts|mts|js|mjs)$/i;

export class BundleResolver {
  private readonly cache = new Map<string, Promise<ResolvedBundle>>();
  private tmp: string | undefined;

  resolve(d: LoadedDocument): Promise<ResolvedBundle> {
    const path = bundlePathOf(d);
    let p = this.cache.get(path);
    if (!p) {
      p = this.load(path);
      this.cache.set(path, p);
    }
    return p.catch((e: Error) => {
      throw new CliError(`${where(d)} (${d.document.metadata.name}): spec.bundle: ${e.message}`);
    });
  }

  private async load(path: string): Promise<ResolvedBundle> {
    if (MODULE.test(path)) {
      this.tmp ??= mkdtempSync(join(tmpdir(), 'weir-apply-'));
      const name = `${basename(path, extname(path))}.weir`;
      const out = join(this.tmp, `${this.cache.size}-${name}`);
      const { id } = await createBundle(path, out);
      return { path: out, hash: id, name };
    }
    const { id } = await readBundleFile(path);
    return { path, hash: id, name: basename(path) };
  }

  /** Removes the bundles made from job modules. */
  dispose(): void {
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
  }
}
