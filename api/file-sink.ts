// FileSink descriptor (Flink's FileSink.forRowFormat): where and how rows are written. Writing
// files, rolling parts and committing happen in the TaskManager's connector runtime.

export type Encoder<T> = ((value: T) => string) | { encode(value: T): string };

/** Writes each record as String(value), as Flink's SimpleStringEncoder does. */
export class SimpleStringEncoder<T = unknown> {
  constructor(charset = 'UTF-8') {
    if (charset.toUpperCase().replace('-', '') !== 'UTF8') throw new RangeError(`SimpleStringEncoder: only UTF-8 is supported, got ${charset}`);
  }

  encode(value: T): string {
    return String(value);
  }
}

export interface OutputFileConfig {
  partPrefix?: string;
  partSuffix?: string;
}

export class FileSink<T> {
  private constructor(
    readonly dir: string,
    readonly encoder: ((value: T) => string) | undefined,
    readonly partPrefix: string,
    readonly partSuffix: string,
  ) {}

  static forRowFormat<T>(dir: string, encoder?: Encoder<T>): FileSinkBuilder<T> {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('FileSink.forRowFormat() needs a directory path');
    let fn: ((value: T) => string) | undefined;
    if (encoder === undefined) fn = undefined;
    else if (typeof encoder === 'function') fn = encoder;
    else if (encoder && typeof encoder.encode === 'function') fn = (v: T) => encoder.encode(v);
    else throw new TypeError('FileSink.forRowFormat(): the encoder must be a function or an object with an encode() method');
    return new FileSinkBuilder<T>(dir, fn);
  }

  /** @internal used by the builder only */
  static create<T>(dir: string, encoder: ((value: T) => string) | undefined, cfg: Required<OutputFileConfig>): FileSink<T> {
    return new FileSink<T>(dir, encoder, cfg.partPrefix, cfg.partSuffix);
  }
}

export class FileSinkBuilder<T> {
  private partPrefix = 'part';
  private partSuffix = '';

  constructor(private readonly dir: string, private readonly encoder: ((value: T) => string) | undefined) {}

  withOutputFileConfig(config: OutputFileConfig): this {
    if (config.partPrefix !== undefined) this.partPrefix = String(config.partPrefix);
    if (config.partSuffix !== undefined) this.partSuffix = String(config.partSuffix);
    if (/[\\/]/.test(this.partPrefix) || /[\\/]/.test(this.partSuffix)) throw new RangeError('withOutputFileConfig(): part prefix and suffix must not contain path separators');
    return this;
  }

  build(): FileSink<T> {
    return FileSink.create(this.dir, this.encoder, { partPrefix: this.partPrefix, partSuffix: this.partSuffix });
  }
}
