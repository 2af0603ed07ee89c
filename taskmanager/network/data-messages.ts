// TypeScript shapes of proto/data.proto messages as data-codec.ts decodes them (camelCase fields,
// the oneof's name in `kind`, as @grpc/proto-loader decodes them).
import * as grpc from '@grpc/grpc-js';
import { DATA_EXCHANGE_SERVICE } from './data-codec.js';

export interface PartitionRequest {
  partitionId: string;
  subpartition: number;
  initialCredit: number;
  protocolVersion: number;
  consumerTaskManagerId: string;
}

export type ConsumerMessage =
  | { kind?: 'request'; request: PartitionRequest }
  | { kind?: 'credit'; credit: { credit: number } }
  | { kind?: 'bufferSize'; bufferSize: { size: number } };

export type ProducerMessage =
  | { kind?: 'buffer'; buffer: Uint8Array }
  | { kind?: 'event'; event: Uint8Array }
  | { kind?: 'error'; error: { message: string } };

let clientConstructor: grpc.ServiceClientConstructor | undefined;

export function dataExchangeClientConstructor(): grpc.ServiceClientConstructor {
  return (clientConstructor ??= grpc.makeGenericClientConstructor(DATA_EXCHANGE_SERVICE, 'DataExchange'));
}
