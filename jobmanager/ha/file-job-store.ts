// Submitted jobs and their bundles under high-availability.storageDir: one JSON file per job in
// jobs/, one bundle per content hash in bundles/. Every write goes to a temporary file that is
// synced and renamed, so a JobManager killed at any moment leaves either the old record or the new.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { assertLeadership } from './leadership-fence.js';
import { join } from 'node:path';
import { syncDirectory } from '../../common/files.js';
import type { Logger } from '../../common/logging.js';
import { invalidRecord, type SubmittedJobRecord } from './job-record.js';

const JOB_FILE = /^([0-9a-f]{32})\.json$/;

export class FileJobStore {
  readonly jobsDir: string;
  readonly bundlesDir: string;
  /** Writes of one job run one after another, so an older record never overwrites a newer one. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    readonly storageDir: string,
    private readonly log: Logger,
  ) {
    this.jobsDir = join(storageDir, 'jobs');
    this.bundlesDir = join(storageDir, 'bundles');
  }

  async open(): Promise<void> {
    try {
      await mkdir(this.jobsDir, { recursive: true });
      await mkdir(this.bundlesDir, { recursive: true });
    } catch (e) {
      throw new Error(`cannot use high-availability.storageDir ${this.storageDir}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Every readable job record; damaged ones are logged and left on disk for a person to look at. */
  async list(): Promise<SubmittedJobRecord[]> {
    const out: SubmittedJobRecord[] = [];
    for (const name of await readdir(this.jobsDir)) {
      const m = JOB_FILE.exec(name);
      if (!m) continue;
      const path = join(this.jobsDir, name);
      try {
        const record = JSON.parse(await readFile(path, 'utf8')) as unknown;
        const problem = invalidRecord(record, m[1]!);
        if (problem) throw new Error(problem);
        out.push(record as SubmittedJobRecord);
      } catch (e) {
        // Removed while the directory was read (the job just ended): nothing to recover.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        this.log.error(
          { file: path, err: (e as Error).message },
          'a submitted job record in the high-availability storage is damaged; that job is not recovered',
        );
      }
    }
    return out.sort((a, b) => a.startTime - b.startTime);
  }

  put(record: SubmittedJobRecord): Promise<void> {
    return this.enqueue(record.jobId, () =>
      writeDurably(join(this.jobsDir, `${record.jobId}.json`), JSON.stringify(record)),
    );
  }

  remove(jobId: string): Promise<void> {
    return this.enqueue(jobId, async () => {
      assertLeadership(`removing the record of job ${jobId}`);
      await rm(join(this.jobsDir, `${jobId}.json`), { force: true });
      syncDirectory(this.jobsDir);
    });
  }

  bundlePath(bundleId: string): string {
    if (!/^[0-9a-f]{64}$/.test(bundleId)) throw new Error(`invalid bundle id '${bundleId}'`);
    return join(this.bundlesDir, `${bundleId}.weir`);
  }

  /** Keeps a copy of the bundle a job runs, for a JobManager that never saw its upload. */
  async putBundle(bundleId: string, source: string): Promise<void> {
    const target = this.bundlePath(bundleId);
    if (existsSync(target)) return;
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    await copyFile(source, tmp);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    assertLeadership(`storing bundle ${bundleId}`);
    await rename(tmp, target);
    syncDirectory(this.bundlesDir);
  }

  /** Removes bundles no record refers to any more. */
  async collectBundles(): Promise<void> {
    const used = new Set((await this.list()).map((r) => r.bundleId));
    for (const name of await readdir(this.bundlesDir)) {
      const id = name.replace(/\.weir$/, '');
      if (!name.endsWith('.weir') || used.has(id)) continue;
      assertLeadership(`removing bundle ${id}`);
      await rm(join(this.bundlesDir, name), { force: true });
    }
  }

  private enqueue(jobId: string, op: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(jobId) ?? Promise.resolve()).then(op);
    const settled = next.catch(() => undefined);
    this.queues.set(jobId, settled);
    void settled.then(() => {
      if (this.queues.get(jobId) === settled) this.queues.delete(jobId);
    });
    return next;
  }
}

/**
 * Writes `path` so that a crash leaves the old content or the new, never a part (temp file, fsync,
 * rename). Deployments use it too. The rename publishes: only while this JobManager may act.
 */
export async function writeDurably(path: string, text: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  assertLeadership(`writing ${path}`);
  await rename(tmp, path);
  syncDirectory(join(path, '..'));
}
