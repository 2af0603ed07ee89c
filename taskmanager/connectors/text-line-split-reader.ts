// Reads one file as lines, synchronously, a chunk at a time. Lines are cut on bytes (a "\n" byte
// never occurs inside a multibyte UTF-8 character) and decoded whole, so characters split across
// chunks decode correctly. `offset` is always the byte offset of the next line: what a checkpoint
// stores and a restore resumes from.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export const DEFAULT_CHUNK_BYTES = 64 * 1024;
const LF = 0x0a;
const CR = 0x0d;

export class TextLineSplitReader {
  private fd: number | undefined;
  private buf: Buffer;
  /** buf[start, end) holds the file's bytes from `offset` on; [start, scanned) has no LF. */
  private start = 0;
  private end = 0;
  private scanned = 0;
  private readPos: number;
  private eof = false;
  private checkedSize = false;

  constructor(
    readonly path: string,
    /** Byte offset of the next line. */
    public offset: number,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new RangeError(`FileSource: invalid offset ${String(offset)} for ${path}`);
    if (!(chunkBytes > 0)) throw new RangeError(`FileSource: chunk size must be positive, got ${chunkBytes}`);
    this.buf = Buffer.allocUnsafe(chunkBytes);
    this.readPos = offset;
  }

  /** The next line without its terminator (\n or \r\n), or undefined at the end of the file. */
  nextLine(): string | undefined {
    for (;;) {
      const lf = this.end > this.scanned ? this.buf.indexOf(LF, this.scanned) : -1;
      if (lf !== -1 && lf < this.end) {
        const lineEnd = lf > this.start && this.buf[lf - 1] === CR ? lf - 1 : lf;
        const line = this.buf.toString('utf8', this.start, lineEnd);
        this.offset += lf + 1 - this.start;
        this.start = this.scanned = lf + 1;
        return line;
      }
      this.scanned = this.end;
      if (this.eof) {
        if (this.start === this.end) return undefined;
        // The last line has no terminator.
        const line = this.buf.toString('utf8', this.start, this.end);
        this.offset += this.end - this.start;
        this.start = this.scanned = this.end;
        return line;
      }
      this.fill();
    }
  }

  private fill(): void {
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.scanned -= this.start;
      this.start = 0;
    }
    if (this.end === this.buf.length) {
      // A line longer than the buffer: double it, so a long line costs linear copying.
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    const fd = this.open();
    let n: number;
    try {
      n = readSync(fd, this.buf, this.end, Math.min(this.chunkBytes, this.buf.length - this.end), this.readPos);
    } catch (e) {
      throw new Error(`FileSource: reading ${this.path} failed: ${(e as Error).message}`, { cause: e });
    }
    if (n === 0) this.eof = true;
    this.end += n;
    this.readPos += n;
  }

  private open(): number {
    if (this.fd !== undefined) return this.fd;
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(
        code === 'ENOENT'
          ? `FileSource: file ${this.path} does not exist`
          : `FileSource: cannot open ${this.path}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    if (!this.checkedSize) {
      const size = fstatSync(fd).size;
      if (size < this.offset) {
        closeSync(fd);
        throw new Error(
          `FileSource: cannot resume ${this.path} at byte ${this.offset}: the file has only ${size} bytes (was it replaced?)`,
        );
      }
      this.checkedSize = true;
    }
    this.fd = fd;
    return fd;
  }

  /** Closes the file between batches; the next read reopens it where reading stopped. */
  release(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }
}
