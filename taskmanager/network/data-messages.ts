// TypeScript shapes of proto/data.proto messages as @grpc/proto-loader decodes them
// (camelCase fields, oneof name in `kind`).
import type * as grpc from '@grpc/grpc-js';
import { loadProto, serviceClient } from '../../common/rpc.js';

export interface PartitionRequest {
  partitionId: string;
  subpartition: number;
  initialCredit: number;
  protocolVersion: number;
  consumerTaskManagerId: string;
}

export type ConsumerMessage =
  { kind?: 'request'; request: PartitionRequest } | { kind?: 'credit'; credit: { credit: number } };

export type ProducerMessage =
  | { kind?: 'buffer'; buffer: Uint8Array }
  | { kind?: 'event'; event: Uint8Array }
  | { kind?: 'error'; error: { message: string } };

export function dataExchangeClientConstructor(): grpc.ServiceClientConstructor {
  return serviceClient(loadProto('data.proto'), 'weir.data.DataExchange');
}
