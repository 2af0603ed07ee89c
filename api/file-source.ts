// FileSource descriptor (Flink's FileSource.forRecordStreamFormat(new TextLineInputFormat(), path)):
// one split per file. The JobManager lists the paths and hands the files out to the source's
// subtasks as they ask (jobmanager/file-split-enumerator.ts); with monitorContinuously it lists
// them again every interval and the source is endless. A split's position (byte offset of the next
// line) is the reader's checkpointed state, and the files not handed out yet are the enumerator's,
// so a restored job rereads nothing and skips nothing.
import { durationMs, type RollingDuration } from './file-sink-rolling.js';
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
  declare private readonly __record?: T;

  private constructor(
    /**
     * Files and directories to read, as given; a directory stands for the regular files below it,
     * recursively, but for names starting with '.' or '_', sorted by path.
     */
    readonly paths: readonly string[],
    readonly format: TextLineInputFormat,
    /** monitorContinuously's interval: files are discovered every this many ms and the source never ends. */
    readonly discoveryIntervalMs?: number,
  ) {}

  get boundedness(): Boundedness {
    return this.discoveryIntervalMs === undefined ? 'BOUNDED' : 'CONTINUOUS_UNBOUNDED';
  }

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
    return new FileSourceBuilder<string>(paths, format, (ps, f, i) => new FileSource<string>(ps, f, i));
  }
}

export class FileSourceBuilder<T> {
  private discoveryIntervalMs: number | undefined;

  constructor(
    private readonly paths: readonly string[],
    private readonly format: TextLineInputFormat,
    private readonly make: (
      paths: readonly string[],
      format: TextLineInputFormat,
      discoveryIntervalMs: number | undefined,
    ) => FileSource<T>,
  ) {}

  /**
   * Makes the source endless (Flink's monitorContinuously): the JobManager lists the paths again
   * every `discoveryInterval` (ms, a string such as "10 s", or a Duration) and hands out each file
   * it has not seen before, once. Files already seen are not read again, even when they change.
   */
  monitorContinuously(discoveryInterval: RollingDuration): this {
    this.discoveryIntervalMs = durationMs(discoveryInterval, 'monitorContinuously()');
    return this;
  }

  /** Back to a bounded source that reads the files there are when the job starts (the default). */
  processStaticFileSet(): this {
    this.discoveryIntervalMs = undefined;
    return this;
  }

  build(): FileSource<T> {
    return this.make([...this.paths], this.format, this.discoveryIntervalMs);
  }
}
