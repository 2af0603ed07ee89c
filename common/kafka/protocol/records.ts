// Kafka record batches, magic v2 (the only format of Produce v3+ and Fetch v4+):
//
//   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 (2) |
//   crc uint32 (CRC-32C of everything after it) | attributes int16 | lastOffsetDelta int32 |
//   baseTimestamp int64 | maxTimestamp int64 | producerId int64 | producerEpoch int16 |
//   baseSequence int32 | recordCount int32 | records (compressed as a whole when attributes say so)
//
// baseOffset and partitionLeaderEpoch lie outside the CRC, so a broker assigns offsets by
// rewriting baseOffset in place.
import { Compression, compress, decompress } from './compression.js';
import { crc32c } from './crc32c.js';
import { ErrorCode, KafkaProtocolError } from './errors.js';
import { readInt64, Reader, Writer, writeInt64 } from './io.js';

export const RECORD_BATCH_OVERHEAD = 61;
const CRC_START = 21;

export interface RecordHeader {
  key: string;
  value: Buffer | string | null;
}

export interface RecordInput {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: RecordHeader[];
  timestamp: number;
  /** Defaults to the record's position in the batch. */
  offsetDelta?: number;
}

export interface RecordBatchInput {
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  /** 0 CreateTime (default), 1 LogAppendTime. */
  timestampType?: 0 | 1;
  compression?: Compression;
  records: RecordInput[];
}

export interface DecodedRecord {
  offset: number;
  offsetDelta: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

export interface RecordBatchHeader {
  baseOffset: number;
  /** Bytes of the whole batch, baseOffset and length fields included. */
  sizeInBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: Compression;
  timestampType: 0 | 1;
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export interface RecordBatch extends RecordBatchHeader {
  records: DecodedRecord[];
}

function toBuf(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

function writeVarBytes(w: Writer, b: Buffer | null): void {
  if (b === null) w.varint(-1);
  else {
    w.varint(b.length);
    w.raw(b);
  }
}

export function encodeRecordBatch(batch: RecordBatchInput): Buffer {
  const records = batch.records;
  if (records.length === 0) throw new RangeError('a record batch holds at least one record');
  const codec = batch.compression ?? Compression.None;
  let baseTimestamp = records[0]!.timestamp;
  let maxTimestamp = baseTimestamp;
  for (const r of records) {
    if (r.timestamp < baseTimestamp) baseTimestamp = r.timestamp;
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  }
  const body = new Writer(64 + records.length * 32);
  let lastOffsetDelta = 0;
  const rw = new Writer(64);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const offsetDelta = r.offsetDelta ?? i;
    if (offsetDelta > lastOffsetDelta) lastOffsetDelta = offsetDelta;
    rw.pos = 0;
    rw.int8(0); // record attributes (unused)
    rw.varint(r.timestamp - baseTimestamp);
    rw.varint(offsetDelta);
    writeVarBytes(rw, toBuf(r.key));
    writeVarBytes(rw, toBuf(r.value));
    const headers = r.headers ?? [];
    rw.varint(headers.length);
    for (const h of headers) {
      const k = Buffer.from(h.key, 'utf8');
      rw.varint(k.length);
      rw.raw(k);
      writeVarBytes(rw, toBuf(h.value));
    }
    const rec = rw.finish();
    body.varint(rec.length);
    body.raw(rec);
  }
  const payload = compress(codec, body.finish());

  const w = new Writer(RECORD_BATCH_OVERHEAD + payload.length);
  w.int64(batch.baseOffset ?? 0);
  w.int32(RECORD_BATCH_OVERHEAD - 12 + payload.length);
  w.int32(batch.partitionLeaderEpoch ?? -1);
  w.int8(2);
  const crcAt = w.skip(4);
  let attributes = codec & 0x07;
  if (batch.timestampType === 1) attributes |= 0x08;
  if (batch.isTransactional) attributes |= 0x10;
  if (batch.isControl) attributes |= 0x20;
  w.int16(attributes);
  w.int32(lastOffsetDelta);
  w.int64(baseTimestamp);
  w.int64(maxTimestamp);
  w.int64(batch.producerId ?? -1);
  w.int16(batch.producerEpoch ?? -1);
  w.int32(batch.baseSequence ?? -1);
  w.int32(records.length);
  w.raw(payload);
  const out = w.finish();
  out.writeUInt32BE(crc32c(out, CRC_START), crcAt);
  return out;
}

/**
 * The header of the batch at `pos`, or undefined when fewer bytes than the whole batch remain
 * (a fetch response may end in a partial batch, which clients ignore).
 */
export function readRecordBatchHeader(buf: Buffer, pos = 0): RecordBatchHeader | undefined {
  if (pos + 17 > buf.length) return undefined;
  const batchLength = buf.readInt32BE(pos + 8);
  const sizeInBytes = batchLength + 12;
  const magicAt16 = buf.readInt8(pos + 16);
  if (magicAt16 === 0 || magicAt16 === 1) {
    throw new KafkaProtocolError(
      ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      `message format v${magicAt16} is not supported (only record batches v2)`,
    );
  }
  if (batchLength < RECORD_BATCH_OVERHEAD - 12) {
    // Old message formats (magic 0/1) are shorter; they are not supported.
    throw new KafkaProtocolError(ErrorCode.CORRUPT_MESSAGE, `record batch length ${batchLength} is too small`);
  }
  if (pos + sizeInBytes > buf.length) return undefined;
  const magic = buf.readInt8(pos + 16);
  if (magic !== 2)
    throw new KafkaProtocolError(
      ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      `record batch magic ${magic} is not supported (only v2)`,
    );
  const attributes = buf.readInt16BE(pos + 21);
  return {
    baseOffset: readInt64(buf, pos),
    sizeInBytes,
    partitionLeaderEpoch: buf.readInt32BE(pos + 12),
    magic,
    crc: buf.readUInt32BE(pos + 17),
    attributes,
    compression: (attributes & 0x07) as Compression,
    timestampType: (attributes & 0x08 ? 1 : 0) as 0 | 1,
    isTransactional: (attributes & 0x10) !== 0,
    isControl: (attributes & 0x20) !== 0,
    lastOffsetDelta: buf.readInt32BE(pos + 23),
    baseTimestamp: readInt64(buf, pos + 27),
    maxTimestamp: readInt64(buf, pos + 35),
    producerId: readInt64(buf, pos + 43),
    producerEpoch: buf.readInt16BE(pos + 51),
    baseSequence: buf.readInt32BE(pos + 53),
    recordCount: buf.readInt32BE(pos + 57),
  };
}

/** Whether the stored CRC of the batch at `pos` matches its contents. */
export function verifyRecordBatchCrc(buf: Buffer, pos: number, h: RecordBatchHeader): boolean {
  return crc32c(buf, pos + CRC_START, pos + h.sizeInBytes) === h.crc;
}

/** Rewrites the base offset (outside the CRC) of the batch at `pos`. */
export function setRecordBatchBaseOffset(buf: Buffer, pos: number, baseOffset: number): void {
  writeInt64(buf, baseOffset, pos);
}

/** Rewrites the partition leader epoch (outside the CRC) of the batch at `pos`. */
export function setRecordBatchLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + 12);
}

function readVarBytes(r: Reader): Buffer | null {
  const len = r.varint();
  return len < 0 ? null : r.bytes(len);
}

function decodeRecords(h: RecordBatchHeader, payload: Buffer): DecodedRecord[] {
  const r = new Reader(payload);
  const out: DecodedRecord[] = new Array(h.recordCount);
  for (let i = 0; i < h.recordCount; i++) {
    const len = r.varint();
    const end = r.pos + len;
    r.int8();
    const timestampDelta = r.varint();
    const offsetDelta = r.varint();
    const key = readVarBytes(r);
    const value = readVarBytes(r);
    const nHeaders = r.varint();
    const headers: { key: string; value: Buffer | null }[] = new Array(Math.max(0, nHeaders));
    for (let j = 0; j < nHeaders; j++) {
      const kl = r.varint();
      const k = r.utf8(kl);
      headers[j] = { key: k, value: readVarBytes(r) };
    }
    if (r.pos !== end)
      throw new KafkaProtocolError(ErrorCode.CORRUPT_MESSAGE, `record ${i} length ${len} does not match its fields`);
    out[i] = {
      offset: h.baseOffset + offsetDelta,
      offsetDelta,
      timestamp: h.timestampType === 1 ? h.maxTimestamp : h.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    };
  }
  return out;
}

export interface DecodeBatchesOptions {
  /** Check every batch's CRC (default true). */
  verifyCrc?: boolean;
}

/**
 * Decodes the record batches of a Produce request or Fetch response (`records` field). A
 * trailing partial batch is ignored, as Kafka clients do.
 */
export function decodeRecordBatches(buf: Buffer | null, opts: DecodeBatchesOptions = {}): RecordBatch[] {
  const out: RecordBatch[] = [];
  if (!buf) return out;
  let pos = 0;
  for (;;) {
    const h = readRecordBatchHeader(buf, pos);
    if (!h) break;
    if (opts.verifyCrc !== false && !verifyRecordBatchCrc(buf, pos, h)) {
      throw new KafkaProtocolError(
        ErrorCode.CORRUPT_MESSAGE,
        `record batch at offset ${h.baseOffset} fails its CRC check`,
      );
    }
    const payload = decompress(h.compression, buf.subarray(pos + RECORD_BATCH_OVERHEAD, pos + h.sizeInBytes));
    out.push({ ...h, records: decodeRecords(h, payload) });
    pos += h.sizeInBytes;
  }
  return out;
}

// Control records (transaction markers): key = version int16 (0), type int16 (0 abort, 1
// commit); value = version int16 (0), coordinatorEpoch int32.
export enum ControlRecordType {
  Abort = 0,
  Commit = 1,
}

export interface EndTxnMarkerInput {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  timestamp: number;
  coordinatorEpoch?: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
}

export function encodeEndTxnMarker(m: EndTxnMarkerInput): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(m.commit ? ControlRecordType.Commit : ControlRecordType.Abort, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(m.coordinatorEpoch ?? 0, 2);
  return encodeRecordBatch({
    baseOffset: m.baseOffset ?? 0,
    partitionLeaderEpoch: m.partitionLeaderEpoch ?? -1,
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
    records: [{ key, value, timestamp: m.timestamp }],
  });
}

/** The type of a control record (from its key), or undefined for a malformed key. */
export function controlRecordType(record: DecodedRecord): ControlRecordType | undefined {
  if (!record.key || record.key.length < 4) return undefined;
  return record.key.readInt16BE(2) as ControlRecordType;
}
