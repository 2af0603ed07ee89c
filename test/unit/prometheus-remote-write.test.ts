// The PrometheusSink's job API (builders, validation, key selector) and its wire format: a
// WriteRequest encoded with proto/prometheus-remote-write.proto, snappy block-compressed, decodes
// back to the same series; field numbers match the remote-write spec byte for byte.
import { describe, expect, it } from 'vitest';
import { compressSync, uncompressSync } from 'snappy';
import {
  PrometheusSink,
  PrometheusSinkConfiguration,
  PrometheusTimeSeries,
  PrometheusTimeSeriesLabelsAndMetricNameKeySelector,
} from 'weir';
import { buildGraph, opOfKind } from '../helpers/graph.js';
import {
  decodeWriteRequest,
  encodeWriteRequest,
  wireLabels,
  writeRequestBody,
  type WireWriteRequest,
} from '../../taskmanager/connectors/prometheus-remote-write.js';
import { groupBySeries } from '../../taskmanager/connectors/prometheus-sink-writer.js';
import { looseConfig } from '../helpers/descriptors.js';

describe('PrometheusTimeSeries and the key selector', () => {
  it('builds series with Flink’s builder and refuses what Prometheus cannot take', () => {
    const ts = PrometheusTimeSeries.builder()
      .withMetricName('cpu')
      .addLabel('host', 'a')
      .addSample(1.5, 1000)
      .addSample(2, 2000)
      .build();
    expect(ts.getMetricName()).toBe('cpu');
    expect(ts.getLabels().map((l) => [l.getName(), l.getValue()])).toEqual([['host', 'a']]);
    expect(ts.getSamples().map((s) => [s.getValue(), s.getTimestamp()])).toEqual([
      [1.5, 1000],
      [2, 2000],
    ]);
    expect(PrometheusTimeSeries.builderFrom(ts).addSample(3, 3000).build().samples).toHaveLength(3);

    expect(() => PrometheusTimeSeries.builder().addSample(1, 1).build()).toThrow(/metric name/);
    expect(() => PrometheusTimeSeries.builder().withMetricName('m').build()).toThrow(/no samples/);
    expect(() =>
      PrometheusTimeSeries.builder().withMetricName('m').addLabel('a', '1').addLabel('a', '2').addSample(1, 1).build(),
    ).toThrow(/twice/);
    expect(() =>
      PrometheusTimeSeries.builder().withMetricName('m').addLabel('__name__', 'x').addSample(1, 1).build(),
    ).toThrow(/withMetricName/);
    expect(() => PrometheusTimeSeries.builder().withMetricName('m').addSample(1, 1.5).build()).toThrow(
      /integer timestamp/,
    );
  });

  it('keys a series by metric name and labels, whatever the label order; plain objects (records off the wire) too', () => {
    const sel = new PrometheusTimeSeriesLabelsAndMetricNameKeySelector();
    const a = PrometheusTimeSeries.builder()
      .withMetricName('m')
      .addLabel('x', '1')
      .addLabel('y', '2')
      .addSample(1, 1)
      .build();
    const b = PrometheusTimeSeries.builder()
      .withMetricName('m')
      .addLabel('y', '2')
      .addLabel('x', '1')
      .addSample(9, 9)
      .build();
    const c = PrometheusTimeSeries.builder()
      .withMetricName('m')
      .addLabel('x', '1')
      .addLabel('y', '3')
      .addSample(1, 1)
      .build();
    const d = PrometheusTimeSeries.builder()
      .withMetricName('n')
      .addLabel('x', '1')
      .addLabel('y', '2')
      .addSample(1, 1)
      .build();
    expect(sel.getKey(a)).toBe(sel.getKey(b));
    expect(sel.getKey(a)).not.toBe(sel.getKey(c));
    expect(sel.getKey(a)).not.toBe(sel.getKey(d));
    // Values that would collide if concatenated naively stay apart.
    const e = PrometheusTimeSeries.builder().withMetricName('m').addLabel('x', '1",y="2').addSample(1, 1).build();
    expect(sel.getKey(e)).not.toBe(sel.getKey(a));
    expect(sel.getKey(JSON.parse(JSON.stringify(a)))).toBe(sel.getKey(a));
  });
});

describe('PrometheusSink builder', () => {
  it('follows Flink’s builder and defaults', () => {
    const sink = PrometheusSink.builder()
      .setPrometheusRemoteWriteUrl('http://user:secret@localhost:9090/api/v1/write')
      .setMaxBatchSizeInSamples(100)
      .setRetryConfiguration(
        PrometheusSinkConfiguration.RetryConfiguration.builder()
          .setInitialRetryDelayMS(10)
          .setMaxRetryDelayMS(100)
          .setMaxRetryCount(3)
          .build(),
      )
      .setErrorHandlingBehaviorConfiguration(
        PrometheusSinkConfiguration.SinkWriterErrorHandlingBehaviorConfiguration.builder()
          .onPrometheusNonRetryableError(PrometheusSinkConfiguration.OnErrorBehavior.FAIL)
          .build(),
      )
      .build();
    expect(sink.maxBatchSizeInSamples).toBe(100);
    expect(sink.maxRecordSizeInSamples).toBe(100);
    expect(sink.maxTimeInBufferMS).toBe(5000);
    expect(sink.retryConfiguration.getMaxRetryCount()).toBe(3);
    expect(sink.errorHandlingBehaviorConfig.getOnPrometheusNonRetryableError()).toBe('FAIL');
    expect(sink.errorHandlingBehaviorConfig.getOnMaxRetryExceeded()).toBe('FAIL');
    const defaults = PrometheusSink.builder().setPrometheusRemoteWriteUrl('http://p/api/v1/write').build();
    expect(defaults.maxBatchSizeInSamples).toBe(500);
    expect(defaults.retryConfiguration.getInitialRetryDelayMS()).toBe(30);
    expect(defaults.errorHandlingBehaviorConfig.getOnPrometheusNonRetryableError()).toBe('DISCARD_AND_CONTINUE');

    expect(() => PrometheusSink.builder().build()).toThrow(/setPrometheusRemoteWriteUrl/);
    expect(() => PrometheusSink.builder().setPrometheusRemoteWriteUrl('ftp://x').build()).toThrow(/http or https/);
    expect(() =>
      PrometheusSink.builder()
        .setPrometheusRemoteWriteUrl('http://x')
        .setMaxBatchSizeInSamples(10)
        .setMaxRecordSizeInSamples(11)
        .build(),
    ).toThrow(/must not exceed/);
    expect(() =>
      PrometheusSinkConfiguration.RetryConfiguration.builder()
        .setInitialRetryDelayMS(100)
        .setMaxRetryDelayMS(10)
        .build(),
    ).toThrow(/>=/);

    // sinkTo records a 'prometheus' sink without the credentials of the URL in the plan.
    const g = buildGraph((env) => {
      env
        .fromElements(PrometheusTimeSeries.builder().withMetricName('m').addSample(1, 1).build())
        .keyBy(new PrometheusTimeSeriesLabelsAndMetricNameKeySelector())
        .sinkTo(sink);
    }, 2);
    const { op } = opOfKind(g.jobGraph, 'sink');
    expect(op.name).toBe('Sink: PrometheusSink');
    expect(op.config.sinkKind).toBe('prometheus');
    expect(String(looseConfig(op).url)).toContain('localhost:9090/api/v1/write');
    expect(String(looseConfig(op).url)).not.toContain('secret');
    expect(g.userCode.get(op.id)).toBe(sink);
  });
});

describe('remote-write encoding', () => {
  it('encodes the spec’s field numbers byte for byte', () => {
    const bytes = encodeWriteRequest({
      timeseries: [{ labels: [{ name: 'a', value: 'b' }], samples: [{ value: 1, timestamp: 2 }] }],
    });
    // WriteRequest.timeseries (1, LEN 21) > TimeSeries.labels (1, LEN 6) > Label.name (1) "a", Label.value (2) "b";
    // TimeSeries.samples (2, LEN 11) > Sample.value (1, double 1.0), Sample.timestamp (2, varint 2).
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '0a15' + '0a06' + '0a0161' + '120162' + '120b' + '09000000000000f03f' + '1002',
    );
  });

  it('round-trips a WriteRequest through snappy and the same proto', () => {
    const now = Date.now();
    const request: WireWriteRequest = {
      timeseries: [
        {
          labels: [
            { name: '__name__', value: 'temp_celsius' },
            { name: 'city', value: 'Zürich ☃' },
            { name: 'zone', value: '' },
          ],
          samples: [
            { value: -12.25, timestamp: now - 2000 },
            { value: Number.POSITIVE_INFINITY, timestamp: now - 1000 },
            { value: 1e300, timestamp: now },
          ],
        },
        { labels: [{ name: '__name__', value: 'up' }], samples: [{ value: 0, timestamp: 0 }] },
      ],
    };
    const body = writeRequestBody(request);
    // A snappy block (not the framed format): the first bytes are the varint uncompressed length.
    const raw = uncompressSync(body, { asBuffer: true }) as Buffer;
    expect(Buffer.from(raw).equals(Buffer.from(encodeWriteRequest(request)))).toBe(true);
    expect(decodeWriteRequest(body)).toEqual(request);
    expect(decodeWriteRequest(compressSync(raw))).toEqual(request);
    // NaN (Prometheus' staleness marker is a NaN) survives too.
    const nan = decodeWriteRequest(
      writeRequestBody({
        timeseries: [{ labels: [{ name: '__name__', value: 'x' }], samples: [{ value: Number.NaN, timestamp: 5 }] }],
      }),
    );
    expect(Number.isNaN(nan.timeseries[0]!.samples[0]!.value)).toBe(true);
  });

  it('sorts labels with __name__ and groups a batch into one TimeSeries per series, samples in arrival order', () => {
    const rec = (m: string, labels: [string, string][], samples: [number, number][]) => {
      let b = PrometheusTimeSeries.builder().withMetricName(m);
      for (const [k, v] of labels) b = b.addLabel(k, v);
      for (const [v, t] of samples) b = b.addSample(v, t);
      return b.build();
    };
    expect(
      wireLabels(
        rec(
          'm',
          [
            ['zone', '1'],
            ['Host', 'h'],
            ['app', 'x'],
          ],
          [[1, 1]],
        ),
      ).map((l) => l.name),
    ).toEqual(['Host', '__name__', 'app', 'zone']);
    const records = [
      rec('m', [['k', 'a']], [[1, 10]]),
      rec(
        'm',
        [['k', 'b']],
        [
          [2, 10],
          [3, 11],
        ],
      ),
      rec(
        'm',
        [['k', 'a']],
        [
          [4, 20],
          [5, 21],
        ],
      ),
      rec('n', [['k', 'a']], [[6, 10]]),
      rec('m', [['k', 'b']], [[7, 12]]),
    ];
    const grouped = groupBySeries(
      records.map((r) => ({
        series: { labels: wireLabels(r), samples: r.samples.map((s) => ({ value: s.value, timestamp: s.timestamp })) },
      })),
    );
    expect(grouped.map((g) => [g.labels.map((l) => l.value).join(','), g.samples.map((s) => s.value)])).toEqual([
      ['m,a', [1, 4, 5]],
      ['m,b', [2, 3, 7]],
      ['n,a', [6]],
    ]);
  });
});
