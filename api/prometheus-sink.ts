// PrometheusSink (Flink's flink-connector-prometheus): writes PrometheusTimeSeries records to a
// Prometheus remote-write endpoint. This file is the job-side descriptor (builders, the input
// type, the key selector); batching, HTTP and retries run in the TaskManager's connector runtime.
//
//   stream
//     .keyBy(new PrometheusTimeSeriesLabelsAndMetricNameKeySelector())
//     .sinkTo(PrometheusSink.builder().setPrometheusRemoteWriteUrl('http://prom:9090/api/v1/write').build());
//
// Prometheus rejects a sample older than the newest one of its series, so every series must be
// written by one subtask, in order: key the stream with the key selector above (or run the sink at
// parallelism 1). The sink keeps one request in flight per subtask and flushes at every checkpoint
// barrier and at end of input: at-least-once.

/** The label Prometheus keeps the metric name in. */
export const METRIC_NAME_LABEL_NAME = '__name__';

/** One label of a series (Flink's PrometheusTimeSeries.Label). */
export class PrometheusLabel {
  constructor(
    readonly name: string,
    readonly value: string,
  ) {}

  getName(): string {
    return this.name;
  }

  getValue(): string {
    return this.value;
  }
}

/** One sample: a value at a timestamp in epoch milliseconds (Flink's PrometheusTimeSeries.Sample). */
export class PrometheusSample {
  constructor(
    readonly value: number,
    readonly timestamp: number,
  ) {}

  getValue(): number {
    return this.value;
  }

  getTimestamp(): number {
    return this.timestamp;
  }
}

/** What the sink accepts: a PrometheusTimeSeries, or the same plain shape (records cross the network as plain objects). */
export interface PrometheusTimeSeriesLike {
  readonly metricName: string;
  readonly labels: readonly { readonly name: string; readonly value: string }[];
  readonly samples: readonly { readonly value: number; readonly timestamp: number }[];
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Checks a record is a series the sink can write: a non-empty metric name, string labels with
 * distinct non-empty names (not '__name__', which withMetricName sets), at least one sample, numeric
 * values and integer millisecond timestamps. Throws a TypeError naming what is wrong.
 */
export function checkTimeSeries(value: unknown): PrometheusTimeSeriesLike {
  const ts = value as Partial<PrometheusTimeSeriesLike> | null;
  if (typeof ts !== 'object' || ts === null)
    throw new TypeError(`PrometheusSink: a record must be a PrometheusTimeSeries, got ${describe(value)}`);
  if (typeof ts.metricName !== 'string' || ts.metricName.length === 0) {
    throw new TypeError(
      `PrometheusSink: a PrometheusTimeSeries needs a metric name (withMetricName), got ${describe(ts.metricName)}`,
    );
  }
  if (!Array.isArray(ts.labels)) throw new TypeError(`PrometheusSink: series '${ts.metricName}' has no labels array`);
  if (!Array.isArray(ts.samples) || ts.samples.length === 0)
    throw new TypeError(`PrometheusSink: series '${ts.metricName}' has no samples (addSample)`);
  const seen = new Set<string>();
  for (const l of ts.labels as unknown[]) {
    const label = l as { name?: unknown; value?: unknown } | null;
    if (
      typeof label !== 'object' ||
      label === null ||
      typeof label.name !== 'string' ||
      label.name.length === 0 ||
      typeof label.value !== 'string'
    ) {
      throw new TypeError(
        `PrometheusSink: series '${ts.metricName}' has an invalid label ${describe(l)} (labels need a non-empty name and a string value)`,
      );
    }
    if (label.name === METRIC_NAME_LABEL_NAME)
      throw new TypeError(
        `PrometheusSink: series '${ts.metricName}' has a label '${METRIC_NAME_LABEL_NAME}': set the metric name with withMetricName()`,
      );
    if (seen.has(label.name))
      throw new TypeError(`PrometheusSink: series '${ts.metricName}' has the label '${label.name}' twice`);
    seen.add(label.name);
  }
  for (const s of ts.samples as unknown[]) {
    const sample = s as { value?: unknown; timestamp?: unknown } | null;
    if (
      typeof sample !== 'object' ||
      sample === null ||
      typeof sample.value !== 'number' ||
      typeof sample.timestamp !== 'number' ||
      !Number.isSafeInteger(sample.timestamp)
    ) {
      throw new TypeError(
        `PrometheusSink: series '${ts.metricName}' has an invalid sample ${describe(s)} (a sample is a number value and an integer timestamp in epoch milliseconds)`,
      );
    }
  }
  return ts as PrometheusTimeSeriesLike;
}

/**
 * The identity of a series as Prometheus sees it: the metric name and the labels sorted by name,
 * as `name{a="x",b="y"}` (values JSON-quoted). Two records of one series give the same string.
 */
export function seriesIdentity(ts: PrometheusTimeSeriesLike): string {
  const labels =
    ts.labels.length > 1 ? [...ts.labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : ts.labels;
  let s = ts.metricName + '{';
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) s += ',';
    s += l.name + '=' + JSON.stringify(l.value);
  }
  return s + '}';
}

/**
 * The sink's input (Flink's PrometheusTimeSeries): one series, by its metric name and labels, with
 * one or more samples. Build it with PrometheusTimeSeries.builder().
 */
export class PrometheusTimeSeries implements PrometheusTimeSeriesLike {
  static readonly Label = PrometheusLabel;
  static readonly Sample = PrometheusSample;

  constructor(
    readonly metricName: string,
    readonly labels: PrometheusLabel[],
    readonly samples: PrometheusSample[],
  ) {}

  static builder(): PrometheusTimeSeriesBuilder {
    return new PrometheusTimeSeriesBuilder();
  }

  /** A builder holding a copy of another series' name, labels and samples. */
  static builderFrom(other: PrometheusTimeSeriesLike): PrometheusTimeSeriesBuilder {
    const b = new PrometheusTimeSeriesBuilder().withMetricName(other.metricName);
    for (const l of other.labels) b.addLabel(l.name, l.value);
    for (const s of other.samples) b.addSample(s.value, s.timestamp);
    return b;
  }

  getMetricName(): string {
    return this.metricName;
  }

  getLabels(): PrometheusLabel[] {
    return this.labels;
  }

  getSamples(): PrometheusSample[] {
    return this.samples;
  }
}

export declare namespace PrometheusTimeSeries {
  type Label = PrometheusLabel;
  type Sample = PrometheusSample;
  type Builder = PrometheusTimeSeriesBuilder;
}

export class PrometheusTimeSeriesBuilder {
  private metricName: string | undefined;
  private readonly labels: PrometheusLabel[] = [];
  private readonly samples: PrometheusSample[] = [];

  withMetricName(metricName: string): this {
    this.metricName = metricName;
    return this;
  }

  addLabel(labelName: string, labelValue: string): this {
    this.labels.push(new PrometheusLabel(labelName, labelValue));
    return this;
  }

  /** A sample: `value` at `timestamp` (epoch milliseconds, an integer). */
  addSample(value: number, timestamp: number): this {
    this.samples.push(new PrometheusSample(value, timestamp));
    return this;
  }

  build(): PrometheusTimeSeries {
    const ts = new PrometheusTimeSeries(this.metricName as string, [...this.labels], [...this.samples]);
    checkTimeSeries(ts);
    return ts;
  }
}

/**
 * keyBy() key of a series (Flink's PrometheusTimeSeriesLabelsAndMetricNameKeySelector): the metric
 * name and all labels, so every record of one series goes to the same sink subtask, in order.
 */
export class PrometheusTimeSeriesLabelsAndMetricNameKeySelector {
  getKey(timeSeries: PrometheusTimeSeriesLike): string {
    return seriesIdentity(timeSeries);
  }
}

/** What the sink does on an error (Flink's PrometheusSinkConfiguration.OnErrorBehavior). */
export const OnErrorBehavior = {
  /** Drop the samples of the request, count and log them, and go on. */
  DISCARD_AND_CONTINUE: 'DISCARD_AND_CONTINUE',
  /** Fail the task (and let the restart strategy decide). */
  FAIL: 'FAIL',
} as const;
export type OnErrorBehavior = (typeof OnErrorBehavior)[keyof typeof OnErrorBehavior];

function checkBehavior(b: unknown, what: string): OnErrorBehavior {
  if (b !== OnErrorBehavior.FAIL && b !== OnErrorBehavior.DISCARD_AND_CONTINUE) {
    throw new TypeError(
      `${what} must be OnErrorBehavior.FAIL or OnErrorBehavior.DISCARD_AND_CONTINUE, got ${describe(b)}`,
    );
  }
  return b;
}

function checkPositiveInt(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0)
    throw new RangeError(`${what} must be a positive integer, got ${describe(n)}`);
  return n;
}

/**
 * Exponential backoff of retried requests (Flink's PrometheusSinkConfiguration.RetryConfiguration):
 * retry n waits min(initialRetryDelayMS * 2^(n-1), maxRetryDelayMS); after maxRetryCount retries the
 * request has failed for good. Defaults: 30 ms, 5000 ms, 100 retries.
 */
export class RetryConfiguration {
  static readonly DEFAULT_INITIAL_RETRY_DELAY_MS = 30;
  static readonly DEFAULT_MAX_RETRY_DELAY_MS = 5000;
  static readonly DEFAULT_MAX_RETRY_COUNT = 100;

  constructor(
    readonly initialRetryDelayMS: number,
    readonly maxRetryDelayMS: number,
    readonly maxRetryCount: number,
  ) {
    checkPositiveInt(initialRetryDelayMS, 'RetryConfiguration: the initial retry delay');
    checkPositiveInt(maxRetryDelayMS, 'RetryConfiguration: the max retry delay');
    checkPositiveInt(maxRetryCount, 'RetryConfiguration: the max retry count');
    if (maxRetryDelayMS < initialRetryDelayMS)
      throw new RangeError(
        `RetryConfiguration: the max retry delay (${maxRetryDelayMS} ms) must be >= the initial retry delay (${initialRetryDelayMS} ms)`,
      );
  }

  static builder(): RetryConfigurationBuilder {
    return new RetryConfigurationBuilder();
  }

  getInitialRetryDelayMS(): number {
    return this.initialRetryDelayMS;
  }

  getMaxRetryDelayMS(): number {
    return this.maxRetryDelayMS;
  }

  getMaxRetryCount(): number {
    return this.maxRetryCount;
  }
}

export class RetryConfigurationBuilder {
  private initialRetryDelayMS = RetryConfiguration.DEFAULT_INITIAL_RETRY_DELAY_MS;
  private maxRetryDelayMS = RetryConfiguration.DEFAULT_MAX_RETRY_DELAY_MS;
  private maxRetryCount = RetryConfiguration.DEFAULT_MAX_RETRY_COUNT;

  setInitialRetryDelayMS(ms: number): this {
    this.initialRetryDelayMS = ms;
    return this;
  }

  setMaxRetryDelayMS(ms: number): this {
    this.maxRetryDelayMS = ms;
    return this;
  }

  setMaxRetryCount(count: number): this {
    this.maxRetryCount = count;
    return this;
  }

  build(): RetryConfiguration {
    return new RetryConfiguration(this.initialRetryDelayMS, this.maxRetryDelayMS, this.maxRetryCount);
  }
}

/**
 * What the writer does on each kind of error (Flink's SinkWriterErrorHandlingBehaviorConfiguration):
 * - onPrometheusNonRetryableError: a 4xx answer other than 403, 404 and 429 (out-of-order or
 *   duplicate samples, samples too old, bad labels). Default DISCARD_AND_CONTINUE. FAIL is
 *   accepted here, but note that after a restore the at-least-once replay rewrites samples
 *   Prometheus already has, which it refuses as out of order: with FAIL such a job keeps failing.
 * - onMaxRetryExceeded: a 5xx, 429 or network error still failing after the retries. Default FAIL.
 * 403 and 404 (wrong credentials or URL) and unexpected answers always fail the task.
 */
export class SinkWriterErrorHandlingBehaviorConfiguration {
  static readonly ON_MAX_RETRY_EXCEEDED_DEFAULT_BEHAVIOR: OnErrorBehavior = OnErrorBehavior.FAIL;
  static readonly ON_PROMETHEUS_NON_RETRYABLE_ERROR_DEFAULT_BEHAVIOR: OnErrorBehavior =
    OnErrorBehavior.DISCARD_AND_CONTINUE;
  static readonly DEFAULT_BEHAVIORS = new SinkWriterErrorHandlingBehaviorConfiguration(
    OnErrorBehavior.FAIL,
    OnErrorBehavior.DISCARD_AND_CONTINUE,
  );

  readonly onMaxRetryExceeded: OnErrorBehavior;
  readonly onPrometheusNonRetryableError: OnErrorBehavior;

  constructor(onMaxRetryExceeded: OnErrorBehavior, onPrometheusNonRetryableError: OnErrorBehavior) {
    this.onMaxRetryExceeded = checkBehavior(onMaxRetryExceeded, 'onMaxRetryExceeded');
    this.onPrometheusNonRetryableError = checkBehavior(onPrometheusNonRetryableError, 'onPrometheusNonRetryableError');
  }

  static builder(): SinkWriterErrorHandlingBehaviorConfigurationBuilder {
    return new SinkWriterErrorHandlingBehaviorConfigurationBuilder();
  }

  getOnMaxRetryExceeded(): OnErrorBehavior {
    return this.onMaxRetryExceeded;
  }

  getOnPrometheusNonRetryableError(): OnErrorBehavior {
    return this.onPrometheusNonRetryableError;
  }
}

export class SinkWriterErrorHandlingBehaviorConfigurationBuilder {
  private maxRetryExceeded: OnErrorBehavior | undefined;
  private nonRetryable: OnErrorBehavior | undefined;

  onMaxRetryExceeded(behavior: OnErrorBehavior): this {
    this.maxRetryExceeded = behavior;
    return this;
  }

  onPrometheusNonRetryableError(behavior: OnErrorBehavior): this {
    this.nonRetryable = behavior;
    return this;
  }

  build(): SinkWriterErrorHandlingBehaviorConfiguration {
    return new SinkWriterErrorHandlingBehaviorConfiguration(
      this.maxRetryExceeded ?? SinkWriterErrorHandlingBehaviorConfiguration.ON_MAX_RETRY_EXCEEDED_DEFAULT_BEHAVIOR,
      this.nonRetryable ??
        SinkWriterErrorHandlingBehaviorConfiguration.ON_PROMETHEUS_NON_RETRYABLE_ERROR_DEFAULT_BEHAVIOR,
    );
  }
}

/** Flink's PrometheusSinkConfiguration: the holder of the sink's configuration classes. */
export class PrometheusSinkConfiguration {
  static readonly OnErrorBehavior = OnErrorBehavior;
  static readonly RetryConfiguration = RetryConfiguration;
  static readonly SinkWriterErrorHandlingBehaviorConfiguration = SinkWriterErrorHandlingBehaviorConfiguration;

  private constructor() {}
}

type OnErrorBehaviorType = OnErrorBehavior;
type RetryConfigurationType = RetryConfiguration;
type ErrorHandlingType = SinkWriterErrorHandlingBehaviorConfiguration;

export declare namespace PrometheusSinkConfiguration {
  type OnErrorBehavior = OnErrorBehaviorType;
  type RetryConfiguration = RetryConfigurationType;
  type SinkWriterErrorHandlingBehaviorConfiguration = ErrorHandlingType;
}

export const DEFAULT_MAX_BATCH_SIZE_IN_SAMPLES = 500;
export const DEFAULT_MAX_TIME_IN_BUFFER_MS = 5000;
export const DEFAULT_SOCKET_TIMEOUT_MS = 5000;
export const DEFAULT_HTTP_USER_AGENT = 'Weir-Prometheus-Sink';
export const DEFAULT_METRIC_GROUP_NAME = 'Prometheus';

/** The URL without user info, for plans, logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url;
  }
}

/** The sink descriptor `sinkTo()` takes; the TaskManager's PrometheusSinkOperator does the writing. */
export class PrometheusSink<T = PrometheusTimeSeries> {
  /** Records' type only. */
  declare private readonly __type?: T;

  private constructor(
    readonly prometheusRemoteWriteUrl: string,
    /** Samples per WriteRequest at most (a request holds whole records). */
    readonly maxBatchSizeInSamples: number,
    /** Samples one record may carry; a larger record fails the task. */
    readonly maxRecordSizeInSamples: number,
    /** Milliseconds a sample waits in the buffer before a request is sent anyway. */
    readonly maxTimeInBufferMS: number,
    readonly retryConfiguration: RetryConfiguration,
    /** Milliseconds one HTTP attempt may take before it counts as a (retried) network error. */
    readonly socketTimeoutMs: number,
    readonly httpUserAgent: string,
    readonly errorHandlingBehaviorConfig: SinkWriterErrorHandlingBehaviorConfiguration,
    readonly metricGroupName: string,
  ) {}

  static builder<T = PrometheusTimeSeries>(): PrometheusSinkBuilder<T> {
    return new PrometheusSinkBuilder<T>();
  }

  /** @internal used by the builder only */
  static create<T>(b: {
    url: string;
    maxBatch: number;
    maxRecord: number;
    maxTimeInBuffer: number;
    retry: RetryConfiguration;
    socketTimeout: number;
    userAgent: string;
    errors: SinkWriterErrorHandlingBehaviorConfiguration;
    metricGroupName: string;
  }): PrometheusSink<T> {
    return new PrometheusSink<T>(
      b.url,
      b.maxBatch,
      b.maxRecord,
      b.maxTimeInBuffer,
      b.retry,
      b.socketTimeout,
      b.userAgent,
      b.errors,
      b.metricGroupName,
    );
  }
}

/** Flink's PrometheusSinkBuilder (one request in flight per subtask, always, to keep order). */
export class PrometheusSinkBuilder<T = PrometheusTimeSeries> {
  private url: string | undefined;
  private maxBatchSizeInSamples: number | undefined;
  private maxRecordSizeInSamples: number | undefined;
  private maxTimeInBufferMS: number | undefined;
  private retryConfiguration: RetryConfiguration | undefined;
  private socketTimeoutMs: number | undefined;
  private httpUserAgent: string | undefined;
  private errorHandling: SinkWriterErrorHandlingBehaviorConfiguration | undefined;
  private metricGroupName: string | undefined;

  /** The remote-write endpoint, e.g. http://prometheus:9090/api/v1/write (Prometheus started with --web.enable-remote-write-receiver). */
  setPrometheusRemoteWriteUrl(url: string): this {
    this.url = url;
    return this;
  }

  /** Samples per WriteRequest at most (default 500). */
  setMaxBatchSizeInSamples(n: number): this {
    this.maxBatchSizeInSamples = n;
    return this;
  }

  /** Samples one record may carry (default: the max batch size). */
  setMaxRecordSizeInSamples(n: number): this {
    this.maxRecordSizeInSamples = n;
    return this;
  }

  /** How long a sample may wait in the buffer before a request goes out anyway (default 5000 ms). */
  setMaxTimeInBufferMS(ms: number): this {
    this.maxTimeInBufferMS = ms;
    return this;
  }

  setRetryConfiguration(retryConfiguration: RetryConfiguration): this {
    if (!(retryConfiguration instanceof RetryConfiguration)) {
      throw new TypeError(
        'setRetryConfiguration() needs PrometheusSinkConfiguration.RetryConfiguration.builder()...build()',
      );
    }
    this.retryConfiguration = retryConfiguration;
    return this;
  }

  /** Milliseconds one HTTP attempt may take (default 5000). */
  setSocketTimeoutMs(ms: number): this {
    this.socketTimeoutMs = ms;
    return this;
  }

  setHttpUserAgent(userAgent: string): this {
    this.httpUserAgent = userAgent;
    return this;
  }

  setErrorHandlingBehaviorConfiguration(config: SinkWriterErrorHandlingBehaviorConfiguration): this {
    if (!(config instanceof SinkWriterErrorHandlingBehaviorConfiguration)) {
      throw new TypeError(
        'setErrorHandlingBehaviorConfiguration() needs PrometheusSinkConfiguration.SinkWriterErrorHandlingBehaviorConfiguration.builder()...build()',
      );
    }
    this.errorHandling = config;
    return this;
  }

  /** The British spelling of setErrorHandlingBehaviorConfiguration. */
  setErrorHandlingBehaviourConfiguration(config: SinkWriterErrorHandlingBehaviorConfiguration): this {
    return this.setErrorHandlingBehaviorConfiguration(config);
  }

  setMetricGroupName(name: string): this {
    this.metricGroupName = name;
    return this;
  }

  build(): PrometheusSink<T> {
    const url = this.url;
    if (typeof url !== 'string' || url.length === 0)
      throw new TypeError('PrometheusSink: setPrometheusRemoteWriteUrl() is required');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`PrometheusSink: the remote-write URL is not a valid URL: ${describe(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new TypeError(`PrometheusSink: the remote-write URL must be http or https, got ${redactUrl(url)}`);
    const maxBatch = checkPositiveInt(
      this.maxBatchSizeInSamples ?? DEFAULT_MAX_BATCH_SIZE_IN_SAMPLES,
      'PrometheusSink: maxBatchSizeInSamples',
    );
    const maxRecord = checkPositiveInt(
      this.maxRecordSizeInSamples ?? maxBatch,
      'PrometheusSink: maxRecordSizeInSamples',
    );
    if (maxRecord > maxBatch)
      throw new RangeError(
        `PrometheusSink: maxRecordSizeInSamples (${maxRecord}) must not exceed maxBatchSizeInSamples (${maxBatch})`,
      );
    const maxTimeInBuffer = checkPositiveInt(
      this.maxTimeInBufferMS ?? DEFAULT_MAX_TIME_IN_BUFFER_MS,
      'PrometheusSink: maxTimeInBufferMS',
    );
    const socketTimeout = checkPositiveInt(
      this.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS,
      'PrometheusSink: socketTimeoutMs',
    );
    return PrometheusSink.create<T>({
      url,
      maxBatch,
      maxRecord,
      maxTimeInBuffer,
      retry: this.retryConfiguration ?? RetryConfiguration.builder().build(),
      socketTimeout,
      userAgent: this.httpUserAgent ?? DEFAULT_HTTP_USER_AGENT,
      errors: this.errorHandling ?? SinkWriterErrorHandlingBehaviorConfiguration.DEFAULT_BEHAVIORS,
      metricGroupName: this.metricGroupName ?? DEFAULT_METRIC_GROUP_NAME,
    });
  }
}
