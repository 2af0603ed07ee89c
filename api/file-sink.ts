// FileSink descriptor (Flink's FileSink.forRowFormat): where and how rows are written. Writing
// files, rolling parts and committing happen in the TaskManager's connector runtime: with
// checkpointing, parts roll at every checkpoint and become visible when it completes
// (exactly-once); without, a part is visible once it is rolled or the input ends.

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

/** Flink's DefaultRollingPolicy default part size: 128 MiB. */
export const DEFAULT_MAX_PART_SIZE = 128 * 1024 * 1024;

/** When a part file is rolled besides at checkpoints (Flink's DefaultRollingPolicy; part size only). */
export class DefaultRollingPolicy {
  private constructor(readonly maxPartSize: number) {}

  static builder(): DefaultRollingPolicyBuilder {
    return new DefaultRollingPolicyBuilder((size) => new DefaultRollingPolicy(size));
  }
}

export class DefaultRollingPolicyBuilder {
  private maxPartSize = DEFAULT_MAX_PART_SIZE;

  constructor(private readonly make: (maxPartSize: number) => DefaultRollingPolicy) {}

  /** Roll once a part holds this many bytes (a number, or an object with getBytes() like Flink's MemorySize). */
  withMaxPartSize(size: number | { getBytes(): number }): this {
    const bytes = typeof size === 'number' ? size : size && typeof size.getBytes === 'function' ? size.getBytes() : NaN;
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new RangeError(`DefaultRollingPolicy: the maximum part size must be a positive number of bytes, got ${String(bytes)}`);
    this.maxPartSize = bytes;
    return this;
  }

  build(): DefaultRollingPolicy {
    return this.make(this.maxPartSize);
  }
}

export class FileSink<T> {
  private constructor(
    readonly dir: string,
    readonly encoder: ((value: T) => string) | undefined,
    readonly partPrefix: string,
    readonly partSuffix: string,
    /** Bytes after which a part is rolled. */
    readonly maxPartSize: number,
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
  static create<T>(dir: string, encoder: ((value: T) => string) | undefined, cfg: Required<OutputFileConfig>, maxPartSize: number): FileSink<T> {
    return new FileSink<T>(dir, encoder, cfg.partPrefix, cfg.partSuffix, maxPartSize);
  }
}

export class FileSinkBuilder<T> {
  private partPrefix = 'part';
  private partSuffix = '';
  private rollingPolicy: DefaultRollingPolicy = DefaultRollingPolicy.builder().build();

  constructor(private readonly dir: string, private readonly encoder: ((value: T) => string) | undefined) {}

  withOutputFileConfig(config: OutputFileConfig): this {
    if (config.partPrefix !== undefined) this.partPrefix = String(config.partPrefix);
    if (config.partSuffix !== undefined) this.partSuffix = String(config.partSuffix);
    if (/[\\/]/.test(this.partPrefix) || /[\\/]/.test(this.partSuffix)) throw new RangeError('withOutputFileConfig(): part prefix and suffix must not contain path separators');
    return this;
  }

  withRollingPolicy(policy: DefaultRollingPolicy): this {
    if (!(policy instanceof DefaultRollingPolicy)) throw new TypeError('withRollingPolicy() needs a DefaultRollingPolicy (DefaultRollingPolicy.builder().withMaxPartSize(bytes).build())');
    this.rollingPolicy = policy;
    return this;
  }

  build(): FileSink<T> {
    return FileSink.create(this.dir, this.encoder, { partPrefix: this.partPrefix, partSuffix: this.partSuffix }, this.rollingPolicy.maxPartSize);
  }
}
