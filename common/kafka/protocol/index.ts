// The Kafka wire protocol: schema-driven codec, record batches v2, a client connection.
// Supported APIs and versions are listed in messages.ts.
export { ApiKeys, apiKeyName } from './api-keys.js';
export {
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  isFlexible,
  isSupported,
  messageSpec,
  supportedApiVersions,
  UnsupportedVersionError,
  type DecodedRequest,
  type DecodedResponse,
  type RequestHeader,
} from './codec.js';
export { Compression } from './compression.js';
export { crc32c } from './crc32c.js';
export { KafkaConnection, type KafkaConnectionOptions } from './connection.js';
export { ErrorCode, errorName, isRetriable, KafkaProtocolError } from './errors.js';
export { FrameReader } from './framing.js';
export { MESSAGES, type MessageSpec } from './messages.js';
export {
  controlRecordType,
  ControlRecordType,
  decodeRecordBatches,
  encodeEndTxnMarker,
  encodeRecordBatch,
  readRecordBatchHeader,
  setRecordBatchBaseOffset,
  setRecordBatchLeaderEpoch,
  verifyRecordBatchCrc,
  RECORD_BATCH_OVERHEAD,
  type DecodedRecord,
  type DecodeBatchesOptions,
  type EndTxnMarkerInput,
  type RecordBatch,
  type RecordBatchHeader,
  type RecordBatchInput,
  type RecordHeader,
  type RecordInput,
} from './records.js';
export type { FieldSpec } from './schema.js';
