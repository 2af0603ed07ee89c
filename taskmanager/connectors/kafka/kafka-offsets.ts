// Offsets by specification (earliest, latest, by timestamp, the group's committed ones) and the
// group commit Flink makes on checkpoint completion (as a consumer outside any generation).
import type { OffsetSpec } from '../../../api/kafka-source.js';
import { ApiKeys } from '../../../common/kafka/protocol/index.js';
import { check, KafkaClient, type ClusterMetadata } from './kafka-client.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export const tpKey = (topic: string, partition: number): string => `${topic}-${partition}`;

const EARLIEST = -2;
const LATEST = -1;

type ListOffsetsResponse = {
  topics: {
    name: string;
    partitions: { partitionIndex: number; errorCode: number; offset: number | bigint; timestamp: number | bigint }[];
  }[];
};

/** ListOffsets for each partition at `timestamp` (-2 earliest, -1 latest); -1 where none qualifies. */
export async function listOffsets(
  client: KafkaClient,
  meta: ClusterMetadata,
  parts: readonly TopicPartition[],
  timestamp: number,
  readCommitted: boolean,
): Promise<Map<string, number>> {
  const byLeader = groupByLeader(meta, parts);
  const out = new Map<string, number>();
  await Promise.all(
    [...byLeader].map(async ([leader, tps]) => {
      const conn = await client.broker(leader);
      const topics = groupByTopic(tps);
      const res = await client.send<ListOffsetsResponse>(conn, ApiKeys.ListOffsets, {
        replicaId: -1,
        isolationLevel: readCommitted ? 1 : 0,
        topics: [...topics].map(([name, ps]) => ({
          name,
          partitions: ps.map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 })),
        })),
      });
      for (const t of res.topics) {
        for (const p of t.partitions) {
          check(p.errorCode, `ListOffsets of ${t.name}-${p.partitionIndex}`);
          out.set(tpKey(t.name, p.partitionIndex), Number(p.offset));
        }
      }
    }),
  );
  return out;
}

type OffsetFetchResponse = {
  errorCode?: number;
  topics: {
    name: string;
    partitions: { partitionIndex: number; committedOffset: number | bigint; errorCode: number }[];
  }[];
};

/** The group's committed offsets (-1: none). */
export async function fetchCommitted(
  client: KafkaClient,
  groupId: string,
  parts: readonly TopicPartition[],
): Promise<Map<string, number>> {
  const conn = await client.coordinator(groupId, 0);
  const res = await client.send<OffsetFetchResponse>(conn, ApiKeys.OffsetFetch, {
    groupId,
    topics: [...groupByTopic(parts)].map(([name, ps]) => ({ name, partitionIndexes: ps })),
    requireStable: false,
  });
  check(res.errorCode, `OffsetFetch of group '${groupId}'`);
  const out = new Map<string, number>();
  for (const t of res.topics)
    for (const p of t.partitions) {
      check(p.errorCode, `OffsetFetch of group '${groupId}' for ${t.name}-${p.partitionIndex}`);
      out.set(tpKey(t.name, p.partitionIndex), Number(p.committedOffset));
    }
  return out;
}

/** Commits offsets to the group without being a member of it (generation -1), as Flink's source does. */
export async function commitOffsets(
  client: KafkaClient,
  groupId: string,
  offsets: readonly (TopicPartition & { offset: number })[],
): Promise<void> {
  if (offsets.length === 0) return;
  const conn = await client.coordinator(groupId, 0);
  const byTopic = new Map<
    string,
    {
      partitionIndex: number;
      committedOffset: number;
      committedLeaderEpoch: number;
      commitTimestamp: number;
      committedMetadata: string;
    }[]
  >();
  for (const o of offsets) {
    let l = byTopic.get(o.topic);
    if (!l) byTopic.set(o.topic, (l = []));
    l.push({
      partitionIndex: o.partition,
      committedOffset: o.offset,
      committedLeaderEpoch: -1,
      commitTimestamp: -1,
      committedMetadata: '',
    });
  }
  const res = await client.send<{
    topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
  }>(conn, ApiKeys.OffsetCommit, {
    groupId,
    generationId: -1,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
  });
  for (const t of res.topics)
    for (const p of t.partitions) {
      if (p.errorCode !== 0) client.forgetCoordinator(groupId, 0);
      check(p.errorCode, `OffsetCommit of group '${groupId}' for ${t.name}-${p.partitionIndex}`);
    }
}

/** Resolves a starting or stopping specification to one offset per partition. */
export async function resolveOffsets(
  client: KafkaClient,
  meta: ClusterMetadata,
  parts: readonly TopicPartition[],
  spec: OffsetSpec,
  opts: { groupId: string | undefined; readCommitted: boolean },
): Promise<Map<string, number>> {
  if (parts.length === 0) return new Map();
  const at = (ts: number, tps: readonly TopicPartition[] = parts) =>
    listOffsets(client, meta, tps, ts, opts.readCommitted);
  switch (spec.kind) {
    case 'earliest':
      return at(EARLIEST);
    case 'latest':
      return at(LATEST);
    case 'timestamp': {
      const found = await at(spec.timestamp);
      const missing = parts.filter((p) => (found.get(tpKey(p.topic, p.partition)) ?? -1) < 0);
      // No record at or after the timestamp: start (or stop) at the end.
      if (missing.length > 0) for (const [k, v] of await at(LATEST, missing)) found.set(k, v);
      return found;
    }
    case 'committed':
    case 'offsets': {
      const given =
        spec.kind === 'committed'
          ? await fetchCommitted(client, opts.groupId!, parts)
          : new Map(Object.entries(spec.offsets));
      const missing = parts.filter((p) => (given.get(tpKey(p.topic, p.partition)) ?? -1) < 0);
      if (missing.length > 0) {
        if (spec.reset === 'NONE') {
          throw new Error(
            `no committed offset for ${missing.map((p) => tpKey(p.topic, p.partition)).join(', ')} in group '${opts.groupId}' and the reset strategy is NONE`,
          );
        }
        for (const [k, v] of await at(spec.reset === 'EARLIEST' ? EARLIEST : LATEST, missing)) given.set(k, v);
      }
      return given;
    }
  }
}

export function groupByTopic(parts: readonly TopicPartition[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const p of parts) {
    let l = m.get(p.topic);
    if (!l) m.set(p.topic, (l = []));
    l.push(p.partition);
  }
  return m;
}

export function groupByLeader<P extends TopicPartition>(meta: ClusterMetadata, parts: readonly P[]): Map<number, P[]> {
  const m = new Map<number, P[]>();
  for (const p of parts) {
    const leader = meta.topics.get(p.topic)?.partitions.find((x) => x.partition === p.partition)?.leader;
    if (leader === undefined || leader < 0) throw new Error(`partition ${tpKey(p.topic, p.partition)} has no leader`);
    let l = m.get(leader);
    if (!l) m.set(leader, (l = []));
    l.push(p);
  }
  return m;
}
