// One Fetch request to a partition leader, decoded into records. Isolation read_committed is done
// here as in Kafka's consumer: the broker returns data up to the last stable offset and the
// aborted transactions of the range; batches of an aborted producer are skipped up to its abort
// marker, and control batches are never records.
import type { KafkaConsumerRecord } from '../../../api/kafka-source.js';
import {
  ApiKeys,
  controlRecordType,
  ControlRecordType,
  decodeRecordBatches,
} from '../../../common/kafka/protocol/index.js';
import { KafkaClient } from './kafka-client.js';
import { groupByTopic, tpKey, type TopicPartition } from './kafka-offsets.js';

/** Records leave the fetcher in the shape the user's deserializer sees: no copy per record later. */
export type FetchedRecord = KafkaConsumerRecord;

export interface PartitionFetch {
  topic: string;
  partition: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  records: FetchedRecord[];
  /** Where the next fetch of this partition starts (past skipped and control batches). */
  nextOffset: number;
}

export interface FetchOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitionMaxBytes: number;
  readCommitted: boolean;
}

type FetchResponse = {
  errorCode?: number;
  responses: {
    topic: string;
    partitions: {
      partitionIndex: number;
      errorCode: number;
      highWatermark: number | bigint;
      lastStableOffset: number | bigint;
      abortedTransactions: { producerId: number | bigint; firstOffset: number | bigint }[] | null;
      records: Buffer | null;
    }[];
  }[];
};

export async function fetchPartitions(
  client: KafkaClient,
  leader: number,
  positions: readonly (TopicPartition & { offset: number })[],
  o: FetchOptions,
): Promise<PartitionFetch[]> {
  const conn = await client.broker(leader);
  const offsetOf = new Map(positions.map((p) => [tpKey(p.topic, p.partition), p.offset]));
  const res = await client.send<FetchResponse>(conn, ApiKeys.Fetch, {
    replicaId: -1,
    maxWaitMs: o.maxWaitMs,
    minBytes: o.minBytes,
    maxBytes: o.maxBytes,
    isolationLevel: o.readCommitted ? 1 : 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [...groupByTopic(positions)].map(([topic, ps]) => ({
      topic,
      partitions: ps.map((partition) => ({
        partition,
        currentLeaderEpoch: -1,
        fetchOffset: offsetOf.get(tpKey(topic, partition))!,
        logStartOffset: -1,
        partitionMaxBytes: o.partitionMaxBytes,
      })),
    })),
    forgottenTopicsData: [],
    rackId: '',
  });
  const out: PartitionFetch[] = [];
  for (const t of res.responses) {
    for (const p of t.partitions) {
      const from = offsetOf.get(tpKey(t.topic, p.partitionIndex)) ?? 0;
      const r: PartitionFetch = {
        topic: t.topic,
        partition: p.partitionIndex,
        errorCode: p.errorCode,
        highWatermark: Number(p.highWatermark),
        lastStableOffset: Number(p.lastStableOffset),
        records: [],
        nextOffset: from,
      };
      if (p.errorCode === 0 && p.records && p.records.length > 0)
        decodeInto(r, p.records, from, o.readCommitted ? (p.abortedTransactions ?? []) : null);
      out.push(r);
    }
  }
  return out;
}

function decodeInto(
  r: PartitionFetch,
  bytes: Buffer,
  from: number,
  aborted: { producerId: number | bigint; firstOffset: number | bigint }[] | null,
): void {
  // Aborted transactions in offset order; a producer joins `abortedProducers` once its first offset is reached.
  const pendingAborts = aborted
    ? aborted
        .map((a) => ({ producerId: Number(a.producerId), firstOffset: Number(a.firstOffset) }))
        .sort((a, b) => a.firstOffset - b.firstOffset)
    : [];
  const abortedProducers = new Set<number>();
  for (const b of decodeRecordBatches(bytes)) {
    const base = b.baseOffset;
    const last = base + b.lastOffsetDelta;
    if (last < from) continue;
    r.nextOffset = Math.max(r.nextOffset, last + 1);
    const producerId = b.producerId;
    if (b.isControl) {
      if (aborted && b.records.length > 0 && controlRecordType(b.records[0]!) === ControlRecordType.Abort)
        abortedProducers.delete(producerId);
      continue;
    }
    if (aborted && b.isTransactional) {
      while (pendingAborts.length > 0 && pendingAborts[0]!.firstOffset <= last)
        abortedProducers.add(pendingAborts.shift()!.producerId);
      if (abortedProducers.has(producerId)) continue;
    }
    for (const rec of b.records) {
      if (rec.offset < from) continue;
      r.records.push({
        topic: r.topic,
        partition: r.partition,
        offset: rec.offset,
        timestamp: rec.timestamp,
        key: rec.key,
        value: rec.value,
        headers: rec.headers,
      });
    }
  }
}
