// A checkpoint directory that really cannot be written, for the tests of checkpoint storage
// failures. As root (where chmod stops nothing) a small tmpfs is mounted: filled up, and kept full,
// it gives ENOSPC; remounted read-only, EROFS. Without the privilege to mount, root gets ENOTDIR (the job's
// checkpoint directory replaced by a file), anyone else EACCES (chmod 0555).
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type StorageFault = 'full' | 'read-only';
export type FaultMethod = 'tmpfs' | 'chmod' | 'file';

export class CheckpointStorageFaults {
  readonly root: string;
  readonly method: FaultMethod;
  private undo: (() => void) | undefined;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'weir-cp-storage-'));
    // WEIR_TEST_STORAGE_FAULTS=file|chmod tries a fallback on a machine that could do better.
    const forced = process.env.WEIR_TEST_STORAGE_FAULTS;
    if (forced === 'file' || forced === 'chmod') this.method = forced;
    else if (process.getuid?.() !== 0) this.method = 'chmod';
    else this.method = tryMount(this.root) ? 'tmpfs' : 'file';
  }

  /** The errno code `fault` produces with this method. */
  codeOf(fault: StorageFault): string {
    if (this.method === 'chmod') return 'EACCES';
    if (this.method === 'file') return 'ENOTDIR';
    return fault === 'full' ? 'ENOSPC' : 'EROFS';
  }

  /** Makes `jobDir` (a job's folder under root) unwritable. */
  async break(fault: StorageFault, jobDir: string): Promise<void> {
    if (this.undo) throw new Error('the checkpoint directory is broken already');
    if (this.method === 'chmod') {
      chmodSync(jobDir, 0o555);
      this.undo = () => chmodSync(jobDir, 0o755);
    } else if (this.method === 'file') {
      const aside = `${jobDir}.aside`;
      renameSync(jobDir, aside);
      writeFileSync(jobDir, 'not a directory');
      this.undo = () => {
        unlinkSync(jobDir);
        // Whatever the JobManager made meanwhile (nothing it could) gives way to the original.
        rmSync(jobDir, { recursive: true, force: true });
        renameSync(aside, jobDir);
      };
    } else if (fault === 'full') {
      const filler = join(this.root, 'filler');
      fill(filler);
      // Space freed later (the checkpoint before the fill deleted once the one being written when it
      // happened completes) would let the next checkpoints fit: the filler takes it back at once.
      const topUp = setInterval(() => fill(filler), 5);
      this.undo = () => {
        clearInterval(topUp);
        unlinkSync(filler);
      };
    } else {
      // A file open for writing at that moment makes the remount fail (busy): try again.
      for (let attempt = 0; ; attempt++) {
        try {
          execFileSync('mount', ['-o', 'remount,ro', this.root], { stdio: 'pipe' });
          break;
        } catch (e) {
          if (attempt >= 50) throw e;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      this.undo = () => execFileSync('mount', ['-o', 'remount,rw', this.root]);
    }
  }

  fix(): void {
    const undo = this.undo;
    this.undo = undefined;
    undo?.();
  }

  /** After the cluster stopped: writable again, unmounted, removed. */
  cleanup(): void {
    try {
      this.fix();
    } catch {
      // unmounting below undoes a tmpfs fault anyway
    }
    if (this.method === 'tmpfs') {
      try {
        execFileSync('umount', ['-l', this.root]);
      } catch {
        // already gone
      }
    }
    if (existsSync(this.root)) rmSync(this.root, { recursive: true, force: true });
  }
}

function tryMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'ignore' });
    mkdirSync(join(dir, '.probe'));
    rmSync(join(dir, '.probe'), { recursive: true });
    return true;
  } catch {
    return false;
  }
}

/** Writes `path` until the file system is full, to the last byte. */
function fill(path: string): void {
  for (const chunk of [1 << 16, 1 << 12, 1 << 8, 1]) {
    const data = Buffer.alloc(chunk, 0x61);
    for (;;) {
      try {
        appendFileSync(path, data);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw e;
      }
    }
  }
}
