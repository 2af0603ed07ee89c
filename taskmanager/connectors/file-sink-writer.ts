// Row-format part files of one bucket, as Flink's FileSink writes them: records go to a hidden
// in-progress part `.<prefix>-<subtask>-<n><suffix>.inprogress` in the bucket's directory. The
// part stays open across checkpoints: persist() makes what was written so far durable and reports
// its valid length, which a checkpoint records so a restore can cut the file back to it and resume
// writing. closePart() rolls the part (flushed and fsync'd) and hands it on, still hidden; whoever
// receives it decides when it becomes visible: at once, or when the checkpoint after the roll completes.
import { closeSync, fsyncSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PartFileInfo } from '../../api/file-sink-rolling.js';
import { hiddenPartName, type PartFileNaming } from './part-file-naming.js';

const FLUSH_BYTES = 64 * 1024;

export interface PartFileConfig {
  /** The sink's directory (absolute). */
  dir: string;
  /** The bucket: a relative path under `dir`, '' for `dir` itself. */
  bucketId?: string;
  subtaskIndex: number;
  naming: PartFileNaming;
  /** Number of the first part this writer opens; by default the first after every part of this subtask in the bucket's directory. */
  firstPartNumber?: number;
}

/** A closed part, complete on disk under its hidden name. */
export interface ClosedPart {
  /** Bucket directory relative to the sink's directory; absent for the sink's directory itself. */
  bucket?: string;
  /** Final (visible) file name, inside the bucket's directory. */
  name: string;
  /** Bytes written: the committed file has exactly this size. */
  size: number;
}

/** An open part as a checkpoint records it: resumed at `size` bytes after a restore. */
export interface InProgressPart extends ClosedPart {
  /** Processing time the part was opened and last written to (epoch ms), for time-based rolling. */
  creationTime: number;
  lastUpdateTime: number;
}

/** The directory of `bucket` under `dir`. */
export function bucketDir(dir: string, bucket: string | undefined): string {
  return bucket ? join(dir, bucket) : dir;
}

export class RowFormatPartWriter implements PartFileInfo<string> {
  readonly bucketId: string;
  /** The bucket's directory (absolute). */
  readonly bucketPath: string;
  private fd: number | undefined;
  private nextPartNumber: number | undefined;
  private currentName = '';
  private pending: string[] = [];
  private pendingBytes = 0;
  private written = 0;
  /** Bytes made durable by the last persist() of the open part. */
  private persisted = -1;
  private creationTime = 0;
  private lastUpdateTime = 0;

  constructor(
    private readonly cfg: PartFileConfig,
    private readonly onPartClosed: (part: ClosedPart) => void,
  ) {
    this.bucketId = cfg.bucketId ?? '';
    this.bucketPath = bucketDir(cfg.dir, this.bucketId);
    this.nextPartNumber = cfg.firstPartNumber;
  }

  /** True while a part is open. */
  get hasOpenPart(): boolean {
    return this.fd !== undefined;
  }

  getBucketId(): string {
    return this.bucketId;
  }

  getCreationTime(): number {
    return this.creationTime;
  }

  /** Bytes of the open part, including what is still buffered. */
  getSize(): number {
    return this.written + this.pendingBytes;
  }

  getLastUpdateTime(): number {
    return this.lastUpdateTime;
  }

  /** Appends one record (a line) to the open part, opening a new one if none is open. */
  write(line: string, now: number): void {
    if (this.fd === undefined) this.openPart(now);
    this.pending.push(line, '\n');
    this.pendingBytes += Buffer.byteLength(line, 'utf8') + 1;
    this.lastUpdateTime = now;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private openPart(now: number): void {
    mkdirSync(this.bucketPath, { recursive: true });
    // Numbering never reuses a name of this subtask in the bucket, committed or hidden.
    this.nextPartNumber ??= this.cfg.naming.nextPartNumber(this.bucketPath, this.cfg.subtaskIndex);
    this.currentName = this.cfg.naming.finalName(this.cfg.subtaskIndex, this.nextPartNumber++);
    // 'wx': a hidden name that exists belongs to someone else's run; never write into it.
    this.fd = openSync(join(this.bucketPath, hiddenPartName(this.currentName)), 'wx');
    this.written = 0;
    this.persisted = -1;
    this.creationTime = now;
    this.lastUpdateTime = now;
  }

  /**
   * Reopens a part a checkpoint recorded (its hidden file already cut back to `part.size`) and
   * appends to it from there.
   */
  resume(part: InProgressPart): void {
    if (this.fd !== undefined)
      throw new Error(
        `FileSink: cannot resume ${part.name} in bucket '${this.bucketId}': part ${this.currentName} is open`,
      );
    const path = join(this.bucketPath, hiddenPartName(part.name));
    const fd = openSync(path, 'a');
    const size = statSync(path).size;
    if (size !== part.size) {
      closeSync(fd);
      throw new Error(`FileSink: cannot resume ${path}: it has ${size} bytes, the checkpoint recorded ${part.size}`);
    }
    this.fd = fd;
    this.currentName = part.name;
    this.written = part.size;
    this.persisted = part.size;
    this.creationTime = part.creationTime;
    this.lastUpdateTime = part.lastUpdateTime;
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

  /**
   * At a checkpoint: makes the open part durable up to what was written and returns it as the
   * checkpoint records it (undefined when no part is open). The part stays open.
   */
  persist(): InProgressPart | undefined {
    if (this.fd === undefined) return undefined;
    this.flush();
    if (this.persisted !== this.written) {
      fsyncSync(this.fd);
      this.persisted = this.written;
    }
    return { ...this.location(this.written), creationTime: this.creationTime, lastUpdateTime: this.lastUpdateTime };
  }

  private location(size: number): ClosedPart {
    return this.bucketId ? { bucket: this.bucketId, name: this.currentName, size } : { name: this.currentName, size };
  }

  /** Rolls: closes the open part durably and hands it on (still hidden); nothing happens when none is open. */
  closePart(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    try {
      this.flush();
      if (this.persisted !== this.written) fsyncSync(fd);
    } finally {
      closeSync(fd);
      this.fd = undefined;
    }
    this.onPartClosed(this.location(this.written));
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
