// Bundles on this TaskManager: fetched from the JobManager by id (the sha256 of the file),
// verified, extracted once and shared by every task of the job.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { extractBundle } from '../common/bundle.js';

export class BundleCache {
  private readonly entries = new Map<string, Promise<string>>();

  constructor(
    private readonly dir: string,
    private readonly jobManager: () => grpc.Client,
  ) {}

  /** Path of the bundle's extracted entry module. */
  entryPath(bundleId: string): Promise<string> {
    let p = this.entries.get(bundleId);
    if (!p) {
      p = this.load(bundleId);
      p.catch(() => this.entries.delete(bundleId));
      this.entries.set(bundleId, p);
    }
    return p;
  }

  private async load(bundleId: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(bundleId)) throw new Error(`invalid bundle id '${bundleId}'`);
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${bundleId}.weir`);
    if (!existsSync(file)) {
      const data = await this.fetch(bundleId);
      const actual = createHash('sha256').update(data).digest('hex');
      if (actual !== bundleId) throw new Error(`bundle ${bundleId} arrived corrupted (sha256 ${actual})`);
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      await writeFile(tmp, data);
      await rename(tmp, file);
    }
    const { entryPath } = await extractBundle(file, join(this.dir, bundleId));
    return entryPath;
  }

  private fetch(bundleId: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const call = (
        this.jobManager() as unknown as { FetchBundle(req: unknown): grpc.ClientReadableStream<{ data: Buffer }> }
      ).FetchBundle({ bundleId });
      call.on('data', (c: { data: Buffer }) => chunks.push(c.data));
      call.on('end', () => resolve(Buffer.concat(chunks)));
      call.on('error', (e: Error) =>
        reject(new Error(`cannot fetch bundle ${bundleId} from the JobManager: ${e.message}`)),
      );
    });
  }
}
