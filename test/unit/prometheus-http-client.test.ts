// The PrometheusSink's HTTP side against a local HTTP server this test starts: the remote-write
// headers and body, retries of 503/429/network errors with backoff up to the limit, 400 failing
// or discarded per the configured behaviour, 404 always fatal; and the operator glue (the task
// waits on a full batch, snapshotState and end of input flush everything, in order).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  OnErrorBehavior,
  PrometheusSink,
  PrometheusTimeSeries,
  RetryConfiguration,
  SinkWriterErrorHandlingBehaviorConfiguration,
} from 'weir';
import type { Logger } from '../../common/logging.js';
import type { OperatorDescriptor } from '../../common/jobgraph.js';
import {
  classifyResponse,
  newPrometheusSinkMetrics,
  PrometheusRemoteWriteClient,
  PrometheusSinkWriteException,
  retryDelayMs,
} from '../../taskmanager/connectors/prometheus-http-client.js';
import {
  decodeWriteRequest,
  writeRequestBody,
  type WireWriteRequest,
} from '../../taskmanager/connectors/prometheus-remote-write.js';
import { PrometheusSinkOperator } from '../../taskmanager/operators/prometheus-sink-operator.js';
import { ManualTime } from '../helpers/manual-time.js';
import { fakeTaskServices } from '../helpers/task-services.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: Buffer;
  request: WireWriteRequest;
  at: number;
  /** The status it was answered with. */
  status: number;
}

/** Answers remote-write posts with scripted statuses (then 204), recording each request decoded. */
class FakeRemoteWrite {
  readonly received: Received[] = [];
  script: { status: number; body?: string }[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const next = this.script.shift() ?? { status: 204 };
        this.received.push({
          headers: req.headers,
          body,
          request: decodeWriteRequest(body),
          at: Date.now(),
          status: next.status,
        });
        res.writeHead(next.status, { 'content-type': 'text/plain' });
        res.end(next.body ?? '');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/api/v1/write`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = undefined;
  }
}

function captureLog(): { log: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const log = {
    warn: (_o: unknown, msg?: string) => void warnings.push(String(msg ?? _o)),
    info: () => {},
    error: () => {},
    debug: () => {},
  } as unknown as Logger;
  return { log, warnings };
}

const request: WireWriteRequest = {
  timeseries: [
    {
      labels: [
        { name: '__name__', value: 'm' },
        { name: 'k', value: 'a' },
      ],
      samples: [
        { value: 1, timestamp: 1000 },
        { value: 2, timestamp: 2000 },
      ],
    },
  ],
};

function client(
  url: string,
  opts: { retries?: number; nonRetryable?: OnErrorBehavior; maxRetry?: OnErrorBehavior } = {},
) {
  const metrics = newPrometheusSinkMetrics();
  const { log, warnings } = captureLog();
  const c = new PrometheusRemoteWriteClient({
    url,
    retry: RetryConfiguration.builder()
      .setInitialRetryDelayMS(10)
      .setMaxRetryDelayMS(40)
      .setMaxRetryCount(opts.retries ?? 3)
      .build(),
    errorHandling: SinkWriterErrorHandlingBehaviorConfiguration.builder()
      .onPrometheusNonRetryableError(opts.nonRetryable ?? OnErrorBehavior.DISCARD_AND_CONTINUE)
      .onMaxRetryExceeded(opts.maxRetry ?? OnErrorBehavior.FAIL)
      .build(),
    socketTimeoutMs: 2000,
    userAgent: 'weir-test',
    metrics,
    log,
  });
  return { c, metrics, warnings };
}

let server: FakeRemoteWrite;
beforeEach(async () => {
  server = new FakeRemoteWrite();
  await server.start();
});
afterEach(async () => {
  await server.stop();
});

describe('PrometheusRemoteWriteClient', () => {
  it('classifies answers as Flink does and backs off exponentially', () => {
    expect([200, 204, 429, 403, 404, 400, 409, 500, 503, 302].map(classifyResponse)).toEqual([
      'SUCCESS',
      'SUCCESS',
      'RETRYABLE_ERROR',
      'FATAL_ERROR',
      'FATAL_ERROR',
      'NON_RETRYABLE_ERROR',
      'NON_RETRYABLE_ERROR',
      'RETRYABLE_ERROR',
      'RETRYABLE_ERROR',
      'FATAL_ERROR',
    ]);
    const r = RetryConfiguration.builder()
      .setInitialRetryDelayMS(30)
      .setMaxRetryDelayMS(200)
      .setMaxRetryCount(10)
      .build();
    expect([1, 2, 3, 4, 5, 60].map((n) => retryDelayMs(r, n))).toEqual([30, 60, 120, 200, 200, 200]);
  });

  it('retries 503 and 429 with backoff, then succeeds; posts the remote-write headers and the same body each time', async () => {
    server.script = [{ status: 503, body: 'busy' }, { status: 429 }, { status: 503 }];
    const { c, metrics, warnings } = client(server.url);
    await c.write(writeRequestBody(request), 2);
    expect(server.received).toHaveLength(4);
    for (const r of server.received) {
      expect(r.headers['content-encoding']).toBe('snappy');
      expect(r.headers['content-type']).toBe('application/x-protobuf');
      expect(r.headers['x-prometheus-remote-write-version']).toBe('0.1.0');
      expect(r.headers['user-agent']).toBe('weir-test');
      expect(r.request).toEqual(request);
      expect(r.body.equals(server.received[0]!.body)).toBe(true);
    }
    // Delays 10, 20, 40 ms between the attempts.
    const gaps = server.received.slice(1).map((r, i) => r.at - server.received[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(8);
    expect(gaps[2]).toBeGreaterThanOrEqual(35);
    expect(metrics).toMatchObject({
      numWriteRequestsRetries: 3,
      numWriteRequestsOut: 1,
      numSamplesOut: 2,
      numSamplesDropped: 0,
    });
    expect(warnings.some((w) => w.includes('retrying') && w.includes('HTTP 503'))).toBe(true);
  });

  it('fails with URL, status and body once the retries are used up, or discards when told to', async () => {
    server.script = Array.from({ length: 10 }, () => ({ status: 503, body: 'TSDB not ready' }));
    const { c, metrics } = client(server.url, { retries: 2 });
    const err = await c.write(writeRequestBody(request), 2).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PrometheusSinkWriteException);
    const e = err as PrometheusSinkWriteException;
    expect(e.message).toContain(server.url);
    expect(e.message).toContain('HTTP 503');
    expect(e.message).toContain('TSDB not ready');
    expect(e.message).toContain('after 2 retries');
    expect(e.status).toBe(503);
    expect(server.received).toHaveLength(3);
    expect(metrics).toMatchObject({
      numWriteRequestsRetries: 2,
      numWriteRequestsPermanentlyFailed: 1,
      numSamplesOut: 0,
    });

    const d = client(server.url, { retries: 1, maxRetry: OnErrorBehavior.DISCARD_AND_CONTINUE });
    await d.c.write(writeRequestBody(request), 2);
    expect(d.metrics).toMatchObject({
      numSamplesDropped: 2,
      numSamplesRetryLimitDropped: 2,
      numWriteRequestsPermanentlyFailed: 1,
    });
    expect(d.warnings.some((w) => w.includes('discarded'))).toBe(true);
  });

  it('400 (out-of-order samples): DISCARD_AND_CONTINUE counts, logs and goes on; FAIL fails; neither retries', async () => {
    const body = 'out of order sample';
    server.script = [{ status: 400, body }];
    const d = client(server.url, { nonRetryable: OnErrorBehavior.DISCARD_AND_CONTINUE });
    await d.c.write(writeRequestBody(request), 2);
    expect(server.received).toHaveLength(1);
    expect(d.metrics).toMatchObject({
      numSamplesDropped: 2,
      numSamplesNonRetryableDropped: 2,
      numWriteRequestsRetries: 0,
      numSamplesOut: 0,
    });
    expect(d.warnings.some((w) => w.includes('HTTP 400') && w.includes(body) && w.includes('discarded'))).toBe(true);

    server.script = [{ status: 400, body }];
    const f = client(server.url, { nonRetryable: OnErrorBehavior.FAIL });
    await expect(f.c.write(writeRequestBody(request), 2)).rejects.toThrow(
      /refused \(non-retryable\): HTTP 400 Bad Request: out of order sample \(onPrometheusNonRetryableError = FAIL\)/,
    );
    expect(server.received).toHaveLength(2);
    expect(f.metrics.numSamplesDropped).toBe(0);
  });

  it('404 is fatal whatever the behaviour', async () => {
    server.script = [{ status: 404, body: 'not found' }];
    const { c } = client(server.url, {
      nonRetryable: OnErrorBehavior.DISCARD_AND_CONTINUE,
      maxRetry: OnErrorBehavior.DISCARD_AND_CONTINUE,
    });
    await expect(c.write(writeRequestBody(request), 2)).rejects.toThrow(/fatal answer .*HTTP 404/);
    expect(server.received).toHaveLength(1);
  });

  it('retries network errors, then fails naming the cause', async () => {
    const url = server.url;
    await server.stop();
    const { c, metrics } = client(url, { retries: 2 });
    await expect(c.write(writeRequestBody(request), 2)).rejects.toThrow(/failed after 2 retries .*ECONNREFUSED/);
    expect(metrics.numWriteRequestsRetries).toBe(2);
  });
});

describe('PrometheusSinkOperator', () => {
  function operator(sink: PrometheusSink) {
    const time = new ManualTime();
    const services = fakeTaskServices({ processingTime: time });
    services.drainPending = async function () {
      const p = this.pending;
      this.pending = undefined;
      await p;
    };
    const descriptor = {
      id: 'op',
      name: 'Sink: PrometheusSink',
      kind: 'sink',
      config: { sinkKind: 'prometheus' },
    } as unknown as OperatorDescriptor;
    const op = new PrometheusSinkOperator({
      descriptor,
      userCode: sink,
      output: { collect() {}, collectSide() {}, emitWatermark() {} },
      services,
    });
    return { op, services, time };
  }

  it('makes the task wait on full batches, flushes at the checkpoint and at end of input, in order', async () => {
    server.script = [{ status: 503 }];
    const sink = PrometheusSink.builder()
      .setPrometheusRemoteWriteUrl(server.url)
      .setMaxBatchSizeInSamples(4)
      .setRetryConfiguration(
        RetryConfiguration.builder().setInitialRetryDelayMS(5).setMaxRetryDelayMS(5).setMaxRetryCount(3).build(),
      )
      .build();
    const { op, services } = operator(sink);
    await op.open();
    const expected: number[] = [];
    let waits = 0;
    for (let i = 0; i < 30; i++) {
      const ts = PrometheusTimeSeries.builder()
        .withMetricName('m')
        .addLabel('k', String(i % 3))
        .addSample(i, 1000 + i)
        .build();
      expected.push(i);
      op.processElement(ts, 1000 + i);
      if (services.pending) {
        waits++;
        await services.drainPending();
      }
      if (i === 20) {
        await op.snapshotState({ checkpointId: 1, timestamp: Date.now() });
        // Everything before the barrier is written once snapshotState returns.
        const written = server.received
          .filter((r) => r.status === 204)
          .flatMap((r) => r.request.timeseries.flatMap((t) => t.samples.map((s) => s.value)));
        expect([...written].sort((a, b) => a - b)).toEqual(expected.slice(0, 21));
      }
    }
    expect(waits).toBeGreaterThan(0);
    await op.finish();
    await services.drainPending();
    expect(services.sinkRecords).toBe(30);
    // Per series, values arrive in order (the 503 was retried, not reordered).
    const bySeries = new Map<string, number[]>();
    expect(server.received[0]!.status).toBe(503);
    for (const r of server.received.filter((x) => x.status === 204)) {
      for (const t of r.request.timeseries) {
        const k = t.labels.find((l) => l.name === 'k')!.value;
        bySeries.set(k, [...(bySeries.get(k) ?? []), ...t.samples.map((s) => s.value)]);
      }
    }
    for (const [k, values] of bySeries) expect(values).toEqual(expected.filter((v) => String(v % 3) === k));
    expect(op.metrics).toMatchObject({ numSamplesOut: 30, numWriteRequestsRetries: 1 });
    for (const r of server.received)
      expect(r.request.timeseries.reduce((a, t) => a + t.samples.length, 0)).toBeLessThanOrEqual(4);
    await op.close();
  });

  it('fails processElement with a clear error for a record that is not a time series', async () => {
    const { op } = operator(PrometheusSink.builder().setPrometheusRemoteWriteUrl(server.url).build());
    expect(() => op.processElement({ value: 1 }, undefined)).toThrow(
      /PrometheusSink: a PrometheusTimeSeries needs a metric name/,
    );
    await op.close();
  });
});
