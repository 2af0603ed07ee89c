// Row-format part files, as Flink's FileSink writes them: records go to a hidden in-progress part
// `.<prefix>-<subtask>-<n><suffix>.inprogress`; a part is closed (flushed and fsync'd) when it
// reaches the size limit or when asked (a checkpoint, end of input) and handed on still hidden.
// Whoever receives it decides when it becomes visible: at once, or when its checkpoint completes.
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { hiddenPartName, type PartFileNaming } from './part-file-naming.js';

const FLUSH_BYTES = 64 * 1024;

export interface PartFileConfig {
  dir: string;
  subtaskIndex: number;
  naming: PartFileNaming;
  /** Roll to a new part file past this size. */
  rollBytes: number;
  /** Number of the first part this writer opens. */
  firstPartNumber: number;
}

/** A closed part, complete on disk under its hidden name. */
export interface ClosedPart {
  /** Final (visible) file name, relative to the sink directory. */
  name: string;
  /** Bytes written: the committed file has exactly this size. */
  size: number;
}

export class RowFormatPartWriter {
  private fd: number | undefined;
  private partNumber: number;
  private currentName = '';
  private pending: string[] = [];
  private pendingBytes = 0;
  private written = 0;

  constructor(
    private readonly cfg: PartFileConfig,
    private readonly onPartClosed: (part: ClosedPart) => void,
  ) {
    if (!(cfg.rollBytes > 0)) throw new RangeError(`FileSink: the part size limit must be positive, got ${cfg.rollBytes}`);
    mkdirSync(cfg.dir, { recursive: true });
    this.partNumber = cfg.firstPartNumber;
  }

  /** True while a part is open (records written since the last close). */
  get hasOpenPart(): boolean {
    return this.fd !== undefined;
  }

  write(line: string): void {
    if (this.fd === undefined) this.openPart();
    this.pending.push(line, '\n');
    this.pendingBytes += Buffer.byteLength(line, 'utf8') + 1;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    if (this.written + this.pendingBytes >= this.cfg.rollBytes) this.closePart();
  }

  private openPart(): void {
    this.currentName = this.cfg.naming.finalName(this.cfg.subtaskIndex, this.partNumber++);
    // 'wx': a hidden name that exists belongs to someone else's run; never write into it.
    this.fd = openSync(join(this.cfg.dir, hiddenPartName(this.currentName)), 'wx');
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

  /** Closes the open part durably and hands it on (still hidden); nothing happens when none is open. */
  closePart(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    try {
      this.flush();
      fsyncSync(fd);
    } finally {
      closeSync(fd);
      this.fd = undefined;
    }
    this.onPartClosed({ name: this.currentName, size: this.written });
  }

  /** Stops writing without handing on the open part (cancel or failure): it stays hidden. */
  abort(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    closeSync(fd);
  }
}
