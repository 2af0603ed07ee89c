// Small append-only JSON-lines files for the broker's metadata (committed offsets, transaction
// and producer-id state): one line per change, written without fsync (the page cache survives a
// killed process; the broker fdatasyncs periodically), replayed on start. A torn last line is
// ignored. The owner compacts the file (rewrites it as a snapshot of its live state) on start and
// again whenever the appends have made it several times larger than that live state, so a
// long-running broker's journals stay bounded by what it holds, not by what it has done.
import {
  closeSync,
  existsSync,
  fdatasync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { syncDirectory } from '../../common/files.js';

export interface JournalOptions {
  /** A file smaller than this is never compacted while running (default 1 MiB). */
  minCompactBytes?: number;
  /** Compact once the file is this many times the size of the last snapshot (default 4). */
  compactRatio?: number;
}

export class Journal<T> {
  private fd: number | undefined;
  private dirty = false;
  /** Current length of the file. */
  private bytes = 0;
  /** Length of the last snapshot written by rewrite(). */
  private snapshotBytes = 0;
  private readonly minCompactBytes: number;
  private readonly compactRatio: number;

  constructor(
    readonly path: string,
    opts: JournalOptions = {},
  ) {
    this.minCompactBytes = opts.minCompactBytes ?? 1024 * 1024;
    this.compactRatio = opts.compactRatio ?? 4;
  }

  /** Every complete entry of the file, oldest first. */
  load(): T[] {
    if (!existsSync(this.path)) return [];
    const text = readFileSync(this.path, 'utf8');
    this.bytes = Buffer.byteLength(text);
    const out: T[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as T);
      } catch {
        // a line torn by a crash: everything before it is intact
      }
    }
    return out;
  }

  /**
   * Replaces the file with `entries`, crash-safely (a temporary file, fsynced, renamed over the
   * journal, the directory fsynced): a crash leaves either the old file or the new one. Then
   * keeps it open for appends.
   */
  rewrite(entries: Iterable<T>): void {
    this.close();
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    let size = 0;
    try {
      // Written in chunks: a snapshot may be large, and one giant string is wasteful.
      let chunk: string[] = [];
      let chunkLen = 0;
      const put = () => {
        if (chunk.length === 0) return;
        const buf = Buffer.from(chunk.join(''));
        let written = 0;
        while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written);
        size += buf.length;
        chunk = [];
        chunkLen = 0;
      };
      for (const e of entries) {
        const line = JSON.stringify(e) + '\n';
        chunk.push(line);
        chunkLen += line.length;
        if (chunkLen >= 256 * 1024) put();
      }
      put();
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    syncDirectory(dirname(this.path));
    this.bytes = size;
    this.snapshotBytes = size;
    this.dirty = false;
    this.fd = openSync(this.path, 'a');
  }

  append(entry: T): void {
    if (this.fd === undefined) {
      this.fd = openSync(this.path, 'a');
      this.bytes = statSync(this.path).size;
    }
    const buf = Buffer.from(JSON.stringify(entry) + '\n');
    let written = 0;
    while (written < buf.length) written += writeSync(this.fd, buf, written, buf.length - written);
    this.bytes += buf.length;
    this.dirty = true;
  }

  /** Whether the file has outgrown its last snapshot enough to be worth compacting. */
  get shouldCompact(): boolean {
    return this.bytes > this.minCompactBytes && this.bytes > this.compactRatio * this.snapshotBytes;
  }

  /** Current length of the file in bytes. */
  get size(): number {
    return this.bytes;
  }

  flush(): void {
    if (this.fd !== undefined && this.dirty) {
      this.dirty = false;
      fdatasync(this.fd, () => {});
    }
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
