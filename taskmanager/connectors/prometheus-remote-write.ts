// The Prometheus remote-write 1.0 wire format: a WriteRequest (proto/prometheus-remote-write.proto)
// serialized with protobufjs and snappy block-compressed, posted with the headers below. Records
// of one batch are grouped into one TimeSeries per series, samples in arrival order.
import { join } from 'node:path';
import type * as Protobuf from 'protobufjs';
import type * as Snappy from 'snappy';
import { METRIC_NAME_LABEL_NAME, type PrometheusTimeSeriesLike } from '../../api/prometheus-sink.js';
import { lazyRequire } from '../../common/lazy-require.js';
import { packageRoot } from '../../common/package-root.js';

/** The headers the remote-write 1.0 spec requires on every request. */
export const REMOTE_WRITE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
};

export interface WireLabel {
  name: string;
  value: string;
}

export interface WireSample {
  value: number;
  timestamp: number;
}

/** One TimeSeries of a WriteRequest: labels sorted by name, '__name__' among them. */
export interface WireTimeSeries {
  labels: WireLabel[];
  samples: WireSample[];
}

export interface WireWriteRequest {
  timeseries: WireTimeSeries[];
}

// protobufjs and snappy load on first use: every slot thread imports this module, few write to Prometheus.
const protobuf = lazyRequire<typeof Protobuf>('protobufjs');
const snappyModule = lazyRequire<typeof Snappy>('snappy');

let writeRequestType: Protobuf.Type | undefined;

/** The WriteRequest message type, loaded once from proto/prometheus-remote-write.proto. */
export function writeRequestMessage(): Protobuf.Type {
  writeRequestType ??= protobuf()
    .loadSync(join(packageRoot(), 'proto', 'prometheus-remote-write.proto'))
    .lookupType('prometheus.WriteRequest');
  return writeRequestType;
}

function byName(a: WireLabel, b: WireLabel): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The labels of a record as written: '__name__' plus its labels, sorted by name (the spec requires sorted labels). */
export function wireLabels(ts: PrometheusTimeSeriesLike): WireLabel[] {
  const labels: WireLabel[] = [{ name: METRIC_NAME_LABEL_NAME, value: ts.metricName }];
  for (const l of ts.labels) labels.push({ name: l.name, value: l.value });
  return labels.sort(byName);
}

/** The identity of a series from its sorted wire labels (unambiguous: values are JSON-quoted). */
export function wireIdentity(labels: readonly WireLabel[]): string {
  let s = '';
  for (const l of labels) s += l.name + '=' + JSON.stringify(l.value) + ',';
  return s;
}

/** Serializes a WriteRequest (uncompressed protobuf). */
export function encodeWriteRequest(request: WireWriteRequest): Uint8Array {
  return writeRequestMessage().encode(request).finish();
}

/** The request body: the serialized WriteRequest, snappy block-compressed. */
export function writeRequestBody(request: WireWriteRequest): Buffer {
  return snappyModule().compressSync(Buffer.from(encodeWriteRequest(request)));
}

/** Reads a request body back (tests, debugging): snappy-decompressed unless `compressed` is false. */
export function decodeWriteRequest(body: Uint8Array, compressed = true): WireWriteRequest {
  const bytes = compressed ? (snappyModule().uncompressSync(Buffer.from(body), { asBuffer: true }) as Buffer) : body;
  const type = writeRequestMessage();
  const obj = type.toObject(type.decode(bytes), { longs: Number, defaults: true, arrays: true }) as WireWriteRequest;
  for (const ts of obj.timeseries) {
    ts.labels ??= [];
    ts.samples ??= [];
  }
  return obj;
}
