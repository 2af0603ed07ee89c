// Row-format part files, as Flink's FileSink writes them: `part-<subtask>-<n>` in the target
// directory, hidden (leading dot, ".inprogress") while being written and renamed into view once
// complete. Keeping "in progress" and "committed" apart is what exactly-once commits build on.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const FLUSH_BYTES = 64 * 1024;

export interface PartFileConfig {
  dir: string;
  subtaskIndex: number;
  partPrefix: string;
  partSuffix: string;
  /** Roll to a new part file past this size. */
  rollBytes: number;
}

export class RowFormatPartWriter {
  private fd: number | undefined;
  private partCounter: number;
  private inProgressPath = '';
  private finalPath = '';
  private pending: string[] = [];
  private pendingBytes = 0;
  private written = 0;
  readonly committed: string[] = [];

  constructor(private readonly cfg: PartFileConfig) {
    mkdirSync(cfg.dir, { recursive: true });
    this.partCounter = this.nextFreeCounter();
  }

  /** Continue numbering after parts a previous run of this subtask left, never overwrite them. */
  private nextFreeCounter(): number {
    const prefix = `${this.cfg.partPrefix}-${this.cfg.subtaskIndex}-`;
    let max = -1;
    for (const f of readdirSync(this.cfg.dir)) {
      const name = f.startsWith('.') ? f.slice(1) : f;
      if (!name.startsWith(prefix)) continue;
      const n = parseInt(name.slice(prefix.length), 10);
      if (Number.isInteger(n) && n > max) max = n;
    }
    return max + 1;
  }

  write(line: string): void {
    if (this.fd === undefined) this.openPart();
    this.pending.push(line, '\n');
    this.pendingBytes += line.length + 1;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    if (this.written + this.pendingBytes >= this.cfg.rollBytes) this.commitPart();
  }

  private openPart(): void {
    const name = `${this.cfg.partPrefix}-${this.cfg.subtaskIndex}-${this.partCounter++}${this.cfg.partSuffix}`;
    this.finalPath = join(this.cfg.dir, name);
    this.inProgressPath = join(this.cfg.dir, `.${name}.inprogress`);
    this.fd = openSync(this.inProgressPath, 'w');
    this.written = 0;
  }

  flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    const buf = Buffer.from(this.pending.join(''), 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
    this.written += buf.length;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Closes the current part and makes it visible under its final name. */
  commitPart(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
    if (existsSync(this.finalPath)) throw new Error(`part file ${this.finalPath} already exists`);
    renameSync(this.inProgressPath, this.finalPath);
    this.committed.push(this.finalPath);
  }

  /** Stops writing without publishing the current part (cancel or failure). */
  abort(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
