// The Kafka messages Weir speaks, defined once per API from Apache Kafka's JSON message
// definitions (clients/src/main/resources/common/message/<Name>{Request,Response}.json), with the
// field names camelCased exactly as there. Each definition covers every version of the Kafka
// file up to the highest one implemented; `versions` is the range Weir encodes, decodes and (in
// the development broker) serves:
//
//   API                  key  versions  flexible from
//   Produce                0  0-8       9   (record batches v2 only, in every version: v0-v2 are
//                                           advertised because librdkafka only compresses when a
//                                           broker lists Produce v0; their old message sets are
//                                           refused with UNSUPPORTED_FOR_MESSAGE_FORMAT)
//   Fetch                  1  4-11      12
//   ListOffsets            2  1-5       6
//   Metadata               3  0-8       9
//   OffsetCommit           8  0-7       8
//   OffsetFetch            9  0-5       6
//   FindCoordinator       10  0-2       3
//   JoinGroup             11  0-5       6
//   Heartbeat             12  0-3       4
//   LeaveGroup            13  0-3       4
//   SyncGroup             14  0-3       4
//   DescribeGroups        15  0-4       5
//   ListGroups            16  0-2       3
//   SaslHandshake         17  0-1       -   (v0 is followed by raw SASL tokens, v1 by SaslAuthenticate)
//   ApiVersions           18  0-3       3   (v3 is flexible: compact strings/arrays, tagged fields)
//   CreateTopics          19  0-4       5
//   DeleteTopics          20  0-3       4
//   InitProducerId        22  0-1       2
//   AddPartitionsToTxn    24  0-2       3
//   AddOffsetsToTxn       25  0-2       3
//   EndTxn                26  0-2       3
//   TxnOffsetCommit       28  0-2       3
//   SaslAuthenticate      36  0-1       2
//
// Every version in those ranges is accepted by Apache Kafka 2.x through 4.x brokers.
// Request headers are v1 (v2 when the API version is flexible); response headers v0 (v1 when
// flexible), except ApiVersions responses, which always use header v0.
import { ApiKeys } from './api-keys.js';
import type { FieldSpec } from './schema.js';

export interface MessageSpec {
  apiKey: ApiKeys;
  name: string;
  /** The versions implemented here. */
  versions: { min: number; max: number };
  /** First flexible version (Infinity when none of Kafka's versions is flexible). */
  flexibleFrom: number;
  request: FieldSpec[];
  response: FieldSpec[];
}

type Extra = Partial<Omit<FieldSpec, 'name' | 'type' | 'versions'>>;

function f(name: string, type: string, versions: string, extra: Extra = {}): FieldSpec {
  return { name, type, versions, ...extra };
}

/** An array of structs. */
function a(name: string, versions: string, fields: FieldSpec[], extra: Extra = {}): FieldSpec {
  return { name, type: '[]', versions, fields, ...extra };
}

const THROTTLE = (v: string) => f('throttleTimeMs', 'int32', v);

export const MESSAGES: MessageSpec[] = [
  {
    apiKey: ApiKeys.Produce,
    name: 'Produce',
    versions: { min: 0, max: 8 },
    flexibleFrom: 9,
    request: [
      f('transactionalId', 'string', '3+', { nullableVersions: '3+', default: null }),
      f('acks', 'int16', '0+'),
      f('timeoutMs', 'int32', '0+'),
      a('topicData', '0+', [
        f('name', 'string', '0+'),
        a('partitionData', '0+', [
          f('index', 'int32', '0+'),
          f('records', 'records', '0+', { nullableVersions: '0+' }),
        ]),
      ]),
    ],
    response: [
      a('responses', '0+', [
        f('name', 'string', '0+'),
        a('partitionResponses', '0+', [
          f('index', 'int32', '0+'),
          f('errorCode', 'int16', '0+'),
          f('baseOffset', 'int64', '0+'),
          f('logAppendTimeMs', 'int64', '2+', { default: -1 }),
          f('logStartOffset', 'int64', '5+', { default: -1 }),
          a('recordErrors', '8+', [
            f('batchIndex', 'int32', '8+'),
            f('batchIndexErrorMessage', 'string', '8+', { nullableVersions: '8+', default: null }),
          ]),
          f('errorMessage', 'string', '8+', { nullableVersions: '8+', default: null }),
        ]),
      ]),
      THROTTLE('1+'),
    ],
  },
  {
    apiKey: ApiKeys.Fetch,
    name: 'Fetch',
    versions: { min: 4, max: 11 },
    flexibleFrom: 12,
    request: [
      f('replicaId', 'int32', '0-14', { default: -1 }),
      f('maxWaitMs', 'int32', '0+'),
      f('minBytes', 'int32', '0+'),
      f('maxBytes', 'int32', '3+', { default: 0x7fffffff }),
      f('isolationLevel', 'int8', '4+'),
      f('sessionId', 'int32', '7+'),
      f('sessionEpoch', 'int32', '7+', { default: -1 }),
      a('topics', '0+', [
        f('topic', 'string', '0-12'),
        f('topicId', 'uuid', '13+'),
        a('partitions', '0+', [
          f('partition', 'int32', '0+'),
          f('currentLeaderEpoch', 'int32', '9+', { default: -1 }),
          f('fetchOffset', 'int64', '0+'),
          f('lastFetchedEpoch', 'int32', '12+', { default: -1 }),
          f('logStartOffset', 'int64', '5+', { default: -1 }),
          f('partitionMaxBytes', 'int32', '0+'),
        ]),
      ]),
      a('forgottenTopicsData', '7+', [
        f('topic', 'string', '7-12'),
        f('topicId', 'uuid', '13+'),
        f('partitions', '[]int32', '7+'),
      ]),
      f('rackId', 'string', '11+'),
    ],
    response: [
      THROTTLE('1+'),
      f('errorCode', 'int16', '7+'),
      f('sessionId', 'int32', '7+'),
      a('responses', '0+', [
        f('topic', 'string', '0-12'),
        f('topicId', 'uuid', '13+'),
        a('partitions', '0+', [
          f('partitionIndex', 'int32', '0+'),
          f('errorCode', 'int16', '0+'),
          f('highWatermark', 'int64', '0+'),
          f('lastStableOffset', 'int64', '4+', { default: -1 }),
          f('logStartOffset', 'int64', '5+', { default: -1 }),
          a('abortedTransactions', '4+', [f('producerId', 'int64', '4+'), f('firstOffset', 'int64', '4+')], {
            nullableVersions: '4+',
            default: null,
          }),
          f('preferredReadReplica', 'int32', '11+', { default: -1 }),
          f('records', 'records', '0+', { nullableVersions: '0+' }),
        ]),
      ]),
    ],
  },
  {
    apiKey: ApiKeys.ListOffsets,
    name: 'ListOffsets',
    versions: { min: 1, max: 5 },
    flexibleFrom: 6,
    request: [
      f('replicaId', 'int32', '0+', { default: -1 }),
      f('isolationLevel', 'int8', '2+'),
      a('topics', '0+', [
        f('name', 'string', '0+'),
        a('partitions', '0+', [
          f('partitionIndex', 'int32', '0+'),
          f('currentLeaderEpoch', 'int32', '4+', { default: -1 }),
          f('timestamp', 'int64', '0+'),
          f('maxNumOffsets', 'int32', '0', { default: 1 }),
        ]),
      ]),
    ],
    response: [
      THROTTLE('2+'),
      a('topics', '0+', [
        f('name', 'string', '0+'),
        a('partitions', '0+', [
          f('partitionIndex', 'int32', '0+'),
          f('errorCode', 'int16', '0+'),
          f('oldStyleOffsets', '[]int64', '0'),
          f('timestamp', 'int64', '1+', { default: -1 }),
          f('offset', 'int64', '1+', { default: -1 }),
          f('leaderEpoch', 'int32', '4+', { default: -1 }),
        ]),
      ]),
    ],
  },
  {
    apiKey: ApiKeys.Metadata,
    name: 'Metadata',
    versions: { min: 0, max: 8 },
    flexibleFrom: 9,
    request: [
      a('topics', '0+', [f('topicId', 'uuid', '10+'), f('name', 'string', '0+', { nullableVersions: '10+' })], {
        nullableVersions: '1+',
      }),
      f('allowAutoTopicCreation', 'bool', '4+', { default: true }),
      f('includeClusterAuthorizedOperations', 'bool', '8-10'),
      f('includeTopicAuthorizedOperations', 'bool', '8+'),
    ],
    response: [
      THROTTLE('3+'),
      a('brokers', '0+', [
        f('nodeId', 'int32', '0+'),
        f('host', 'string', '0+'),
        f('port', 'int32', '0+'),
        f('rack', 'string', '1+', { nullableVersions: '1+', default: null }),
      ]),
      f('clusterId', 'string', '2+', { nullableVersions: '2+', default: null }),
      f('controllerId', 'int32', '1+', { default: -1 }),
      a('topics', '0+', [
        f('errorCode', 'int16', '0+'),
        f('name', 'string', '0+', { nullableVersions: '12+' }),
        f('topicId', 'uuid', '10+'),
        f('isInternal', 'bool', '1+'),
        a('partitions', '0+', [
          f('errorCode', 'int16', '0+'),
          f('partitionIndex', 'int32', '0+'),
          f('leaderId', 'int32', '0+'),
          f('leaderEpoch', 'int32', '7+', { default: -1 }),
          f('replicaNodes', '[]int32', '0+'),
          f('isrNodes', '[]int32', '0+'),
          f('offlineReplicas', '[]int32', '5+'),
        ]),
        f('topicAuthorizedOperations', 'int32', '8+', { default: -2147483648 }),
      ]),
      f('clusterAuthorizedOperations', 'int32', '8-10', { default: -2147483648 }),
    ],
  },
  {
    apiKey: ApiKeys.OffsetCommit,
    name: 'OffsetCommit',
    versions: { min: 0, max: 7 },
    flexibleFrom: 8,
    request: [
      f('groupId', 'string', '0+'),
      f('generationIdOrMemberEpoch', 'int32', '1+', { default: -1 }),
      f('memberId', 'string', '1+'),
      f('groupInstanceId', 'string', '7+', { nullableVersions: '7+', default: null }),
      f('retentionTimeMs', 'int64', '2-4', { default: -1 }),
      a('topics', '0+', [
        f('name', 'string', '0+'),
        a('partitions', '0+', [
          f('partitionIndex', 'int32', '0+'),
          f('committedOffset', 'int64', '0+'),
          f('committedLeaderEpoch', 'int32', '6+', { default: -1 }),
          f('commitTimestamp', 'int64', '1', { default: -1 }),
          f('committedMetadata', 'string', '0+', { nullableVersions: '0+' }),
        ]),
      ]),
    ],
    response: [
      THROTTLE('3+'),
      a('topics', '0+', [
        f('name', 'string', '0+'),
        a('partitions', '0+', [f('partitionIndex', 'int32', '0+'), f('errorCode', 'int16', '0+')]),
      ]),
    ],
  },
  {
    apiKey: ApiKeys.OffsetFetch,
    name: 'OffsetFetch',
    versions: { min: 0, max: 5 },
    flexibleFrom: 6,
    request: [
      f('groupId', 'string', '0-7'),
      a('topics', '0-7', [f('name', 'string', '0-7'), f('partitionIndexes', '[]int32', '0-7')], {
        nullableVersions: '2-7',
      }),
      f('requireStable', 'bool', '7+'),
    ],
    response: [
      THROTTLE('3+'),
      a('topics', '0-7', [
        f('name', 'string', '0-7'),
        a('partitions', '0-7', [
          f('partitionIndex', 'int32', '0-7'),
          f('committedOffset', 'int64', '0-7'),
          f('committedLeaderEpoch', 'int32', '5-7', { default: -1 }),
          f('metadata', 'string', '0-7', { nullableVersions: '0-7' }),
          f('errorCode', 'int16', '0-7'),
        ]),
      ]),
      f('errorCode', 'int16', '2-7'),
    ],
  },
  {
    apiKey: ApiKeys.FindCoordinator,
    name: 'FindCoordinator',
    versions: { min: 0, max: 2 },
    flexibleFrom: 3,
    request: [f('key', 'string', '0-3'), f('keyType', 'int8', '1+')],
    response: [
      THROTTLE('1+'),
      f('errorCode', 'int16', '0-3'),
      f('errorMessage', 'string', '1-3', { nullableVersions: '1-3', default: null }),
      f('nodeId', 'int32', '0-3'),
      f('host', 'string', '0-3'),
      f('port', 'int32', '0-3'),
    ],
  },
  {
    apiKey: ApiKeys.JoinGroup,
    name: 'JoinGroup',
    versions: { min: 0, max: 5 },
    flexibleFrom: 6,
    request: [
      f('groupId', 'string', '0+'),
      f('sessionTimeoutMs', 'int32', '0+'),
      f('rebalanceTimeoutMs', 'int32', '1+', { default: -1 }),
      f('memberId', 'string', '0+'),
      f('groupInstanceId', 'string', '5+', { nullableVersions: '5+', default: null }),
      f('protocolType', 'string', '0+'),
      a('protocols', '0+', [f('name', 'string', '0+'), f('metadata', 'bytes', '0+')]),
      f('reason', 'string', '8+', { nullableVersions: '8+', default: null }),
    ],
    response: [
      THROTTLE('2+'),
      f('errorCode', 'int16', '0+'),
      f('generationId', 'int32', '0+', { default: -1 }),
      f('protocolType', 'string', '7+', { nullableVersions: '7+', default: null }),
      f('protocolName', 'string', '0+', { nullableVersions: '7+' }),
      f('leader', 'string', '0+'),
      f('skipAssignment', 'bool', '9+'),
      f('memberId', 'string', '0+'),
      a('members', '0+', [
        f('memberId', 'string', '0+'),
        f('groupInstanceId', 'string', '5+', { nullableVersions: '5+', default: null }),
        f('metadata', 'bytes', '0+'),
      ]),
    ],
  },
  {
    apiKey: ApiKeys.Heartbeat,
    name: 'Heartbeat',
    versions: { min: 0, max: 3 },
    flexibleFrom: 4,
    request: [
      f('groupId', 'string', '0+'),
      f('generationId', 'int32', '0+'),
      f('memberId', 'string', '0+'),
      f('groupInstanceId', 'string', '3+', { nullableVersions: '3+', default: null }),
    ],
    response: [THROTTLE('1+'), f('errorCode', 'int16', '0+')],
  },
  {
    apiKey: ApiKeys.LeaveGroup,
    name: 'LeaveGroup',
    versions: { min: 0, max: 3 },
    flexibleFrom: 4,
    request: [
      f('groupId', 'string', '0+'),
      f('memberId', 'string', '0-2'),
      a('members', '3+', [
        f('memberId', 'string', '3+'),
        f('groupInstanceId', 'string', '3+', { nullableVersions: '3+', default: null }),
        f('reason', 'string', '5+', { nullableVersions: '5+', default: null }),
      ]),
    ],
    response: [
      THROTTLE('1+'),
      f('errorCode', 'int16', '0+'),
      a('members', '3+', [
        f('memberId', 'string', '3+'),
        f('groupInstanceId', 'string', '3+', { nullableVersions: '3+', default: null }),
        f('errorCode', 'int16', '3+'),
      ]),
    ],
  },
  {
    apiKey: ApiKeys.SyncGroup,
    name: 'SyncGroup',
    versions: { min: 0, max: 3 },
    flexibleFrom: 4,
    request: [
      f('groupId', 'string', '0+'),
      f('generationId', 'int32', '0+'),
      f('memberId', 'string', '0+'),
      f('groupInstanceId', 'string', '3+', { nullableVersions: '3+', default: null }),
      f('protocolType', 'string', '5+', { nullableVersions: '5+', default: null }),
      f('protocolName', 'string', '5+', { nullableVersions: '5+', default: null }),
      a('assignments', '0+', [f('memberId', 'string', '0+'), f('assignment', 'bytes', '0+')]),
    ],
    response: [
      THROTTLE('1+'),
      f('errorCode', 'int16', '0+'),
      f('protocolType', 'string', '5+', { nullableVersions: '5+', default: null }),
      f('protocolName', 'string', '5+', { nullableVersions: '5+', default: null }),
      f('assignment', 'bytes', '0+'),
    ],
  },
  {
    apiKey: ApiKeys.DescribeGroups,
    name: 'DescribeGroups',
    versions: { min: 0, max: 4 },
    flexibleFrom: 5,
    request: [f('groups', '[]string', '0+'), f('includeAuthorizedOperations', 'bool', '3+')],
    response: [
      THROTTLE('1+'),
      a('groups', '0+', [
        f('errorCode', 'int16', '0+'),
        f('groupId', 'string', '0+'),
        f('groupState', 'string', '0+'),
        f('protocolType', 'string', '0+'),
        f('protocolData', 'string', '0+'),
        a('members', '0+', [
          f('memberId', 'string', '0+'),
          f('groupInstanceId', 'string', '4+', { nullableVersions: '4+', default: null }),
          f('clientId', 'string', '0+'),
          f('clientHost', 'string', '0+'),
          f('memberMetadata', 'bytes', '0+'),
          f('memberAssignment', 'bytes', '0+'),
        ]),
        f('authorizedOperations', 'int32', '3+', { default: -2147483648 }),
      ]),
    ],
  },
  {
    apiKey: ApiKeys.ListGroups,
    name: 'ListGroups',
    versions: { min: 0, max: 2 },
    flexibleFrom: 3,
    request: [f('statesFilter', '[]string', '4+')],
    response: [
      THROTTLE('1+'),
      f('errorCode', 'int16', '0+'),
      a('groups', '0+', [
        f('groupId', 'string', '0+'),
        f('protocolType', 'string', '0+'),
        f('groupState', 'string', '4+'),
      ]),
    ],
  },
  {
    apiKey: ApiKeys.SaslHandshake,
    name: 'SaslHandshake',
    versions: { min: 0, max: 1 },
    flexibleFrom: Infinity,
    request: [f('mechanism', 'string', '0+')],
    response: [f('errorCode', 'int16', '0+'), f('mechanisms', '[]string', '0+')],
  },
  {
    apiKey: ApiKeys.ApiVersions,
    name: 'ApiVersions',
    versions: { min: 0, max: 3 },
    flexibleFrom: 3,
    request: [f('clientSoftwareName', 'string', '3+'), f('clientSoftwareVersion', 'string', '3+')],
    response: [
      f('errorCode', 'int16', '0+'),
      a('apiKeys', '0+', [f('apiKey', 'int16', '0+'), f('minVersion', 'int16', '0+'), f('maxVersion', 'int16', '0+')]),
      THROTTLE('1+'),
      a(
        'supportedFeatures',
        '3+',
        [f('name', 'string', '3+'), f('minVersion', 'int16', '3+'), f('maxVersion', 'int16', '3+')],
        { tag: 0, taggedVersions: '3+' },
      ),
      f('finalizedFeaturesEpoch', 'int64', '3+', { tag: 1, taggedVersions: '3+', default: -1 }),
      a(
        'finalizedFeatures',
        '3+',
        [f('name', 'string', '3+'), f('maxVersionLevel', 'int16', '3+'), f('minVersionLevel', 'int16', '3+')],
        { tag: 2, taggedVersions: '3+' },
      ),
      f('zkMigrationReady', 'bool', '3+', { tag: 3, taggedVersions: '3+' }),
    ],
  },
  {
    apiKey: ApiKeys.CreateTopics,
    name: 'CreateTopics',
    versions: { min: 0, max: 4 },
    flexibleFrom: 5,
    request: [
      a('topics', '0+', [
        f('name', 'string', '0+'),
        f('numPartitions', 'int32', '0+'),
        f('replicationFactor', 'int16', '0+'),
        a('assignments', '0+', [f('partitionIndex', 'int32', '0+'), f('brokerIds', '[]int32', '0+')]),
        a('configs', '0+', [f('name', 'string', '0+'), f('value', 'string', '0+', { nullableVersions: '0+' })]),
      ]),
      f('timeoutMs', 'int32', '0+', { default: 60000 }),
      f('validateOnly', 'bool', '1+'),
    ],
    response: [
      THROTTLE('2+'),
      a('topics', '0+', [
        f('name', 'string', '0+'),
        f('topicId', 'uuid', '7+'),
        f('errorCode', 'int16', '0+'),
        f('errorMessage', 'string', '1+', { nullableVersions: '0+', default: null }),
        f('topicConfigErrorCode', 'int16', '5+', { tag: 0, taggedVersions: '5+' }),
        f('numPartitions', 'int32', '5+', { default: -1 }),
        f('replicationFactor', 'int16', '5+', { default: -1 }),
        a(
          'configs',
          '5+',
          [
            f('name', 'string', '5+'),
            f('value', 'string', '5+', { nullableVersions: '5+' }),
            f('readOnly', 'bool', '5+'),
            f('configSource', 'int8', '5+', { default: -1 }),
            f('isSensitive', 'bool', '5+'),
          ],
          { nullableVersions: '5+', default: null },
        ),
      ]),
    ],
  },
  {
    apiKey: ApiKeys.DeleteTopics,
    name: 'DeleteTopics',
    versions: { min: 0, max: 3 },
    flexibleFrom: 4,
    request: [
      a('topics', '6+', [
        f('name', 'string', '6+', { nullableVersions: '6+', default: null }),
        f('topicId', 'uuid', '6+'),
      ]),
      f('topicNames', '[]string', '0-5'),
      f('timeoutMs', 'int32', '0+', { default: 30000 }),
    ],
    response: [
      THROTTLE('1+'),
      a('responses', '0+', [
        f('name', 'string', '0+', { nullableVersions: '6+' }),
        f('topicId', 'uuid', '6+'),
        f('errorCode', 'int16', '0+'),
        f('errorMessage', 'string', '5+', { nullableVersions: '5+', default: null }),
      ]),
    ],
  },
  {
    apiKey: ApiKeys.InitProducerId,
    name: 'InitProducerId',
    versions: { min: 0, max: 1 },
    flexibleFrom: 2,
    request: [
      f('transactionalId', 'string', '0+', { nullableVersions: '0+', default: null }),
      f('transactionTimeoutMs', 'int32', '0+'),
      f('producerId', 'int64', '3+', { default: -1 }),
      f('producerEpoch', 'int16', '3+', { default: -1 }),
    ],
    response: [
      THROTTLE('0+'),
      f('errorCode', 'int16', '0+'),
      f('producerId', 'int64', '0+', { default: -1 }),
      f('producerEpoch', 'int16', '0+'),
    ],
  },
  {
    apiKey: ApiKeys.AddPartitionsToTxn,
    name: 'AddPartitionsToTxn',
    versions: { min: 0, max: 2 },
    flexibleFrom: 3,
    request: [
      f('v3AndBelowTransactionalId', 'string', '0-3'),
      f('v3AndBelowProducerId', 'int64', '0-3'),
      f('v3AndBelowProducerEpoch', 'int16', '0-3'),
      a('v3AndBelowTopics', '0-3', [f('name', 'string', '0-3'), f('partitions', '[]int32', '0-3')]),
    ],
    response: [
      THROTTLE('0+'),
      a('resultsByTopicV3AndBelow', '0-3', [
        f('name', 'string', '0-3'),
        a('resultsByPartition', '0-3', [f('partitionIndex', 'int32', '0-3'), f('partitionErrorCode', 'int16', '0-3')]),
      ]),
    ],
  },
  {
    apiKey: ApiKeys.AddOffsetsToTxn,
    name: 'AddOffsetsToTxn',
    versions: { min: 0, max: 2 },
    flexibleFrom: 3,
    request: [
      f('transactionalId', 'string', '0+'),
      f('producerId', 'int64', '0+'),
      f('producerEpoch', 'int16', '0+'),
      f('groupId', 'string', '0+'),
    ],
    response: [THROTTLE('0+'), f('errorCode', 'int16', '0+')],
  },
  {
    apiKey: ApiKeys.EndTxn,
    name: 'EndTxn',
    versions: { min: 0, max: 2 },
    flexibleFrom: 3,
    request: [
      f('transactionalId', 'string', '0+'),
      f('producerId', 'int64', '0+'),
      f('producerEpoch', 'int16', '0+'),
      f('committed', 'bool', '0+'),
    ],
    response: [
      THROTTLE('0+'),
      f('errorCode', 'int16', '0+'),
      f('producerId', 'int64', '5+', { default: -1 }),
      f('producerEpoch', 'int16', '5+', { default: -1 }),
    ],
  },
  {
    apiKey: ApiKeys.TxnOffsetCommit,
    name: 'TxnOffsetCommit',
    versions: { min: 0, max: 2 },
    flexibleFrom: 3,
    request: [
      f('transactionalId', 'string', '0+'),
      f('groupId', 'string', '0+'),
      f('producerId', 'int64', '0+'),
      f('producerEpoch', 'int16', '0+'),
      f('generationId', 'int32', '3+', { default: -1 }),
      f('memberId', 'string', '3+'),
      f('groupInstanceId', 'string', '3+', { nullableVersions: '3+', default: null }),
      a('topics', '0+', [
        f('name', 'string', '0+'),
        a('partitions', '0+', [
          f('partitionIndex', 'int32', '0+'),
          f('committedOffset', 'int64', '0+'),
          f('committedLeaderEpoch', 'int32', '2+', { default: -1 }),
          f('committedMetadata', 'string', '0+', { nullableVersions: '0+' }),
        ]),
      ]),
    ],
    response: [
      THROTTLE('0+'),
      a('topics', '0+', [
        f('name', 'string', '0+'),
        a('partitions', '0+', [f('partitionIndex', 'int32', '0+'), f('errorCode', 'int16', '0+')]),
      ]),
    ],
  },
  {
    apiKey: ApiKeys.SaslAuthenticate,
    name: 'SaslAuthenticate',
    versions: { min: 0, max: 1 },
    flexibleFrom: 2,
    request: [f('authBytes', 'bytes', '0+')],
    response: [
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '0+', { nullableVersions: '0+', default: null }),
      f('authBytes', 'bytes', '0+'),
      f('sessionLifetimeMs', 'int64', '1+', { default: 0 }),
    ],
  },
];

export const MESSAGES_BY_KEY: ReadonlyMap<number, MessageSpec> = new Map(MESSAGES.map((m) => [m.apiKey, m]));
