// Small append-only JSON-lines files for the broker's metadata (committed offsets, transaction
// and producer-id state): one line per change, written without fsync (the page cache survives a
// killed process), replayed and compacted on start. A torn last line is ignored.
import { closeSync, existsSync, fdatasync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export class Journal<T> {
  private fd: number | undefined;
  private dirty = false;

  constructor(readonly path: string) {}

  /** Every complete entry of the file, oldest first. */
  load(): T[] {
    if (!existsSync(this.path)) return [];
    const text = readFileSync(this.path, 'utf8');
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

  /** Replaces the file with `entries` (atomically), then keeps it open for appends. */
  rewrite(entries: T[]): void {
    this.close();
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    const text = entries.map((e) => JSON.stringify(e) + '\n').join('');
    if (text) writeSync(fd, text);
    closeSync(fd);
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, 'a');
  }

  append(entry: T): void {
    if (this.fd === undefined) this.fd = openSync(this.path, 'a');
    writeSync(this.fd, JSON.stringify(entry) + '\n');
    this.dirty = true;
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
