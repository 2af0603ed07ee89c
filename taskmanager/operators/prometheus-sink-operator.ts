// The PrometheusSink operator (Flink's PrometheusSink, an AsyncSinkBase with one request in
// flight): buffers PrometheusTimeSeries records into remote-write requests, sends them in order,
// and flushes everything at each checkpoint barrier (snapshotState waits for it) and at end of
// input: at-least-once. The sink keeps no state: what a checkpoint covers has been written.
import {
  DEFAULT_HTTP_USER_AGENT,
  DEFAULT_MAX_BATCH_SIZE_IN_SAMPLES,
  DEFAULT_MAX_TIME_IN_BUFFER_MS,
  DEFAULT_SOCKET_TIMEOUT_MS,
  OnErrorBehavior,
  RetryConfiguration,
  SinkWriterErrorHandlingBehaviorConfiguration,
  redactUrl,
} from '../../api/prometheus-sink.js';
import {
  newPrometheusSinkMetrics,
  PrometheusRemoteWriteClient,
  type PrometheusSinkMetrics,
} from '../connectors/prometheus-http-client.js';
import { batchSender, PrometheusSinkWriter } from '../connectors/prometheus-sink-writer.js';
import { StreamOperator, type OperatorSetup, type SnapshotContext } from './operator.js';

/** What the operator reads of the PrometheusSink object (duck-typed: it comes from the bundle's copy of the API). */
interface PrometheusSinkLike {
  prometheusRemoteWriteUrl: string;
  maxBatchSizeInSamples?: number;
  maxRecordSizeInSamples?: number;
  maxTimeInBufferMS?: number;
  retryConfiguration?: { initialRetryDelayMS: number; maxRetryDelayMS: number; maxRetryCount: number };
  socketTimeoutMs?: number;
  httpUserAgent?: string;
  errorHandlingBehaviorConfig?: { onMaxRetryExceeded: string; onPrometheusNonRetryableError: string };
}

export class PrometheusSinkOperator extends StreamOperator {
  readonly metrics: PrometheusSinkMetrics = newPrometheusSinkMetrics();

  /** Flink's Prometheus sink counters, in the task metrics (and the TaskManager's /metrics). */
  override connectorMetrics(): Record<string, number> {
    return { ...this.metrics };
  }
  private readonly url: string;
  private readonly client: PrometheusRemoteWriteClient;
  private readonly writer: PrometheusSinkWriter;

  constructor(setup: OperatorSetup) {
    super(setup);
    const sink = setup.userCode as PrometheusSinkLike | undefined;
    if (!sink || typeof sink.prometheusRemoteWriteUrl !== 'string' || sink.prometheusRemoteWriteUrl.length === 0) {
      throw new Error(`operator '${this.name}': PrometheusSink without a remote-write URL`);
    }
    this.url = redactUrl(sink.prometheusRemoteWriteUrl);
    const r = sink.retryConfiguration;
    const retry = r
      ? new RetryConfiguration(r.initialRetryDelayMS, r.maxRetryDelayMS, r.maxRetryCount)
      : RetryConfiguration.builder().build();
    const e = sink.errorHandlingBehaviorConfig;
    const errorHandling = e
      ? new SinkWriterErrorHandlingBehaviorConfiguration(
          e.onMaxRetryExceeded as OnErrorBehavior,
          e.onPrometheusNonRetryableError as OnErrorBehavior,
        )
      : SinkWriterErrorHandlingBehaviorConfiguration.DEFAULT_BEHAVIORS;
    const maxBatch = sink.maxBatchSizeInSamples ?? DEFAULT_MAX_BATCH_SIZE_IN_SAMPLES;
    this.client = new PrometheusRemoteWriteClient({
      url: sink.prometheusRemoteWriteUrl,
      retry,
      errorHandling,
      socketTimeoutMs: sink.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS,
      userAgent: sink.httpUserAgent ?? DEFAULT_HTTP_USER_AGENT,
      metrics: this.metrics,
      log: setup.services.log,
    });
    const pt = setup.services.processingTime;
    this.writer = new PrometheusSinkWriter({
      maxBatchSizeInSamples: maxBatch,
      maxRecordSizeInSamples: sink.maxRecordSizeInSamples ?? maxBatch,
      maxTimeInBufferMS: sink.maxTimeInBufferMS ?? DEFAULT_MAX_TIME_IN_BUFFER_MS,
      send: batchSender((body, samples) => this.client.write(body, samples)),
      schedule: (delayMs, fn) => pt.schedule(pt.now() + delayMs, fn),
      // A background request failed for good: fail the task from its mailbox, even when no record comes.
      onAsyncFailure: (error) => {
        pt.schedule(pt.now(), () => {
          throw error;
        });
      },
    });
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.services.sinkRecords++;
    if (timestamp !== undefined) this.services.sinkLag.record(timestamp);
    const wait = this.writer.write(value);
    if (wait) this.await(wait);
  }

  /** Makes the task wait for `p` before the next record (alongside what another sink of the chain awaits). */
  private await(p: Promise<void>): void {
    const prev = this.services.pending;
    this.services.pending = prev === undefined ? p : Promise.all([prev, p]);
  }

  /** At the barrier: everything received before it is written before the checkpoint is acknowledged. */
  override async snapshotState(context: SnapshotContext): Promise<void> {
    await super.snapshotState(context);
    await this.writer.flush();
  }

  /** End of input: the task waits for the last requests (cancelably, through `pending`). */
  override async finish(): Promise<void> {
    this.await(this.writer.flush());
  }

  override stateEntries(): number {
    return this.writer.bufferedRecords;
  }

  override async close(): Promise<void> {
    this.writer.close();
    this.client.close();
    this.services.log.info({ url: this.url, ...this.metrics }, 'PrometheusSink closed');
    await super.close();
  }
}
