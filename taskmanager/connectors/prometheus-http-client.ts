// Posts WriteRequests to a remote-write endpoint with Node's fetch, classifying answers as Flink's
// RemoteWriteResponseClassifier does: 2xx written; 429 and 5xx (and network errors, timeouts)
// retried with exponential backoff; 403 and 404 (credentials, wrong URL) and anything unexpected
// fatal; other 4xx (out-of-order or duplicate samples, bad data) non-retryable, handled per the
// configured behaviour. A request that fails for good either fails the task or is discarded.
import type { Logger } from '../../common/logging.js';
import {
  OnErrorBehavior,
  redactUrl,
  type RetryConfiguration,
  type SinkWriterErrorHandlingBehaviorConfiguration,
} from '../../api/prometheus-sink.js';
import { REMOTE_WRITE_HEADERS } from './prometheus-remote-write.js';

/** The sink's counters (Flink's SinkMetrics names). */
export interface PrometheusSinkMetrics {
  numSamplesOut: number;
  numWriteRequestsOut: number;
  numWriteRequestsRetries: number;
  numWriteRequestsPermanentlyFailed: number;
  numSamplesDropped: number;
  numSamplesNonRetryableDropped: number;
  numSamplesRetryLimitDropped: number;
}

export function newPrometheusSinkMetrics(): PrometheusSinkMetrics {
  return {
    numSamplesOut: 0,
    numWriteRequestsOut: 0,
    numWriteRequestsRetries: 0,
    numWriteRequestsPermanentlyFailed: 0,
    numSamplesDropped: 0,
    numSamplesNonRetryableDropped: 0,
    numSamplesRetryLimitDropped: 0,
  };
}

/** A write the sink gave up on: the task fails with it (Flink's PrometheusSinkWriteException). */
export class PrometheusSinkWriteException extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly status: number | undefined,
    readonly responseBody: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PrometheusSinkWriteException';
  }
}

export type RemoteWriteResponseType = 'SUCCESS' | 'RETRYABLE_ERROR' | 'NON_RETRYABLE_ERROR' | 'FATAL_ERROR';

/** Flink's RemoteWriteResponseClassifier. */
export function classifyResponse(status: number): RemoteWriteResponseType {
  if (status >= 200 && status < 300) return 'SUCCESS';
  if (status === 429) return 'RETRYABLE_ERROR';
  if (status === 403 || status === 404) return 'FATAL_ERROR';
  if (status >= 400 && status < 500) return 'NON_RETRYABLE_ERROR';
  if (status >= 500) return 'RETRYABLE_ERROR';
  return 'FATAL_ERROR';
}

/** Milliseconds before retry `n` (1-based): initial * 2^(n-1), at most the max delay. */
export function retryDelayMs(retry: RetryConfiguration, n: number): number {
  return Math.min(retry.maxRetryDelayMS, retry.initialRetryDelayMS * 2 ** Math.min(n - 1, 40));
}

export interface PrometheusClientOptions {
  url: string;
  retry: RetryConfiguration;
  errorHandling: SinkWriterErrorHandlingBehaviorConfiguration;
  socketTimeoutMs: number;
  userAgent: string;
  metrics: PrometheusSinkMetrics;
  log: Logger;
}

/** How much of an error response body goes into logs and exceptions. */
const MAX_BODY_CHARS = 1000;

interface Attempt {
  status?: number;
  statusText?: string;
  body?: string;
  error?: unknown;
}

function describeAttempt(a: Attempt): string {
  if (a.status !== undefined)
    return `HTTP ${a.status}${a.statusText ? ` ${a.statusText}` : ''}${a.body ? `: ${a.body.trim()}` : ''}`;
  const e = a.error as { message?: string; cause?: { message?: string; code?: string } } | undefined;
  const cause = e?.cause?.message ?? e?.cause?.code;
  return `${e?.message ?? String(a.error)}${cause ? ` (${cause})` : ''}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class PrometheusRemoteWriteClient {
  private readonly closing = new AbortController();
  private readonly displayUrl: string;

  constructor(private readonly o: PrometheusClientOptions) {
    this.displayUrl = redactUrl(o.url);
  }

  /**
   * Posts one request body holding `samples` samples, retrying as configured. Resolves once it is
   * written or discarded; rejects with a PrometheusSinkWriteException when the task must fail.
   */
  async write(body: Uint8Array, samples: number): Promise<void> {
    const { retry, errorHandling, metrics, log } = this.o;
    for (let attempt = 0; ; attempt++) {
      const a = await this.post(body);
      const type = a.status === undefined ? 'RETRYABLE_ERROR' : classifyResponse(a.status);
      if (type === 'SUCCESS') {
        metrics.numWriteRequestsOut++;
        metrics.numSamplesOut += samples;
        return;
      }
      const retries = attempt === 0 ? '' : ` after ${attempt} ${attempt === 1 ? 'retry' : 'retries'}`;
      if (type === 'RETRYABLE_ERROR' && attempt < retry.maxRetryCount) {
        metrics.numWriteRequestsRetries++;
        const delay = retryDelayMs(retry, attempt + 1);
        if (attempt === 0 || attempt % 10 === 9)
          log.warn(
            { url: this.displayUrl, attempt: attempt + 1, delayMs: delay },
            `PrometheusSink: remote write failed, retrying: ${describeAttempt(a)}`,
          );
        await sleep(delay, this.closing.signal);
        continue;
      }
      metrics.numWriteRequestsPermanentlyFailed++;
      if (type === 'RETRYABLE_ERROR') {
        const what = `PrometheusSink: remote write of ${samples} samples to ${this.displayUrl} failed${retries} (max retry count ${retry.maxRetryCount} reached): ${describeAttempt(a)}`;
        if (errorHandling.onMaxRetryExceeded === OnErrorBehavior.DISCARD_AND_CONTINUE) {
          metrics.numSamplesDropped += samples;
          metrics.numSamplesRetryLimitDropped += samples;
          log.warn(
            { url: this.displayUrl, status: a.status, samples },
            `${what}; the samples are discarded (onMaxRetryExceeded = DISCARD_AND_CONTINUE)`,
          );
          return;
        }
        throw new PrometheusSinkWriteException(what, this.displayUrl, a.status, a.body, { cause: a.error });
      }
      if (type === 'NON_RETRYABLE_ERROR') {
        const what = `PrometheusSink: remote write of ${samples} samples to ${this.displayUrl} was refused (non-retryable)${retries}: ${describeAttempt(a)}`;
        if (errorHandling.onPrometheusNonRetryableError === OnErrorBehavior.DISCARD_AND_CONTINUE) {
          metrics.numSamplesDropped += samples;
          metrics.numSamplesNonRetryableDropped += samples;
          log.warn(
            { url: this.displayUrl, status: a.status, samples },
            `${what}; the samples are discarded (onPrometheusNonRetryableError = DISCARD_AND_CONTINUE)`,
          );
          return;
        }
        throw new PrometheusSinkWriteException(
          `${what} (onPrometheusNonRetryableError = FAIL)`,
          this.displayUrl,
          a.status,
          a.body,
        );
      }
      throw new PrometheusSinkWriteException(
        `PrometheusSink: remote write to ${this.displayUrl} failed with a fatal answer (wrong URL or credentials?)${retries}: ${describeAttempt(a)}`,
        this.displayUrl,
        a.status,
        a.body,
      );
    }
  }

  private async post(body: Uint8Array): Promise<Attempt> {
    const closing = this.closing.signal;
    if (closing.aborted) throw closing.reason;
    try {
      const res = await fetch(this.o.url, {
        method: 'POST',
        headers: { ...REMOTE_WRITE_HEADERS, 'User-Agent': this.o.userAgent },
        body,
        signal: AbortSignal.any([closing, AbortSignal.timeout(this.o.socketTimeoutMs)]),
      });
      const text = await res.text();
      return {
        status: res.status,
        statusText: res.statusText,
        body: text.length > MAX_BODY_CHARS ? text.slice(0, MAX_BODY_CHARS) + '…' : text,
      };
    } catch (error) {
      // Closed (task canceled or ended): give up at once.
      if (closing.aborted) throw closing.reason;
      if ((error as { name?: string }).name === 'TimeoutError') {
        return {
          error: new Error(`no answer within the socket timeout of ${this.o.socketTimeoutMs} ms`, { cause: error }),
        };
      }
      return { error };
    }
  }

  /** Aborts the request in flight and any backoff wait. */
  close(): void {
    if (!this.closing.signal.aborted) this.closing.abort(new Error('PrometheusSink closed'));
  }
}
