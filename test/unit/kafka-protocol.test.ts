// The Kafka wire codec: every implemented API and version round-trips as request and response,
// flexible versions use compact encodings and tagged fields, and record batches v2 match the
// bytes an independent implementation (kafkajs) writes, CRC-32C included.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  ApiKeys,
  Compression,
  controlRecordType,
  ControlRecordType,
  crc32c,
  decodeRecordBatches,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeEndTxnMarker,
  encodeRecordBatch,
  encodeRequest,
  encodeResponse,
  FrameReader,
  isFlexible,
  KafkaProtocolError,
  MESSAGES,
  readRecordBatchHeader,
  supportedApiVersions,
  UnsupportedVersionError,
  type FieldSpec,
} from '../../common/kafka/protocol/index.js';
import { parseVersions } from '../../common/kafka/protocol/schema.js';

const require = createRequire(import.meta.url);

function inVersions(v: string | undefined, version: number): boolean {
  const r = parseVersions(v);
  return version >= r.min && version <= r.max;
}

/** A body with a distinctive value in every field present at `version` (and none elsewhere). */
function sample(fields: FieldSpec[], version: number, seed: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!inVersions(f.versions, version)) continue;
    out[f.name] = sampleValue(f, version, seed);
  }
  return out;
}

function samplePrim(type: string, name: string, seed: number): unknown {
  switch (type) {
    case 'int8':
      return (seed % 100) + 1;
    case 'int16':
      return 300 + seed;
    case 'uint16':
      return 60000 + seed;
    case 'int32':
      return 70000 + seed;
    case 'int64':
      return 2 ** 40 + seed;
    case 'float64':
      return 1.5 + seed;
    case 'bool':
      return true;
    case 'string':
      return `${name}-${seed}-ü`;
    case 'bytes':
      return Buffer.from(`bytes-${seed}`);
    case 'records':
      return encodeRecordBatch({
        records: [{ key: `k${seed}`, value: `v${seed}`, timestamp: 1_700_000_000_000 + seed }],
      });
    case 'uuid':
      return Buffer.alloc(16, seed + 1).toString('base64url');
    default:
      throw new Error(type);
  }
}

function sampleValue(f: FieldSpec, version: number, seed: number): unknown {
  if (f.type === '[]') return [sample(f.fields!, version, seed + 1), sample(f.fields!, version, seed + 2)];
  if (f.type === '{}') return sample(f.fields!, version, seed + 1);
  if (f.type.startsWith('[]'))
    return [samplePrim(f.type.slice(2), f.name, seed), samplePrim(f.type.slice(2), f.name, seed + 1)];
  return samplePrim(f.type, f.name, seed);
}

describe('Kafka protocol codec', () => {
  for (const m of MESSAGES) {
    for (let v = m.versions.min; v <= m.versions.max; v++) {
      it(`round-trips ${m.name} v${v} requests and responses`, () => {
        const req = sample(m.request, v, 1);
        const frame = encodeRequest({ apiKey: m.apiKey, apiVersion: v, correlationId: 77, clientId: 'client-ü' }, req);
        const decoded = decodeRequest(frame);
        expect(decoded.header).toEqual({ apiKey: m.apiKey, apiVersion: v, correlationId: 77, clientId: 'client-ü' });
        expect(decoded.body).toMatchObject(req);
        // Symmetric: re-encoding the decoded body gives the same bytes.
        expect(encodeRequest(decoded.header, decoded.body)).toEqual(frame);

        const res = sample(m.response, v, 5);
        const rframe = encodeResponse(m.apiKey, v, 99, res);
        const rdecoded = decodeResponse(m.apiKey, v, rframe);
        expect(rdecoded.correlationId).toBe(99);
        expect(rdecoded.body).toMatchObject(res);
        expect(encodeResponse(m.apiKey, v, 99, rdecoded.body)).toEqual(rframe);
      });
    }
  }

  it('fills fields absent from a version with their defaults when decoding', () => {
    const frame = encodeResponse(ApiKeys.Fetch, 4, 1, {
      responses: [{ topic: 't', partitions: [{ partitionIndex: 0, highWatermark: 5 }] }],
    });
    const body = decodeResponse(ApiKeys.Fetch, 4, frame).body;
    expect(body.responses[0].partitions[0]).toMatchObject({
      logStartOffset: -1,
      preferredReadReplica: -1,
      abortedTransactions: null,
      records: null,
    });
    expect(body.sessionId).toBe(0);
  });

  it('writes flexible versions with compact strings and arrays and tagged fields (ApiVersions v3)', () => {
    const frame = encodeRequest(
      { apiKey: ApiKeys.ApiVersions, apiVersion: 3, correlationId: 1, clientId: 'c' },
      { clientSoftwareName: 'weir', clientSoftwareVersion: '1' },
    );
    // size | key 18 | v3 | corr 1 | clientId 'c' (int16 length even in header v2) | no header tags |
    // compact 'weir' | compact '1' | no body tags
    expect(frame.toString('hex')).toBe(
      '00000014' + '0012' + '0003' + '00000001' + '000163' + '00' + '0577656972' + '0231' + '00',
    );
    const res = encodeResponse(ApiKeys.ApiVersions, 3, 1, {
      errorCode: 0,
      apiKeys: [{ apiKey: 1, minVersion: 4, maxVersion: 11 }],
      throttleTimeMs: 0,
      finalizedFeaturesEpoch: 7,
    });
    // ApiVersions responses keep header v0 (no tagged fields after the correlation id).
    expect(res.subarray(4, 8).toString('hex')).toBe('00000001');
    expect(res.subarray(8).toString('hex')).toBe(
      '0000' + '02' + '0001000400' + '0b00' + '00000000' + '01' + '01' + '08' + '0000000000000007',
    );
    expect(decodeResponse(ApiKeys.ApiVersions, 3, res).body).toMatchObject({
      finalizedFeaturesEpoch: 7,
      supportedFeatures: [],
      zkMigrationReady: false,
    });
  });

  it('skips unknown tagged fields', () => {
    const res = encodeResponse(ApiKeys.ApiVersions, 3, 1, { errorCode: 0, apiKeys: [], throttleTimeMs: 0 });
    // Replace the empty tag section with one unknown tag (tag 9, 2 bytes).
    const body = Buffer.concat([res.subarray(4, res.length - 1), Buffer.from([1, 9, 2, 0xaa, 0xbb])]);
    const frame = Buffer.alloc(4 + body.length);
    frame.writeInt32BE(body.length, 0);
    body.copy(frame, 4);
    expect(decodeResponse(ApiKeys.ApiVersions, 3, frame).body).toMatchObject({
      errorCode: 0,
      apiKeys: [],
      throttleTimeMs: 0,
    });
  });

  it('knows which versions are flexible and refuses versions it does not implement', () => {
    expect(isFlexible(ApiKeys.ApiVersions, 3)).toBe(true);
    expect(isFlexible(ApiKeys.Fetch, 11)).toBe(false);
    const frame = encodeRequest({ apiKey: ApiKeys.ApiVersions, apiVersion: 3, correlationId: 5, clientId: null }, {});
    frame.writeInt16BE(9, 6); // claim ApiVersions v9
    expect(() => decodeRequest(frame)).toThrow(UnsupportedVersionError);
    expect(decodeRequestHeader(frame)).toEqual({
      apiKey: ApiKeys.ApiVersions,
      apiVersion: 9,
      correlationId: 5,
      clientId: null,
    });
    expect(supportedApiVersions().find((a) => a.apiKey === ApiKeys.Produce)).toEqual({
      apiKey: 0,
      minVersion: 0,
      maxVersion: 8,
    });
  });

  it('refuses truncated and oversized frames', () => {
    const frame = encodeRequest(
      { apiKey: ApiKeys.Metadata, apiVersion: 4, correlationId: 1, clientId: 'x' },
      { topics: [{ name: 'a' }], allowAutoTopicCreation: true },
    );
    const cut = Buffer.from(frame.subarray(0, frame.length - 3));
    cut.writeInt32BE(cut.length - 4, 0);
    expect(() => decodeRequest(cut)).toThrow(RangeError);
    const reader = new FrameReader(1024);
    const big = Buffer.alloc(4);
    big.writeInt32BE(4096, 0);
    expect(() => reader.push(big)).toThrow(/invalid frame size/);
  });

  it('splits a byte stream into frames however it is chunked', () => {
    const frames = [1, 2, 3].map((i) =>
      encodeRequest(
        { apiKey: ApiKeys.Heartbeat, apiVersion: 1, correlationId: i, clientId: 'c' },
        { groupId: 'g', generationId: i, memberId: 'm' },
      ),
    );
    const all = Buffer.concat(frames);
    for (const step of [1, 3, 7, all.length]) {
      const r = new FrameReader();
      const out: Buffer[] = [];
      for (let i = 0; i < all.length; i += step) out.push(...r.push(all.subarray(i, Math.min(all.length, i + step))));
      expect(out.map((f) => decodeRequest(f).header.correlationId)).toEqual([1, 2, 3]);
    }
  });
});

describe('record batches v2', () => {
  it('computes CRC-32C (Castagnoli)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  // Written by kafkajs's RecordBatch encoder: two records, the first with key 'k', value 'v' and
  // header h=x at timestamp 1000, the second with a null key, value 'w' at 1005.
  const KAFKAJS_BATCH =
    '00000000000000000000004600000000029711b97b00000000000100000000000003e800000000000003edffffffffffffffffffffffffffff0000000218000000026b027602026802780e000a0201027700';

  it('encodes a batch byte for byte as kafkajs does, CRC included', () => {
    const ours = encodeRecordBatch({
      partitionLeaderEpoch: 0,
      records: [
        { key: 'k', value: 'v', headers: [{ key: 'h', value: 'x' }], timestamp: 1000 },
        { key: null, value: 'w', timestamp: 1005 },
      ],
    });
    // kafkajs writes producer epoch -1 and sequence -1 here too; the CRC is 0x9711b97b.
    expect(ours.toString('hex')).toBe(KAFKAJS_BATCH);
    expect(readRecordBatchHeader(ours)!.crc).toBe(0x9711b97b);
  });

  it('decodes a batch written by kafkajs', () => {
    const [b] = decodeRecordBatches(Buffer.from(KAFKAJS_BATCH, 'hex'));
    expect(b).toMatchObject({
      baseOffset: 0,
      lastOffsetDelta: 1,
      baseTimestamp: 1000,
      maxTimestamp: 1005,
      producerId: -1,
      isTransactional: false,
      isControl: false,
      recordCount: 2,
    });
    expect(
      b!.records.map((r) => [
        r.offset,
        r.key?.toString() ?? null,
        r.value!.toString(),
        r.timestamp,
        r.headers.map((h) => `${h.key}=${h.value}`),
      ]),
    ).toEqual([
      [0, 'k', 'v', 1000, ['h=x']],
      [1, null, 'w', 1005, []],
    ]);
  });

  it('decodes kafkajs batches with many records and transactional flags', async () => {
    const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js');
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
    const Long = require('kafkajs/src/utils/long');
    const records = Array.from({ length: 300 }, (_, i) =>
      Record({
        offsetDelta: i,
        timestampDelta: i * 3,
        key: Buffer.from(`key-${i}`),
        value: Buffer.from('v'.repeat(i)),
        headers: { n: String(i) },
      }),
    );
    const enc = await RecordBatch({
      firstOffset: Long.fromNumber(1234),
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_897,
      lastOffsetDelta: 299,
      transactional: true,
      producerId: Long.fromNumber(4242),
      producerEpoch: 3,
      firstSequence: 17,
      records,
    });
    const [b] = decodeRecordBatches(enc.buffer);
    expect(b).toMatchObject({
      baseOffset: 1234,
      producerId: 4242,
      producerEpoch: 3,
      baseSequence: 17,
      isTransactional: true,
      recordCount: 300,
    });
    expect(b!.records[299]).toMatchObject({ offset: 1533, timestamp: 1_700_000_000_897 });
    expect(b!.records[299]!.value!.length).toBe(299);
    const again = encodeRecordBatch({
      baseOffset: 1234,
      partitionLeaderEpoch: 0,
      producerId: 4242,
      producerEpoch: 3,
      baseSequence: 17,
      isTransactional: true,
      records: b!.records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
    });
    expect(again).toEqual(enc.buffer);
  });

  it('round-trips null keys and values, headers with null values, and compression', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({
      key: i % 3 === 0 ? null : `key-${i}`,
      value: i % 5 === 0 ? null : Buffer.from('abc'.repeat(i)),
      headers: [
        { key: 'a', value: `x${i}` },
        { key: 'nil', value: null },
      ],
      timestamp: 1_000_000 + i * 10,
    }));
    for (const compression of [Compression.None, Compression.Gzip, Compression.Snappy]) {
      const buf = encodeRecordBatch({
        baseOffset: 10,
        producerId: 7,
        producerEpoch: 1,
        baseSequence: 0,
        compression,
        records,
      });
      const [b] = decodeRecordBatches(buf);
      expect(b!.compression).toBe(compression);
      expect(
        b!.records.map((r) => ({
          key: r.key?.toString() ?? null,
          value: r.value,
          headers: r.headers.map((h) => [h.key, h.value?.toString() ?? null]),
          timestamp: r.timestamp,
          offset: r.offset,
        })),
      ).toEqual(
        records.map((r, i) => ({
          key: r.key,
          value: r.value,
          headers: [
            ['a', `x${i}`],
            ['nil', null],
          ],
          timestamp: r.timestamp,
          offset: 10 + i,
        })),
      );
    }
  });

  it('writes snappy in the xerial framing and reads raw snappy blocks too (as librdkafka sends)', () => {
    const snappy = require('snappy') as { compressSync(b: Buffer): Buffer };
    const framed = encodeRecordBatch({
      compression: Compression.Snappy,
      records: [{ key: 'k', value: 'v'.repeat(100), timestamp: 1 }],
    });
    expect(framed.subarray(61, 69)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]));
    // Rebuild the same batch with a raw snappy block payload.
    const plain = encodeRecordBatch({ records: [{ key: 'k', value: 'v'.repeat(100), timestamp: 1 }] });
    const raw = snappy.compressSync(plain.subarray(61));
    const rebuilt = Buffer.concat([plain.subarray(0, 61), raw]);
    rebuilt.writeInt32BE(rebuilt.length - 12, 8);
    rebuilt.writeInt16BE(Compression.Snappy, 21);
    rebuilt.writeUInt32BE(crc32c(rebuilt, 21), 17);
    expect(decodeRecordBatches(rebuilt)[0]!.records[0]!.value!.toString()).toBe('v'.repeat(100));
  });

  it('refuses lz4 and zstd with UNSUPPORTED_COMPRESSION_TYPE and a damaged batch with CORRUPT_MESSAGE', () => {
    expect(() =>
      encodeRecordBatch({ compression: Compression.Lz4, records: [{ key: null, value: 'x', timestamp: 0 }] }),
    ).toThrow(/UNSUPPORTED_COMPRESSION_TYPE/);
    const buf = encodeRecordBatch({ records: [{ key: null, value: 'x', timestamp: 0 }] });
    const zstd = Buffer.from(buf);
    zstd.writeInt16BE(Compression.Zstd, 21);
    zstd.writeUInt32BE(crc32c(zstd, 21), 17);
    try {
      decodeRecordBatches(zstd);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KafkaProtocolError);
      expect((e as KafkaProtocolError).code).toBe(76);
    }
    const damaged = Buffer.from(buf);
    damaged[damaged.length - 2] ^= 0xff;
    expect(() => decodeRecordBatches(damaged)).toThrow(/CORRUPT_MESSAGE/);
  });

  it('ignores a trailing partial batch, as a fetch response may end in one', () => {
    const a = encodeRecordBatch({ baseOffset: 0, records: [{ key: null, value: 'a', timestamp: 0 }] });
    const b = encodeRecordBatch({ baseOffset: 1, records: [{ key: null, value: 'b', timestamp: 0 }] });
    const batches = decodeRecordBatches(Buffer.concat([a, b.subarray(0, 30)]));
    expect(batches.map((x) => x.baseOffset)).toEqual([0]);
  });

  it('encodes transaction markers as control batches', () => {
    const m = encodeEndTxnMarker({ producerId: 5, producerEpoch: 2, commit: true, timestamp: 123, baseOffset: 9 });
    const [b] = decodeRecordBatches(m);
    expect(b).toMatchObject({
      isControl: true,
      isTransactional: true,
      producerId: 5,
      producerEpoch: 2,
      baseOffset: 9,
      recordCount: 1,
    });
    expect(controlRecordType(b!.records[0]!)).toBe(ControlRecordType.Commit);
    const abort = decodeRecordBatches(
      encodeEndTxnMarker({ producerId: 5, producerEpoch: 2, commit: false, timestamp: 123 }),
    )[0]!;
    expect(controlRecordType(abort.records[0]!)).toBe(ControlRecordType.Abort);
  });
});
