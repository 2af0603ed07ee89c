// The data plane's messages (proto/data.proto) on protobufjs's minimal runtime, as protobufjs's
// static code generator writes them: each message's fields are listed here and protobufjs's Reader
// and Writer do the wire format. Loading @grpc/proto-loader with the whole of protobufjs (its .proto
// parser, reflection) took about a quarter of each slot thread's start; the minimal runtime is a
// few files. The bytes are protobuf's (test/unit/data-codec.test.ts checks them against protobufjs
// reading proto/data.proto); unknown fields are skipped and a oneof set twice keeps its last value.
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import type { ConsumerMessage, PartitionRequest, ProducerMessage } from './data-messages.js';

const { Reader, Writer } = protobuf;
type Reader = protobuf.Reader;

const LENGTH_DELIMITED = 2;
/** A field's tag: its number and wire type. */
const tag = (field: number, wireType: number) => (field << 3) | wireType;

export function encodeConsumerMessage(msg: ConsumerMessage): Buffer {
  const w = Writer.create();
  if ('request' in msg && msg.request) {
    const r = msg.request;
    const m = w.uint32(tag(1, LENGTH_DELIMITED)).fork();
    // proto3 leaves fields at their default value off the wire.
    if (r.partitionId) m.uint32(tag(1, LENGTH_DELIMITED)).string(r.partitionId);
    if (r.subpartition) m.uint32(tag(2, 0)).uint32(r.subpartition);
    if (r.initialCredit) m.uint32(tag(3, 0)).uint32(r.initialCredit);
    if (r.protocolVersion) m.uint32(tag(4, 0)).uint32(r.protocolVersion);
    if (r.consumerTaskManagerId) m.uint32(tag(5, LENGTH_DELIMITED)).string(r.consumerTaskManagerId);
    m.ldelim();
  } else if ('credit' in msg && msg.credit) {
    const m = w.uint32(tag(2, LENGTH_DELIMITED)).fork();
    if (msg.credit.credit) m.uint32(tag(1, 0)).uint32(msg.credit.credit);
    m.ldelim();
  } else if ('bufferSize' in msg && msg.bufferSize) {
    const m = w.uint32(tag(3, LENGTH_DELIMITED)).fork();
    if (msg.bufferSize.size) m.uint32(tag(1, 0)).uint32(msg.bufferSize.size);
    m.ldelim();
  }
  return w.finish() as Buffer;
}

export function encodeProducerMessage(msg: ProducerMessage): Buffer {
  const w = Writer.create();
  if ('buffer' in msg && msg.buffer) w.uint32(tag(1, LENGTH_DELIMITED)).bytes(msg.buffer);
  else if ('event' in msg && msg.event) w.uint32(tag(2, LENGTH_DELIMITED)).bytes(msg.event);
  else if ('error' in msg && msg.error) {
    const m = w.uint32(tag(3, LENGTH_DELIMITED)).fork();
    if (msg.error.message) m.uint32(tag(1, LENGTH_DELIMITED)).string(msg.error.message);
    m.ldelim();
  }
  return w.finish() as Buffer;
}

/** Reads fields up to `end`, calling `field` for each; what it does not take (false) is skipped. */
function readFields(r: Reader, end: number, field: (number: number, wireType: number) => boolean): void {
  while (r.pos < end) {
    const t = r.uint32();
    if (!field(t >>> 3, t & 7)) r.skipType(t & 7);
  }
}

/** The fields of a nested message of `len` bytes. */
function readNested(r: Reader, len: number, field: (number: number, wireType: number) => boolean): void {
  readFields(r, r.pos + len, field);
}

function readPartitionRequest(r: Reader, len: number): PartitionRequest {
  const p: PartitionRequest = {
    partitionId: '',
    subpartition: 0,
    initialCredit: 0,
    protocolVersion: 0,
    consumerTaskManagerId: '',
  };
  readNested(r, len, (n, wire) => {
    if (wire === LENGTH_DELIMITED && n === 1) p.partitionId = r.string();
    else if (wire === LENGTH_DELIMITED && n === 5) p.consumerTaskManagerId = r.string();
    else if (wire === 0 && n === 2) p.subpartition = r.uint32();
    else if (wire === 0 && n === 3) p.initialCredit = r.uint32();
    else if (wire === 0 && n === 4) p.protocolVersion = r.uint32();
    else return false;
    return true;
  });
  return p;
}

/** Field 1 of a nested message: a uint32 (AddCredit, NewBufferSize) or a string (ProducerError). */
function readFirstField<T extends number | string>(r: Reader, len: number, dflt: T): T {
  let value = dflt;
  readNested(r, len, (n, wire) => {
    if (n !== 1) return false;
    if (typeof dflt === 'number' && wire === 0) value = r.uint32() as T;
    else if (typeof dflt === 'string' && wire === LENGTH_DELIMITED) value = r.string() as T;
    else return false;
    return true;
  });
  return value;
}

export function decodeConsumerMessage(bytes: Uint8Array): ConsumerMessage {
  const r = Reader.create(bytes);
  // A message with no oneof set decodes without a kind, as proto-loader's did; the service refuses it.
  let msg = {} as ConsumerMessage;
  readFields(r, r.len, (n, wire) => {
    if (wire !== LENGTH_DELIMITED) return false;
    if (n === 1) msg = { kind: 'request', request: readPartitionRequest(r, r.uint32()) };
    else if (n === 2) msg = { kind: 'credit', credit: { credit: readFirstField(r, r.uint32(), 0) } };
    else if (n === 3) msg = { kind: 'bufferSize', bufferSize: { size: readFirstField(r, r.uint32(), 0) } };
    else return false;
    return true;
  });
  return msg;
}

export function decodeProducerMessage(bytes: Uint8Array): ProducerMessage {
  const r = Reader.create(bytes);
  let msg = {} as ProducerMessage;
  readFields(r, r.len, (n, wire) => {
    if (wire !== LENGTH_DELIMITED) return false;
    // Bytes of a Buffer are a view of it, not a copy (protobufjs's BufferReader slices).
    if (n === 1) msg = { kind: 'buffer', buffer: r.bytes() };
    else if (n === 2) msg = { kind: 'event', event: r.bytes() };
    else if (n === 3) msg = { kind: 'error', error: { message: readFirstField(r, r.uint32(), '') } };
    else return false;
    return true;
  });
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
