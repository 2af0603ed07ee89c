// With high-availability.type: file there is no election, so two JobManagers pointed at one
// storage directory would both resume its jobs. A lock file names the JobManager that owns the
// directory; one left by a process that is gone (SIGKILL, reboot) is taken over.
import { hostname } from 'node:os';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../../common/process-alive.js';

export class StorageLock {
  private readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, 'jobmanager.lock');
  }

  async acquire(): Promise<void> {
    const me = JSON.stringify({ pid: process.pid, hostname: hostname(), since: Date.now() });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(this.path, me, { flag: 'wx' });
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new Error(`cannot lock ${this.path}: ${(e as Error).message}`, { cause: e });
      }
      const owner = await readFile(this.path, 'utf8')
        .then((t) => JSON.parse(t) as { pid?: number; hostname?: string })
        .catch(() => ({}) as { pid?: number; hostname?: string });
      if (owner.hostname && owner.hostname !== hostname()) {
        throw new Error(
          `${this.path} is held by a JobManager on ${owner.hostname} (pid ${owner.pid}); high-availability.type: file allows one JobManager per storage directory (use etcd for standbys), or delete the lock file if that JobManager is gone`,
        );
      }
      if (owner.pid && owner.pid !== process.pid && processAlive(owner.pid)) {
        throw new Error(
          `${this.path} is held by a running JobManager (pid ${owner.pid}); high-availability.type: file allows one JobManager per storage directory`,
        );
      }
      await rm(this.path, { force: true });
    }
    throw new Error(`cannot lock ${this.path}: another JobManager took it at the same moment`);
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true }).catch(() => undefined);
  }
}
