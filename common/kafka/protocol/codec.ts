// Requests and responses as frames: a 4-byte size, the header, the body. encode* return the
// whole frame (size included) and decode* take a whole frame, so decode(encode(x)) is x.
import { ApiKeys, apiKeyName } from './api-keys.js';
import { ErrorCode } from './errors.js';
import { Reader, Writer } from './io.js';
import { MESSAGES_BY_KEY, type MessageSpec } from './messages.js';
import { compileStruct, decodeStruct, encodeStruct, type CompiledStruct } from './schema.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kafka bodies are decoded from schemas at run time; the caller names the type it expects.
export interface DecodedRequest<T = any> {
  header: RequestHeader;
  body: T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kafka bodies are decoded from schemas at run time; the caller names the type it expects.
export interface DecodedResponse<T = any> {
  correlationId: number;
  body: T;
}

/** A request this codec cannot decode: an API or version outside the implemented ranges. */
export class UnsupportedVersionError extends Error {
  readonly code = ErrorCode.UNSUPPORTED_VERSION;
  constructor(readonly header: RequestHeader) {
    super(`unsupported ${apiKeyName(header.apiKey)} version ${header.apiVersion}`);
    this.name = 'UnsupportedVersionError';
  }
}

export function messageSpec(apiKey: number): MessageSpec | undefined {
  return MESSAGES_BY_KEY.get(apiKey);
}

export function isSupported(apiKey: number, apiVersion: number): boolean {
  const m = MESSAGES_BY_KEY.get(apiKey);
  return !!m && apiVersion >= m.versions.min && apiVersion <= m.versions.max;
}

export function isFlexible(apiKey: number, apiVersion: number): boolean {
  const m = MESSAGES_BY_KEY.get(apiKey);
  return !!m && apiVersion >= m.flexibleFrom;
}

/** The implemented version range of every API, as an ApiVersions response lists them. */
export function supportedApiVersions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
  return [...MESSAGES_BY_KEY.values()].map((m) => ({
    apiKey: m.apiKey,
    minVersion: m.versions.min,
    maxVersion: m.versions.max,
  }));
}

const cache = new Map<string, CompiledStruct>();

function compiled(apiKey: number, apiVersion: number, kind: 'request' | 'response'): CompiledStruct {
  const key = `${apiKey}:${apiVersion}:${kind}`;
  let c = cache.get(key);
  if (!c) {
    const m = MESSAGES_BY_KEY.get(apiKey);
    if (!m || apiVersion < m.versions.min || apiVersion > m.versions.max) {
      throw new RangeError(`unsupported ${apiKeyName(apiKey)} version ${apiVersion}`);
    }
    c = compileStruct(m[kind], apiVersion, apiVersion >= m.flexibleFrom);
    cache.set(key, c);
  }
  return c;
}

function finishFrame(w: Writer): Buffer {
  const frame = w.finish();
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

function openFrame(frame: Buffer): Reader {
  if (frame.length < 4) throw new RangeError('frame shorter than its size field');
  const size = frame.readInt32BE(0);
  if (size !== frame.length - 4)
    throw new RangeError(`frame size ${size} does not match its ${frame.length - 4} bytes`);
  return new Reader(frame, 4);
}

export function encodeRequest(header: RequestHeader, body: object): Buffer {
  const struct = compiled(header.apiKey, header.apiVersion, 'request');
  const w = new Writer(256);
  w.skip(4);
  w.int16(header.apiKey);
  w.int16(header.apiVersion);
  w.int32(header.correlationId);
  // The client id stays a classic nullable string even in header v2.
  if (header.clientId === null) w.int16(-1);
  else {
    const len = Buffer.byteLength(header.clientId);
    w.int16(len);
    w.utf8(header.clientId, len);
  }
  if (struct.flexible) w.uvarint(0); // header v2: no tagged fields
  encodeStruct(w, struct, body as Record<string, unknown>);
  return finishFrame(w);
}

/** Reads just the header of a request frame (for answering requests the codec cannot decode). */
export function decodeRequestHeader(frame: Buffer): RequestHeader {
  const r = openFrame(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const len = r.int16();
  const clientId = len < 0 ? null : r.utf8(len);
  return { apiKey, apiVersion, correlationId, clientId };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kafka bodies are decoded from schemas at run time; the caller names the type it expects.
export function decodeRequest<T = any>(frame: Buffer): DecodedRequest<T> {
  const r = openFrame(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const len = r.int16();
  const clientId = len < 0 ? null : r.utf8(len);
  const header = { apiKey, apiVersion, correlationId, clientId };
  if (!isSupported(apiKey, apiVersion)) throw new UnsupportedVersionError(header);
  const struct = compiled(apiKey, apiVersion, 'request');
  if (struct.flexible) skipTaggedFields(r);
  const body = decodeStruct(r, struct) as T;
  if (r.remaining() !== 0)
    throw new RangeError(`${r.remaining()} bytes left after ${apiKeyName(apiKey)} v${apiVersion} request`);
  return { header, body };
}

/** ApiVersions responses always have header v0, so that any client can read them (KIP-511). */
function flexibleResponseHeader(apiKey: number, struct: CompiledStruct): boolean {
  return struct.flexible && apiKey !== ApiKeys.ApiVersions;
}

export function encodeResponse(apiKey: number, apiVersion: number, correlationId: number, body: object): Buffer {
  const struct = compiled(apiKey, apiVersion, 'response');
  const w = new Writer(256);
  w.skip(4);
  w.int32(correlationId);
  if (flexibleResponseHeader(apiKey, struct)) w.uvarint(0);
  encodeStruct(w, struct, body as Record<string, unknown>);
  return finishFrame(w);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kafka bodies are decoded from schemas at run time; the caller names the type it expects.
export function decodeResponse<T = any>(apiKey: number, apiVersion: number, frame: Buffer): DecodedResponse<T> {
  const struct = compiled(apiKey, apiVersion, 'response');
  const r = openFrame(frame);
  const correlationId = r.int32();
  if (flexibleResponseHeader(apiKey, struct)) skipTaggedFields(r);
  const body = decodeStruct(r, struct) as T;
  return { correlationId, body };
}

function skipTaggedFields(r: Reader): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint();
    r.bytes(r.uvarint());
  }
}
