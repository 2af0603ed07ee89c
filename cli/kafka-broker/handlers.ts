// The request handlers of the development broker, one per API: each takes the decoded request
// body (field names as in Kafka's message definitions) and returns the response body.
import { ApiKeys } from '../../common/kafka/protocol/api-keys.js';
import { supportedApiVersions } from '../../common/kafka/protocol/codec.js';
import { ErrorCode, KafkaProtocolError } from '../../common/kafka/protocol/errors.js';
import {
  readRecordBatchHeader,
  verifyRecordBatchCrc,
  type RecordBatchHeader,
} from '../../common/kafka/protocol/records.js';
import type { Logger } from '../../common/logging.js';
import type { ClientContext, GroupCoordinator } from './group-coordinator.js';
import { invalidTopicName, type LogManager } from './log-manager.js';
import type { PartitionLog } from './partition-log.js';
import type { TxnCoordinator } from './txn-coordinator.js';

export interface BrokerSettings {
  nodeId: number;
  advertisedHost: string;
  port: number;
  clusterId: string;
  defaultPartitions: number;
  autoCreateTopics: boolean;
}

export interface RequestContext extends ClientContext {
  apiVersion: number;
}

/** Kafka sends empty (never null) record sets; librdkafka refuses a null one. */
const EMPTY = Buffer.alloc(0);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kafka bodies are decoded from schemas at run time; the caller names the type it expects.
type Handler = (body: any, ctx: RequestContext) => unknown | Promise<unknown>;

/** First version of each coordinator API that may return PRODUCER_FENCED (KIP-588). */
const PRODUCER_FENCED_FROM: Partial<Record<ApiKeys, number>> = {
  [ApiKeys.InitProducerId]: 4,
  [ApiKeys.AddPartitionsToTxn]: 2,
  [ApiKeys.AddOffsetsToTxn]: 2,
  [ApiKeys.EndTxn]: 2,
  [ApiKeys.TxnOffsetCommit]: 3,
};

function fencedCode(apiKey: ApiKeys, version: number): number {
  return version >= (PRODUCER_FENCED_FROM[apiKey] ?? Infinity)
    ? ErrorCode.PRODUCER_FENCED
    : ErrorCode.INVALID_PRODUCER_EPOCH;
}

export class Handlers {
  readonly byKey = new Map<number, Handler>();

  constructor(
    private readonly settings: BrokerSettings,
    private readonly logs: LogManager,
    private readonly groups: GroupCoordinator,
    private readonly txns: TxnCoordinator,
    private readonly log: Logger,
  ) {
    const h = this.byKey;
    h.set(ApiKeys.ApiVersions, () => ({ errorCode: 0, apiKeys: supportedApiVersions(), throttleTimeMs: 0 }));
    h.set(ApiKeys.Metadata, (b, c) => this.metadata(b, c));
    h.set(ApiKeys.CreateTopics, (b) => this.createTopics(b));
    h.set(ApiKeys.DeleteTopics, (b, c) => this.deleteTopics(b, c));
    h.set(ApiKeys.Produce, (b) => this.produce(b));
    h.set(ApiKeys.Fetch, (b) => this.fetch(b));
    h.set(ApiKeys.ListOffsets, (b) => this.listOffsets(b));
    h.set(ApiKeys.FindCoordinator, (b) => this.findCoordinator(b));
    h.set(ApiKeys.JoinGroup, (b, c) => this.joinGroup(b, c));
    h.set(ApiKeys.SyncGroup, (b) => this.syncGroup(b));
    h.set(ApiKeys.Heartbeat, (b) => ({ throttleTimeMs: 0, errorCode: this.groups.heartbeat(b) }));
    h.set(ApiKeys.LeaveGroup, (b, c) => this.leaveGroup(b, c));
    h.set(ApiKeys.OffsetCommit, (b, c) => this.offsetCommit(b, c));
    h.set(ApiKeys.OffsetFetch, (b, c) => this.offsetFetch(b, c));
    h.set(ApiKeys.ListGroups, () => ({ throttleTimeMs: 0, errorCode: 0, groups: this.groups.list() }));
    h.set(ApiKeys.DescribeGroups, (b) => ({
      throttleTimeMs: 0,
      groups: (b.groups as string[]).map((g) => this.groups.describe(g)),
    }));
    h.set(ApiKeys.InitProducerId, (b) => ({
      throttleTimeMs: 0,
      ...this.txns.initProducerId(b.transactionalId, b.transactionTimeoutMs),
    }));
    h.set(ApiKeys.AddPartitionsToTxn, (b, c) => this.addPartitionsToTxn(b, c));
    h.set(ApiKeys.AddOffsetsToTxn, (b, c) => ({
      throttleTimeMs: 0,
      errorCode: this.txns.addOffsets(
        b.transactionalId,
        b.producerId,
        b.producerEpoch,
        b.groupId,
        fencedCode(ApiKeys.AddOffsetsToTxn, c.apiVersion),
      ),
    }));
    h.set(ApiKeys.EndTxn, (b, c) => ({
      throttleTimeMs: 0,
      errorCode: this.txns.endTxn(
        b.transactionalId,
        b.producerId,
        b.producerEpoch,
        b.committed,
        fencedCode(ApiKeys.EndTxn, c.apiVersion),
      ),
    }));
    h.set(ApiKeys.TxnOffsetCommit, (b, c) => this.txnOffsetCommit(b, c));
  }

  // ------------------------------------------------------------------------------------------
  // Topics

  /** The topic's partitions, creating the topic when auto-creation allows it; or an error code. */
  private topicFor(name: string, autoCreate: boolean): PartitionLog[] | number {
    const parts = this.logs.partitionsOf(name);
    if (parts.length > 0) return parts;
    if (invalidTopicName(name)) return ErrorCode.INVALID_TOPIC_EXCEPTION;
    if (!autoCreate || !this.settings.autoCreateTopics) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    this.logs.create(name, this.settings.defaultPartitions);
    return this.logs.partitionsOf(name);
  }

  private metadata(b: { topics: { name: string }[] | null; allowAutoTopicCreation: boolean }, c: RequestContext) {
    const all = b.topics === null || (c.apiVersion === 0 && b.topics.length === 0);
    const names = all ? [...this.logs.topics.keys()] : b.topics!.map((t) => t.name);
    const topics = names.map((name) => {
      const parts = this.topicFor(name, b.allowAutoTopicCreation);
      const info = this.logs.topics.get(name);
      if (typeof parts === 'number') return { errorCode: parts, name, isInternal: false, partitions: [] };
      return {
        errorCode: 0,
        name,
        topicId: info?.topicId,
        isInternal: false,
        partitions: parts.map((p) => ({
          errorCode: 0,
          partitionIndex: p.partition,
          leaderId: this.settings.nodeId,
          leaderEpoch: 0,
          replicaNodes: [this.settings.nodeId],
          isrNodes: [this.settings.nodeId],
          offlineReplicas: [],
        })),
      };
    });
    return {
      throttleTimeMs: 0,
      brokers: [
        { nodeId: this.settings.nodeId, host: this.settings.advertisedHost, port: this.settings.port, rack: null },
      ],
      clusterId: this.settings.clusterId,
      controllerId: this.settings.nodeId,
      topics,
    };
  }

  private createTopics(b: {
    topics: {
      name: string;
      numPartitions: number;
      replicationFactor: number;
      assignments: { partitionIndex: number; brokerIds: number[] }[];
      configs: { name: string; value: string | null }[];
    }[];
    validateOnly: boolean;
  }) {
    const topics = b.topics.map((t) => {
      const result = (errorCode: number, errorMessage: string | null = null) => ({
        name: t.name,
        errorCode,
        errorMessage,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      });
      const bad = invalidTopicName(t.name);
      if (bad) return result(ErrorCode.INVALID_TOPIC_EXCEPTION, bad);
      if (this.logs.topics.has(t.name))
        return result(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
      const partitions =
        t.assignments.length > 0
          ? t.assignments.length
          : t.numPartitions === -1
            ? this.settings.defaultPartitions
            : t.numPartitions;
      if (!(partitions >= 1))
        return result(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
      if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
        return result(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Replication factor: ${t.replicationFactor} larger than available brokers: 1.`,
        );
      }
      if (t.assignments.some((a) => a.brokerIds.some((id) => id !== this.settings.nodeId)))
        return result(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'only broker 0 exists');
      if (!b.validateOnly)
        this.logs.create(t.name, partitions, Object.fromEntries(t.configs.map((c) => [c.name, c.value])));
      return { ...result(ErrorCode.NONE), numPartitions: partitions, replicationFactor: 1 };
    });
    return { throttleTimeMs: 0, topics };
  }

  private deleteTopics(b: { topicNames: string[]; topics: { name: string | null }[] }, c: RequestContext) {
    const names = c.apiVersion >= 6 ? b.topics.map((t) => t.name ?? '') : b.topicNames;
    return {
      throttleTimeMs: 0,
      responses: names.map((name) => ({
        name,
        errorCode: this.logs.delete(name) ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: null,
      })),
    };
  }

  // ------------------------------------------------------------------------------------------
  // Produce

  private produce(b: {
    transactionalId: string | null;
    acks: number;
    timeoutMs: number;
    topicData: { name: string; partitionData: { index: number; records: Buffer | null }[] }[];
  }) {
    if (b.acks !== 0 && b.acks !== 1 && b.acks !== -1) {
      return {
        responses: b.topicData.map((t) => ({
          name: t.name,
          partitionResponses: t.partitionData.map((p) => ({
            index: p.index,
            errorCode: ErrorCode.INVALID_REQUIRED_ACKS,
            baseOffset: -1,
          })),
        })),
        throttleTimeMs: 0,
      };
    }
    const responses = b.topicData.map((t) => {
      const parts = this.topicFor(t.name, true);
      return {
        name: t.name,
        partitionResponses: t.partitionData.map((p) => {
          const pl = typeof parts === 'number' ? undefined : parts[p.index];
          if (!pl)
            return {
              index: p.index,
              errorCode: typeof parts === 'number' ? parts : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              baseOffset: -1,
              logAppendTimeMs: -1,
              logStartOffset: -1,
            };
          const { errorCode, baseOffset } = this.appendRecords(pl, p.records);
          return { index: p.index, errorCode, baseOffset, logAppendTimeMs: -1, logStartOffset: pl.logStartOffset };
        }),
      };
    });
    return b.acks === 0 ? undefined : { responses, throttleTimeMs: 0 };
  }

  private appendRecords(pl: PartitionLog, records: Buffer | null): { errorCode: number; baseOffset: number } {
    if (!records || records.length === 0) return { errorCode: ErrorCode.CORRUPT_MESSAGE, baseOffset: -1 };
    // Validate every batch before appending any.
    const batches: { buf: Buffer; h: RecordBatchHeader }[] = [];
    let pos = 0;
    while (pos < records.length) {
      let h: RecordBatchHeader | undefined;
      try {
        h = readRecordBatchHeader(records, pos);
      } catch (e) {
        return { errorCode: e instanceof KafkaProtocolError ? e.code : ErrorCode.CORRUPT_MESSAGE, baseOffset: -1 };
      }
      if (!h || !verifyRecordBatchCrc(records, pos, h)) return { errorCode: ErrorCode.CORRUPT_MESSAGE, baseOffset: -1 };
      if (h.isControl || h.recordCount <= 0 || h.lastOffsetDelta < 0)
        return { errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1 };
      batches.push({ buf: records.subarray(pos, pos + h.sizeInBytes), h });
      pos += h.sizeInBytes;
    }
    let first = -1;
    for (const { buf, h } of batches) {
      if (h.isTransactional) {
        const code = this.txns.checkProduce(h.producerId, h.producerEpoch, pl.topic, pl.partition);
        if (code !== ErrorCode.NONE) return { errorCode: code, baseOffset: -1 };
      }
      const seq = pl.checkSequence(h);
      let offset: number;
      if (seq.kind === 'error') return { errorCode: seq.code, baseOffset: -1 };
      if (seq.kind === 'duplicate') offset = seq.baseOffset;
      else offset = pl.append(buf, h);
      if (first < 0) first = offset;
    }
    return { errorCode: ErrorCode.NONE, baseOffset: first };
  }

  // ------------------------------------------------------------------------------------------
  // Fetch and offsets

  private async fetch(b: {
    maxWaitMs: number;
    minBytes: number;
    maxBytes: number;
    isolationLevel: number;
    sessionId: number;
    sessionEpoch: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: number; partitionMaxBytes: number }[] }[];
  }) {
    if (b.sessionId !== 0 || b.sessionEpoch > 0) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
    }
    const deadline = Date.now() + Math.max(0, b.maxWaitMs);
    const readCommitted = b.isolationLevel === 1;
    for (;;) {
      let total = 0;
      let anyError = false;
      const involved: PartitionLog[] = [];
      const responses = b.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const pl = this.logs.partition(t.topic, p.partition);
          if (!pl) {
            anyError = true;
            return {
              partitionIndex: p.partition,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              highWatermark: -1,
              lastStableOffset: -1,
              logStartOffset: -1,
              abortedTransactions: null,
              records: EMPTY,
            };
          }
          involved.push(pl);
          const hw = pl.highWatermark;
          const lso = pl.lastStableOffset;
          const base = {
            partitionIndex: p.partition,
            highWatermark: hw,
            lastStableOffset: lso,
            logStartOffset: pl.logStartOffset,
          };
          if (p.fetchOffset < pl.logStartOffset || p.fetchOffset > hw) {
            anyError = true;
            return { ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, abortedTransactions: null, records: EMPTY };
          }
          const remaining = b.maxBytes - total;
          let read = { records: null as Buffer | null, bytes: 0, nextOffset: p.fetchOffset };
          if (remaining > 0 || total === 0) {
            read = pl.read(
              p.fetchOffset,
              readCommitted ? lso : hw,
              Math.min(p.partitionMaxBytes, Math.max(0, remaining)),
              total === 0,
            );
          }
          total += read.bytes;
          const aborted =
            readCommitted && read.records
              ? pl
                  .abortedIn(p.fetchOffset, read.nextOffset)
                  .map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset }))
              : readCommitted
                ? []
                : null;
          return {
            ...base,
            errorCode: ErrorCode.NONE,
            abortedTransactions: aborted,
            preferredReadReplica: -1,
            records: read.records ?? EMPTY,
          };
        }),
      }));
      const now = Date.now();
      if (anyError || total >= Math.max(1, b.minBytes) || now >= deadline || involved.length === 0) {
        return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses };
      }
      await new Promise<void>((resolve) => {
        const cancels: (() => void)[] = [];
        const done = () => {
          clearTimeout(timer);
          for (const c of cancels) c();
          resolve();
        };
        const timer = setTimeout(done, deadline - now);
        for (const pl of involved) cancels.push(pl.onChange(done));
      });
    }
  }

  private listOffsets(b: {
    isolationLevel: number;
    topics: { name: string; partitions: { partitionIndex: number; timestamp: number }[] }[];
  }) {
    const readCommitted = b.isolationLevel === 1;
    return {
      throttleTimeMs: 0,
      topics: b.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const pl = this.logs.partition(t.name, p.partitionIndex);
          if (!pl)
            return {
              partitionIndex: p.partitionIndex,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              timestamp: -1,
              offset: -1,
              leaderEpoch: -1,
            };
          const limit = readCommitted ? pl.lastStableOffset : pl.highWatermark;
          let offset = -1;
          let timestamp = -1;
          if (p.timestamp === -1) offset = limit;
          else if (p.timestamp === -2) offset = pl.logStartOffset;
          else if (p.timestamp >= 0) {
            const found = pl.offsetForTimestamp(p.timestamp, limit);
            if (found) ({ offset, timestamp } = found);
          } else {
            return {
              partitionIndex: p.partitionIndex,
              errorCode: ErrorCode.UNSUPPORTED_VERSION,
              timestamp: -1,
              offset: -1,
              leaderEpoch: -1,
            };
          }
          return { partitionIndex: p.partitionIndex, errorCode: 0, timestamp, offset, leaderEpoch: 0 };
        }),
      })),
    };
  }

  // ------------------------------------------------------------------------------------------
  // Groups

  private findCoordinator(b: { key: string; keyType: number }) {
    if (b.keyType !== 0 && b.keyType !== 1)
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `unknown key type ${b.keyType}`,
        nodeId: -1,
        host: '',
        port: -1,
      };
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId: this.settings.nodeId,
      host: this.settings.advertisedHost,
      port: this.settings.port,
    };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kafka bodies are decoded from schemas at run time; the caller names the type it expects.
  private async joinGroup(b: any, c: RequestContext) {
    const r = await this.groups.join(b, c);
    return { throttleTimeMs: 0, ...r, protocolName: r.protocolName ?? (c.apiVersion >= 7 ? null : '') };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kafka bodies are decoded from schemas at run time; the caller names the type it expects.
  private async syncGroup(b: any) {
    const r = await this.groups.sync(b);
    return { throttleTimeMs: 0, ...r };
  }

  private leaveGroup(
    b: { groupId: string; memberId: string; members: { memberId: string; groupInstanceId: string | null }[] },
    c: RequestContext,
  ) {
    if (c.apiVersion < 3) {
      const [r] = this.groups.leave(b.groupId, [b.memberId]);
      return { throttleTimeMs: 0, errorCode: r!.errorCode, members: [] };
    }
    const results = this.groups.leave(
      b.groupId,
      b.members.map((m) => m.memberId),
    );
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      members: results.map((r, i) => ({
        memberId: r.memberId,
        groupInstanceId: b.members[i]!.groupInstanceId,
        errorCode: r.errorCode,
      })),
    };
  }

  private offsetCommit(
    b: {
      groupId: string;
      generationIdOrMemberEpoch: number;
      memberId: string;
      topics: {
        name: string;
        partitions: {
          partitionIndex: number;
          committedOffset: number;
          committedLeaderEpoch: number;
          committedMetadata: string | null;
        }[];
      }[];
    },
    c: RequestContext,
  ) {
    const generation = c.apiVersion === 0 ? -1 : b.generationIdOrMemberEpoch;
    const memberId = c.apiVersion === 0 ? '' : b.memberId;
    const groupError = b.groupId
      ? this.groups.checkCommit(b.groupId, generation, memberId)
      : ErrorCode.INVALID_GROUP_ID;
    return {
      throttleTimeMs: 0,
      topics: b.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          let errorCode = groupError;
          if (errorCode === ErrorCode.NONE && !this.logs.partition(t.name, p.partitionIndex))
            errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          if (errorCode === ErrorCode.NONE && (p.committedMetadata?.length ?? 0) > 4096)
            errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
          if (errorCode === ErrorCode.NONE) {
            this.groups.commit(b.groupId, t.name, p.partitionIndex, {
              offset: p.committedOffset,
              metadata: p.committedMetadata,
              leaderEpoch: p.committedLeaderEpoch,
            });
          }
          return { partitionIndex: p.partitionIndex, errorCode };
        }),
      })),
    };
  }

  private offsetFetch(
    b: { groupId: string; topics: { name: string; partitionIndexes: number[] }[] | null },
    c: RequestContext,
  ) {
    let requested: { name: string; partitionIndexes: number[] }[];
    if (b.topics === null) {
      requested = [...this.groups.allCommitted(b.groupId)].map(([name, parts]) => ({
        name,
        partitionIndexes: [...parts.keys()],
      }));
    } else requested = b.topics;
    void c;
    return {
      throttleTimeMs: 0,
      topics: requested.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => {
          const committed = this.groups.committed(b.groupId, t.name, p);
          return {
            partitionIndex: p,
            committedOffset: committed?.offset ?? -1,
            committedLeaderEpoch: committed?.leaderEpoch ?? -1,
            metadata: committed ? committed.metadata : '',
            errorCode: 0,
          };
        }),
      })),
      errorCode: 0,
    };
  }

  // ------------------------------------------------------------------------------------------
  // Transactions

  private addPartitionsToTxn(
    b: {
      v3AndBelowTransactionalId: string;
      v3AndBelowProducerId: number;
      v3AndBelowProducerEpoch: number;
      v3AndBelowTopics: { name: string; partitions: number[] }[];
    },
    c: RequestContext,
  ) {
    const results = this.txns.addPartitions(
      b.v3AndBelowTransactionalId,
      b.v3AndBelowProducerId,
      b.v3AndBelowProducerEpoch,
      b.v3AndBelowTopics,
      fencedCode(ApiKeys.AddPartitionsToTxn, c.apiVersion),
    );
    return {
      throttleTimeMs: 0,
      resultsByTopicV3AndBelow: results.map((t) => ({
        name: t.name,
        resultsByPartition: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          partitionErrorCode: p.errorCode,
        })),
      })),
    };
  }

  private txnOffsetCommit(
    b: {
      transactionalId: string;
      groupId: string;
      producerId: number;
      producerEpoch: number;
      topics: {
        name: string;
        partitions: {
          partitionIndex: number;
          committedOffset: number;
          committedLeaderEpoch: number;
          committedMetadata: string | null;
        }[];
      }[];
    },
    c: RequestContext,
  ) {
    const flat = b.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        metadata: p.committedMetadata,
        leaderEpoch: p.committedLeaderEpoch,
      })),
    );
    const codes = this.txns.txnOffsetCommit(
      b.transactionalId,
      b.groupId,
      b.producerId,
      b.producerEpoch,
      flat,
      fencedCode(ApiKeys.TxnOffsetCommit, c.apiVersion),
    );
    let i = 0;
    return {
      throttleTimeMs: 0,
      topics: b.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: codes[i++]! })),
      })),
    };
  }
}
