// FileSource descriptor (Flink's FileSource.forRecordStreamFormat(new TextLineInputFormat(), path)):
// bounded, one split per file. Listing directories and reading lines happen in the
// TaskManager's connector runtime; a split's position (byte offset of the next line) is the
// source's checkpointed state, so a restored job rereads nothing and skips nothing.
import type { Boundedness } from './sources.js';

/** Reads a file as lines of UTF-8 text, without their terminators (\n or \r\n). */
export class TextLineInputFormat {
  readonly kind = 'text-line' as const;

  constructor(charset = 'UTF-8') {
    if (typeof charset !== 'string' || charset.toUpperCase().replace('-', '') !== 'UTF8') {
      throw new RangeError(`TextLineInputFormat: only UTF-8 is supported, got ${String(charset)}`);
    }
  }
}

export class FileSource<T = string> {
  readonly boundedness: Boundedness = 'BOUNDED';
  declare private readonly __record?: T;

  private constructor(
    /** Files and directories to read, as given; a directory stands for its regular, non-hidden files, sorted by name. */
    readonly paths: readonly string[],
    readonly format: TextLineInputFormat,
  ) {}

  /** Reads the given files and directories record by record with `format`. */
  static forRecordStreamFormat(format: TextLineInputFormat, ...paths: string[]): FileSourceBuilder<string> {
    if (!(format instanceof TextLineInputFormat))
      throw new TypeError('FileSource.forRecordStreamFormat() needs a TextLineInputFormat');
    if (paths.length === 0)
      throw new TypeError('FileSource.forRecordStreamFormat() needs at least one file or directory path');
    for (const p of paths) {
      if (typeof p !== 'string' || p.length === 0)
        throw new TypeError(
          `FileSource.forRecordStreamFormat(): paths must be non-empty strings, got ${JSON.stringify(p)}`,
        );
    }
    return new FileSourceBuilder<string>(paths, format, (ps, f) => new FileSource<string>(ps, f));
  }
}

export class FileSourceBuilder<T> {
  constructor(
    private readonly paths: readonly string[],
    private readonly format: TextLineInputFormat,
    private readonly make: (paths: readonly string[], format: TextLineInputFormat) => FileSource<T>,
  ) {}

  build(): FileSource<T> {
    return this.make([...this.paths], this.format);
  }
}
