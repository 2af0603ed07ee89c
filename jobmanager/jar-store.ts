// Uploaded bundles ("jars" in Flink's REST vocabulary), kept on disk under the JobManager's
// working directory so they survive a JobManager restart. TaskManagers fetch them by bundle id.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extractBundle, parseBundle, type BundleManifest } from '../common/bundle.js';

export interface JarInfo {
  /** Flink-style jar id: "<bundle hash prefix>_<file name>". */
  id: string;
  bundleId: string;
  name: string;
  uploaded: number;
  manifest: BundleManifest;
}

export class JarStore {
  private readonly jars = new Map<string, JarInfo>();
  private readonly extracting = new Map<string, Promise<string>>();

  constructor(private readonly dir: string) {}

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const f of await readdir(this.dir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const info = JSON.parse(await readFile(join(this.dir, f), 'utf8')) as JarInfo;
        if (existsSync(this.bundlePath(info.bundleId))) this.jars.set(info.id, info);
      } catch {
        // A damaged metadata file only loses the listing entry; the bundle itself stays.
      }
    }
  }

  bundlePath(bundleId: string): string {
    if (!/^[0-9a-f]{64}$/.test(bundleId)) throw new Error(`invalid bundle id '${bundleId}'`);
    return join(this.dir, `${bundleId}.weir`);
  }

  /** Validates and stores an uploaded bundle; throws a clear error for anything that is not one. */
  async add(fileName: string, data: Buffer): Promise<JarInfo> {
    const { id: bundleId, manifest } = await parseBundle(data);
    // File-system safe and short: the id names a file (<id>.json) and appears in URLs.
    const safeName = (fileName || `${manifest.name}.weir`).replace(/[^A-Za-z0-9._-]/g, '_').slice(-128);
    const id = `${bundleId.slice(0, 32)}_${safeName}`;
    const path = this.bundlePath(bundleId);
    if (!existsSync(path)) {
      const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      await writeFile(tmp, data);
      await rename(tmp, path);
    }
    const info: JarInfo = { id, bundleId, name: safeName, uploaded: Date.now(), manifest };
    await writeFile(join(this.dir, `${id}.json`), JSON.stringify(info));
    this.jars.set(id, info);
    return info;
  }

  get(id: string): JarInfo | undefined {
    return this.jars.get(id);
  }

  list(): JarInfo[] {
    return [...this.jars.values()].sort((a, b) => b.uploaded - a.uploaded);
  }

  async delete(id: string): Promise<boolean> {
    const info = this.jars.get(id);
    if (!info) return false;
    this.jars.delete(id);
    await rm(join(this.dir, `${id}.json`), { force: true });
    // The bundle file stays while another jar entry or a running job may still use it.
    return true;
  }

  /** Extracts a bundle once (concurrent callers share the work); returns the entry module path. */
  entryPath(bundleId: string): Promise<string> {
    let p = this.extracting.get(bundleId);
    if (!p) {
      p = extractBundle(this.bundlePath(bundleId), join(this.dir, bundleId)).then((r) => r.entryPath);
      p.catch(() => this.extracting.delete(bundleId));
      this.extracting.set(bundleId, p);
    }
    return p;
  }
}
