// The data plane's codec (protobufjs's minimal runtime) against protobufjs reading proto/data.proto: the
// same bytes for every message, each side reads what the other wrote, unknown fields are skipped
// and damaged messages are refused with a message, not misread.
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/package-root.js';
import {
  decodeConsumerMessage,
  decodeProducerMessage,
  encodeConsumerMessage,
  encodeProducerMessage,
} from '../../taskmanager/network/data-codec.js';
import type { ConsumerMessage, ProducerMessage } from '../../taskmanager/network/data-messages.js';

const root = protobuf.loadSync(join(packageRoot(), 'proto', 'data.proto'));
const Consumer = root.lookupType('weir.data.ConsumerMessage');
const Producer = root.lookupType('weir.data.ProducerMessage');

/** A seeded generator (mulberry32), so failures repeat. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UINT32_EDGES = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
const STRINGS = ['', 'a', 'partition-7f3a', 'ünïcödé ✓', '😀 surrogate pair', 'x'.repeat(300)];

function consumerMessages(n: number): ConsumerMessage[] {
  const rnd = random(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const out: ConsumerMessage[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.4)
      out.push({
        kind: 'request',
        request: {
          partitionId: pick(STRINGS),
          subpartition: pick(UINT32_EDGES),
          initialCredit: pick(UINT32_EDGES),
          protocolVersion: pick(UINT32_EDGES),
          consumerTaskManagerId: pick(STRINGS),
        },
      });
    else if (r < 0.7) out.push({ kind: 'credit', credit: { credit: pick(UINT32_EDGES) } });
    else out.push({ kind: 'bufferSize', bufferSize: { size: pick(UINT32_EDGES) } });
  }
  return out;
}

function producerMessages(n: number): ProducerMessage[] {
  const rnd = random(11);
  const bytes = () => {
    const sizes = [0, 1, 127, 128, 300, 32 * 1024, 70_000];
    const b = Buffer.alloc(sizes[Math.floor(rnd() * sizes.length)]!);
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
    return b;
  };
  const out: ProducerMessage[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.4) out.push({ kind: 'buffer', buffer: bytes() });
    else if (r < 0.8) out.push({ kind: 'event', event: bytes() });
    else out.push({ kind: 'error', error: { message: STRINGS[Math.floor(rnd() * STRINGS.length)]! } });
  }
  return out;
}

/** The bytes a buffer or event message carries. */
function bytesOf(m: ProducerMessage): Uint8Array {
  if ('buffer' in m) return m.buffer;
  if ('event' in m) return m.event;
  throw new Error(`not a buffer or an event: ${m.kind}`);
}

/** What protobufjs makes of bytes, in the shape the codec decodes to. */
function viaProtobufjs(type: protobuf.Type, bytes: Uint8Array): unknown {
  return type.toObject(type.decode(bytes), { longs: Number, defaults: true, oneofs: true, bytes: Buffer });
}

describe('the data plane codec', () => {
  it('writes the bytes protobufjs writes, and reads them back (randomized, fixed seed)', () => {
    for (const msg of consumerMessages(400)) {
      const ours = encodeConsumerMessage(msg);
      const theirs = Consumer.encode(Consumer.fromObject(msg)).finish();
      expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
      expect(decodeConsumerMessage(theirs)).toEqual(msg);
      const decoded = viaProtobufjs(Consumer, ours) as Record<string, unknown>;
      expect(decoded.kind).toBe(msg.kind);
      expect(decoded[msg.kind!]).toEqual((msg as Record<string, unknown>)[msg.kind!]);
    }
    for (const msg of producerMessages(200)) {
      const ours = encodeProducerMessage(msg);
      const theirs = Producer.encode(Producer.fromObject(msg)).finish();
      expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
      const back = decodeProducerMessage(theirs);
      expect(back.kind).toBe(msg.kind);
      if (msg.kind === 'error') expect(back).toEqual(msg);
      else expect(Buffer.from(bytesOf(back)).equals(Buffer.from(bytesOf(msg)))).toBe(true);
      const decoded = viaProtobufjs(Producer, ours) as Record<string, unknown>;
      expect(decoded.kind).toBe(msg.kind);
    }
  });

  it('writes a message without a kind by the field it has, as proto-loader did', () => {
    expect(decodeConsumerMessage(encodeConsumerMessage({ credit: { credit: 5 } }))).toEqual({
      kind: 'credit',
      credit: { credit: 5 },
    });
    expect(decodeConsumerMessage(encodeConsumerMessage({ kind: 'credit', credit: { credit: 0 } }))).toEqual({
      kind: 'credit',
      credit: { credit: 0 },
    });
    expect(decodeConsumerMessage(Buffer.alloc(0))).toEqual({});
  });

  it('skips unknown fields of every wire type and keeps the last of a oneof set twice', () => {
    const w = protobuf.Writer.create();
    w.uint32((9 << 3) | 0).uint64(2 ** 40); // varint
    w.uint32((10 << 3) | 1).fixed64(3); // 64-bit
    w.uint32((11 << 3) | 5).fixed32(4); // 32-bit
    w.uint32((12 << 3) | 2).bytes(Buffer.from('future'));
    w.uint32((1 << 3) | 2).bytes(Buffer.from([1, 2, 3])); // buffer
    w.uint32((2 << 3) | 2).bytes(Buffer.from([9])); // event, set later: it wins
    const msg = decodeProducerMessage(w.finish());
    expect(msg.kind).toBe('event');
    expect([...(msg as { event: Uint8Array }).event]).toEqual([9]);
  });

  it('refuses truncated and malformed messages with a message', () => {
    const good = encodeProducerMessage({ kind: 'buffer', buffer: Buffer.alloc(100, 7) });
    expect(() => decodeProducerMessage(good.subarray(0, 50))).toThrow(/index out of range/);
    expect(() => decodeConsumerMessage(Buffer.from([0x10, 0x80]))).toThrow(/index out of range/);
    expect(() => decodeConsumerMessage(Buffer.from([0x0f]))).toThrow(/invalid wire type 7/);
  });
});
