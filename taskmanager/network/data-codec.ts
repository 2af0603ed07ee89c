// The data plane's messages (proto/data.proto) in protobuf's wire format, written and read here
// rather than through @grpc/proto-loader: they are five small messages, and loading proto-loader
// with protobufjs took about a quarter of each slot thread's start. The bytes are what protobuf
// writes for them (test/unit/data-codec.test.ts checks against protobufjs); unknown fields are
// skipped, as protobuf readers do, and a oneof set twice keeps its last value.
import type * as grpc from '@grpc/grpc-js';
import type { ConsumerMessage, PartitionRequest, ProducerMessage } from './data-messages.js';

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

// ---------------------------------------------------------------------------------------------
// Writing: each message's size is computed first, then it is written into one buffer.

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

class Out {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  varint(v: number): void {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** A length-delimited field of `len` bytes; the caller writes them. */
  lengthPrefix(field: number, len: number): void {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(len);
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(s: string, byteLength: number): void {
    this.pos += this.buf.write(s, this.pos, byteLength, 'utf8');
  }
}

/** Size of a length-delimited field holding `len` bytes (tag of a field below 16 included). */
function fieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

function uint32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what} is not a uint32: ${v}`);
  return v;
}

function partitionRequestBytes(r: PartitionRequest): Buffer {
  const id = r.partitionId ?? '';
  const tm = r.consumerTaskManagerId ?? '';
  const idLen = Buffer.byteLength(id, 'utf8');
  const tmLen = Buffer.byteLength(tm, 'utf8');
  const ints: [number, number][] = [
    [2, uint32(r.subpartition ?? 0, 'subpartition')],
    [3, uint32(r.initialCredit ?? 0, 'initialCredit')],
    [4, uint32(r.protocolVersion ?? 0, 'protocolVersion')],
  ];
  // proto3 leaves fields at their default value off the wire.
  let size = (idLen ? fieldSize(idLen) : 0) + (tmLen ? fieldSize(tmLen) : 0);
  for (const [, v] of ints) if (v) size += 1 + varintSize(v);
  const out = new Out(size);
  if (idLen) {
    out.lengthPrefix(1, idLen);
    out.string(id, idLen);
  }
  for (const [field, v] of ints) {
    if (!v) continue;
    out.tag(field, VARINT);
    out.varint(v);
  }
  if (tmLen) {
    out.lengthPrefix(5, tmLen);
    out.string(tm, tmLen);
  }
  return out.buf;
}

/** One message field `field` holding `body`. */
function wrap(field: number, body: Uint8Array): Buffer {
  const out = new Out(fieldSize(body.length));
  out.lengthPrefix(field, body.length);
  out.bytes(body);
  return out.buf;
}

export function encodeConsumerMessage(msg: ConsumerMessage): Buffer {
  if ('request' in msg && msg.request) return wrap(1, partitionRequestBytes(msg.request));
  if ('credit' in msg && msg.credit) {
    const credit = uint32(msg.credit.credit ?? 0, 'credit');
    const body = new Out(credit ? 1 + varintSize(credit) : 0);
    if (credit) {
      body.tag(1, VARINT);
      body.varint(credit);
    }
    return wrap(2, body.buf);
  }
  return Buffer.alloc(0);
}

export function encodeProducerMessage(msg: ProducerMessage): Buffer {
  if ('buffer' in msg && msg.buffer) return wrap(1, msg.buffer);
  if ('event' in msg && msg.event) return wrap(2, msg.event);
  if ('error' in msg && msg.error) {
    const text = msg.error.message ?? '';
    const len = Buffer.byteLength(text, 'utf8');
    const body = new Out(len ? fieldSize(len) : 0);
    if (len) {
      body.lengthPrefix(1, len);
      body.string(text, len);
    }
    return wrap(3, body.buf);
  }
  return Buffer.alloc(0);
}

// ---------------------------------------------------------------------------------------------
// Reading.

class In {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint of up to 64 bits; a uint32 field keeps its low 32 (as protobuf's readers do). */
  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('data message truncated inside a varint');
      const b = this.buf[this.pos++]!;
      if (i < 5) v += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) return v % 0x100000000;
    }
    throw new Error('data message has a varint longer than 10 bytes');
  }

  /** The [start, end) of a length-delimited field's bytes. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new Error('data message truncated inside a field');
    this.pos = start + len;
    return [start, start + len];
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === LENGTH_DELIMITED) this.span();
    else if (wireType === FIXED64 || wireType === FIXED32) {
      this.pos += wireType === FIXED64 ? 8 : 4;
      if (this.pos > this.end) throw new Error('data message truncated inside a fixed-size field');
    } else throw new Error(`data message has a field of unknown wire type ${wireType}`);
  }

  /** Reads a tag: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    return [Math.floor(t / 8), t & 7];
  }

  string([start, end]: [number, number]): string {
    return this.buf.toString('utf8', start, end);
  }
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function decodePartitionRequest(inp: In, [start, end]: [number, number]): PartitionRequest {
  const r: PartitionRequest = {
    partitionId: '',
    subpartition: 0,
    initialCredit: 0,
    protocolVersion: 0,
    consumerTaskManagerId: '',
  };
  const m = new In(inp.buf, start, end);
  while (!m.done) {
    const [field, wire] = m.tag();
    if (field === 1 && wire === LENGTH_DELIMITED) r.partitionId = m.string(m.span());
    else if (field === 2 && wire === VARINT) r.subpartition = m.varint();
    else if (field === 3 && wire === VARINT) r.initialCredit = m.varint();
    else if (field === 4 && wire === VARINT) r.protocolVersion = m.varint();
    else if (field === 5 && wire === LENGTH_DELIMITED) r.consumerTaskManagerId = m.string(m.span());
    else m.skip(wire);
  }
  return r;
}

/** The single field `wanted` (a varint or a string) of a nested message, or its default. */
function nestedField<T extends number | string>(inp: In, [start, end]: [number, number], wanted: number, dflt: T): T {
  const m = new In(inp.buf, start, end);
  let value = dflt;
  while (!m.done) {
    const [field, wire] = m.tag();
    if (field === wanted && typeof dflt === 'number' && wire === VARINT) value = m.varint() as T;
    else if (field === wanted && typeof dflt === 'string' && wire === LENGTH_DELIMITED) value = m.string(m.span()) as T;
    else m.skip(wire);
  }
  return value;
}

export function decodeConsumerMessage(bytes: Uint8Array): ConsumerMessage {
  const inp = new In(toBuffer(bytes));
  // A message with no oneof set decodes without a kind, as proto-loader's did; the service refuses it.
  let msg = {} as ConsumerMessage;
  while (!inp.done) {
    const [field, wire] = inp.tag();
    if (field === 1 && wire === LENGTH_DELIMITED)
      msg = { kind: 'request', request: decodePartitionRequest(inp, inp.span()) };
    else if (field === 2 && wire === LENGTH_DELIMITED)
      msg = { kind: 'credit', credit: { credit: nestedField(inp, inp.span(), 1, 0) } };
    else inp.skip(wire);
  }
  return msg;
}

export function decodeProducerMessage(bytes: Uint8Array): ProducerMessage {
  const inp = new In(toBuffer(bytes));
  let msg = {} as ProducerMessage;
  while (!inp.done) {
    const [field, wire] = inp.tag();
    if (wire !== LENGTH_DELIMITED || field < 1 || field > 3) {
      inp.skip(wire);
      continue;
    }
    const span = inp.span();
    // A view of the received bytes, not a copy (protobufjs reads bytes fields of a Buffer so too).
    if (field === 1) msg = { kind: 'buffer', buffer: inp.buf.subarray(span[0], span[1]) };
    else if (field === 2) msg = { kind: 'event', event: inp.buf.subarray(span[0], span[1]) };
    else msg = { kind: 'error', error: { message: nestedField(inp, span, 1, '') } };
  }
  return msg;
}

/** DataExchange's one method, as grpc-js takes a service: the consumer's stream up, the producer's down. */
export const DATA_EXCHANGE_SERVICE: grpc.ServiceDefinition = {
  Subscribe: {
    path: '/weir.data.DataExchange/Subscribe',
    requestStream: true,
    responseStream: true,
    requestSerialize: encodeConsumerMessage,
    requestDeserialize: decodeConsumerMessage,
    responseSerialize: encodeProducerMessage,
    responseDeserialize: decodeProducerMessage,
    originalName: 'subscribe',
  },
};
