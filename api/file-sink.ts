// FileSink descriptor (Flink's FileSink.forRowFormat): where and how rows are written, how they
// are split into buckets (sub-directories) and when part files roll. Writing, rolling and
// committing happen in the TaskManager's connector runtime. With periodic checkpoints a bucket's
// part stays in progress across checkpoints (each checkpoint records its valid length) until the
// rolling policy rolls it; a rolled part becomes visible when the checkpoint after the roll
// completes (exactly-once). Without periodic checkpoints a part is visible as soon as it rolls.
import { BasePathBucketAssigner, isBucketAssigner, type BucketAssigner } from './file-sink-buckets.js';
import {
  DefaultRollingPolicy,
  durationMs,
  isRollingPolicy,
  type RollingDuration,
  type RollingPolicy,
} from './file-sink-rolling.js';

export {
  DEFAULT_MAX_PART_SIZE,
  DEFAULT_ROLLOVER_INTERVAL,
  DEFAULT_INACTIVITY_INTERVAL,
  DefaultRollingPolicy,
  DefaultRollingPolicyBuilder,
  OnCheckpointRollingPolicy,
  type PartFileInfo,
  type RollingPolicy,
  type RollingDuration,
} from './file-sink-rolling.js';
export {
  BasePathBucketAssigner,
  DateTimeBucketAssigner,
  DEFAULT_BUCKET_FORMAT,
  type BucketAssigner,
  type BucketAssignerContext,
} from './file-sink-buckets.js';

export type Encoder<T> = ((value: T) => string) | { encode(value: T): string };

/** Writes each record as String(value), as Flink's SimpleStringEncoder does. */
export class SimpleStringEncoder<T = unknown> {
  constructor(charset = 'UTF-8') {
    if (charset.toUpperCase().replace('-', '') !== 'UTF8')
      throw new RangeError(`SimpleStringEncoder: only UTF-8 is supported, got ${charset}`);
  }

  encode(value: T): string {
    return String(value);
  }
}

/** Flink's default bucket check interval: time-based rolling is looked at once a minute. */
export const DEFAULT_BUCKET_CHECK_INTERVAL = 60_000;

function checkNamePart(what: string, v: string): string {
  if (/[\\/\0]/.test(v))
    throw new RangeError(`OutputFileConfig: the part ${what} must not contain path separators, got '${v}'`);
  return v;
}

/**
 * Names of the part files (Flink's OutputFileConfig): `<prefix>-<subtask>-<n><suffix>` once
 * committed, hidden as `.<name>.inprogress` until then. Defaults: prefix 'part', no suffix.
 */
export class OutputFileConfig {
  readonly partPrefix: string;
  readonly partSuffix: string;

  constructor(partPrefix = 'part', partSuffix = '') {
    this.partPrefix = checkNamePart('prefix', String(partPrefix));
    this.partSuffix = checkNamePart('suffix', String(partSuffix));
    if (this.partPrefix.startsWith('.'))
      throw new RangeError(
        `OutputFileConfig: the part prefix must not start with '.' (committed parts would look hidden), got '${this.partPrefix}'`,
      );
  }

  static builder(): OutputFileConfigBuilder {
    return new OutputFileConfigBuilder();
  }

  getPartPrefix(): string {
    return this.partPrefix;
  }

  getPartSuffix(): string {
    return this.partSuffix;
  }
}

export class OutputFileConfigBuilder {
  private partPrefix = 'part';
  private partSuffix = '';

  withPartPrefix(prefix: string): this {
    this.partPrefix = String(prefix);
    return this;
  }

  withPartSuffix(suffix: string): this {
    this.partSuffix = String(suffix);
    return this;
  }

  build(): OutputFileConfig {
    return new OutputFileConfig(this.partPrefix, this.partSuffix);
  }
}

/** What withOutputFileConfig() takes: an OutputFileConfig, or a plain { partPrefix, partSuffix }. */
export type OutputFileConfigLike = OutputFileConfig | { partPrefix?: string; partSuffix?: string };

export class FileSink<T> {
  /** Bytes after which a part rolls when the policy is a DefaultRollingPolicy (the field sinks had before rolling policies). */
  readonly maxPartSize: number | undefined;

  private constructor(
    readonly dir: string,
    readonly encoder: ((value: T) => string) | undefined,
    readonly partPrefix: string,
    readonly partSuffix: string,
    readonly rollingPolicy: RollingPolicy<T, string>,
    readonly bucketAssigner: BucketAssigner<T, unknown>,
    /** Milliseconds between the processing-time checks of the rolling policy. */
    readonly bucketCheckInterval: number,
  ) {
    this.maxPartSize = rollingPolicy instanceof DefaultRollingPolicy ? rollingPolicy.maxPartSize : undefined;
  }

  static forRowFormat<T>(dir: string, encoder?: Encoder<T>): FileSinkBuilder<T> {
    if (typeof dir !== 'string' || dir.length === 0)
      throw new TypeError('FileSink.forRowFormat() needs a directory path');
    let fn: ((value: T) => string) | undefined;
    if (encoder === undefined) fn = undefined;
    else if (typeof encoder === 'function') fn = encoder;
    else if (encoder && typeof encoder.encode === 'function') fn = (v: T) => encoder.encode(v);
    else
      throw new TypeError(
        'FileSink.forRowFormat(): the encoder must be a function or an object with an encode() method',
      );
    return new FileSinkBuilder<T>(dir, fn);
  }

  /** @internal used by the builder only */
  static create<T>(
    dir: string,
    encoder: ((value: T) => string) | undefined,
    cfg: OutputFileConfig,
    rollingPolicy: RollingPolicy<T, string>,
    bucketAssigner: BucketAssigner<T, unknown>,
    bucketCheckInterval: number,
  ): FileSink<T> {
    return new FileSink<T>(
      dir,
      encoder,
      cfg.partPrefix,
      cfg.partSuffix,
      rollingPolicy,
      bucketAssigner,
      bucketCheckInterval,
    );
  }
}

/** Flink's FileSink.RowFormatBuilder. */
export class FileSinkBuilder<T> {
  private outputFileConfig = new OutputFileConfig();
  private rollingPolicy: RollingPolicy<T, string> = DefaultRollingPolicy.builder().build() as RollingPolicy<T, string>;
  private bucketAssigner: BucketAssigner<T, unknown> = new BasePathBucketAssigner<T>();
  private bucketCheckInterval = DEFAULT_BUCKET_CHECK_INTERVAL;

  constructor(
    private readonly dir: string,
    private readonly encoder: ((value: T) => string) | undefined,
  ) {}

  /** Part file prefix and suffix: OutputFileConfig.builder().withPartPrefix(p).withPartSuffix(s).build(), or { partPrefix, partSuffix }. */
  withOutputFileConfig(config: OutputFileConfigLike): this {
    if (config instanceof OutputFileConfig) this.outputFileConfig = config;
    else if (config && typeof config === 'object') {
      this.outputFileConfig = new OutputFileConfig(
        config.partPrefix ?? this.outputFileConfig.partPrefix,
        config.partSuffix ?? this.outputFileConfig.partSuffix,
      );
    } else
      throw new TypeError(
        'withOutputFileConfig() needs an OutputFileConfig (OutputFileConfig.builder().withPartPrefix(p).withPartSuffix(s).build())',
      );
    return this;
  }

  /** DefaultRollingPolicy.builder()...build() (the default), OnCheckpointRollingPolicy.build(), or any RollingPolicy object. */
  withRollingPolicy(policy: RollingPolicy<T, string>): this {
    if (!isRollingPolicy(policy)) {
      throw new TypeError(
        'withRollingPolicy() needs a rolling policy: DefaultRollingPolicy.builder()...build(), OnCheckpointRollingPolicy.build(), or an object with shouldRollOnCheckpoint, shouldRollOnEvent and shouldRollOnProcessingTime',
      );
    }
    this.rollingPolicy = policy;
    return this;
  }

  /** Which bucket (sub-directory) each record goes to: new DateTimeBucketAssigner(), new BasePathBucketAssigner() (the default), or an object with getBucketId(element, context). */
  withBucketAssigner(assigner: BucketAssigner<T, unknown>): this {
    if (!isBucketAssigner(assigner))
      throw new TypeError(
        'withBucketAssigner() needs a bucket assigner: an object with getBucketId(element, context) such as new DateTimeBucketAssigner()',
      );
    this.bucketAssigner = assigner;
    return this;
  }

  /** How often the rolling policy's processing-time rule is checked (Flink's bucketCheckInterval; default 60 s). */
  withBucketCheckInterval(interval: RollingDuration): this {
    this.bucketCheckInterval = durationMs(interval, 'withBucketCheckInterval(): the interval');
    return this;
  }

  build(): FileSink<T> {
    return FileSink.create(
      this.dir,
      this.encoder,
      this.outputFileConfig,
      this.rollingPolicy,
      this.bucketAssigner,
      this.bucketCheckInterval,
    );
  }
}
