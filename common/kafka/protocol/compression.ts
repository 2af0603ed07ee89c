// Compression of record batch payloads: none, gzip (node:zlib) and snappy (the `snappy` package;
// written in the xerial framing the Java client uses, read both framed and as a raw block, as
// librdkafka and the Java client do). lz4 and zstd are refused with UNSUPPORTED_COMPRESSION_TYPE.
import { gunzipSync, gzipSync } from 'node:zlib';
import { lazyRequire } from '../../lazy-require.js';
import { ErrorCode, KafkaProtocolError } from './errors.js';

export enum Compression {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

interface SnappyModule {
  compressSync(input: Buffer): Buffer;
  uncompressSync(input: Buffer, opts?: { asBuffer?: boolean }): Buffer | string;
}

// A native module most users of the codec never need.
const snappyModule = lazyRequire<SnappyModule>('snappy');

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_BLOCK = 32 * 1024;

function snappyCompress(data: Buffer): Buffer {
  const s = snappyModule();
  const parts: Buffer[] = [XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])];
  for (let i = 0; i < data.length; i += XERIAL_BLOCK) {
    const block = s.compressSync(data.subarray(i, Math.min(data.length, i + XERIAL_BLOCK)));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

function snappyUncompress(data: Buffer): Buffer {
  const s = snappyModule();
  if (data.length >= 16 && data.subarray(0, 8).equals(XERIAL_MAGIC)) {
    const parts: Buffer[] = [];
    let pos = 16;
    while (pos + 4 <= data.length) {
      const len = data.readInt32BE(pos);
      pos += 4;
      if (len < 0 || pos + len > data.length)
        throw new KafkaProtocolError(ErrorCode.CORRUPT_MESSAGE, 'truncated xerial snappy block');
      parts.push(s.uncompressSync(data.subarray(pos, pos + len), { asBuffer: true }) as Buffer);
      pos += len;
    }
    return Buffer.concat(parts);
  }
  return s.uncompressSync(data, { asBuffer: true }) as Buffer;
}

export function compress(codec: Compression, data: Buffer): Buffer {
  switch (codec) {
    case Compression.None:
      return data;
    case Compression.Gzip:
      return gzipSync(data);
    case Compression.Snappy:
      return snappyCompress(data);
    default:
      throw new KafkaProtocolError(
        ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
        `compression ${Compression[codec] ?? codec} is not supported`,
      );
  }
}

export function decompress(codec: Compression, data: Buffer): Buffer {
  switch (codec) {
    case Compression.None:
      return data;
    case Compression.Gzip:
      return gunzipSync(data);
    case Compression.Snappy:
      return snappyUncompress(data);
    default:
      throw new KafkaProtocolError(
        ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
        `compression ${Compression[codec] ?? codec} is not supported`,
      );
  }
}
