// Deployments on disk: one JSON file per deployment and a copy of every bundle a deployment runs
// (so that a rollback, a resume or a standby JobManager never depends on an uploaded jar still being
// there). With high availability they live under <storageDir>/<cluster-id>/deployments, where a
// standby JobManager sees them; else under the JobManager's working directory. Every write is a
// durable replace (temp file, fsync, rename).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory } from '../../common/files.js';
import type { Logger } from '../../common/logging.js';
import { writeDurably } from '../ha/file-job-store.js';
import { invalidRecord, type DeploymentRecord } from './deployment-record.js';

const RECORD_FILE = /^([a-z0-9-]+)\.json$/;

export class DeploymentStore {
  readonly bundlesDir: string;

  constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {
    this.bundlesDir = join(dir, 'bundles');
  }

  async open(): Promise<void> {
    try {
      await mkdir(this.bundlesDir, { recursive: true });
    } catch (e) {
      throw new Error(`cannot use the deployment store ${this.dir}: ${(e as Error).message}`, { cause: e });
    }
  }

  private path(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /** Every readable deployment; damaged files are logged and left for a person to look at. */
  async list(): Promise<DeploymentRecord[]> {
    const out: DeploymentRecord[] = [];
    for (const file of await readdir(this.dir)) {
      const m = RECORD_FILE.exec(file);
      if (!m) continue;
      const record = await this.get(m[1]!);
      if (record) out.push(record);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<DeploymentRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const record = JSON.parse(text) as unknown;
      const problem = invalidRecord(record, name);
      if (problem) throw new Error(problem);
      return record as DeploymentRecord;
    } catch (e) {
      this.log.error(
        { file: this.path(name), err: (e as Error).message },
        'a deployment record is damaged; it is ignored',
      );
      return undefined;
    }
  }

  async put(record: DeploymentRecord): Promise<void> {
    record.updatedAt = Date.now();
    await writeDurably(this.path(record.name), JSON.stringify(record, null, 1));
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
    syncDirectory(this.dir);
  }

  bundlePath(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`invalid bundle hash '${hash}'`);
    return join(this.bundlesDir, `${hash}.weir`);
  }

  hasBundle(hash: string): boolean {
    return existsSync(this.bundlePath(hash));
  }

  /** Keeps a copy of a bundle a deployment runs. */
  async putBundle(hash: string, source: string): Promise<void> {
    if (this.hasBundle(hash)) return;
    await writeDurably(this.bundlePath(hash), await readFile(source));
  }

  /** Removes bundles that no deployment's applied or running spec refers to. */
  async collectBundles(): Promise<void> {
    const used = new Set<string>();
    for (const r of await this.list()) {
      used.add(r.spec.bundleHash);
      if (r.running) used.add(r.running.spec.bundleHash);
    }
    for (const file of await readdir(this.bundlesDir)) {
      const hash = file.replace(/\.weir$/, '');
      if (file.endsWith('.weir') && !used.has(hash)) await rm(join(this.bundlesDir, file), { force: true });
    }
  }
}
