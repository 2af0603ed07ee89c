// Picks the subpartition of a record, per partitioner (Flink's ChannelSelector implementations).
import type { ResultPartitionDescriptor } from '../../common/deployment.js';
import { assignToKeyGroup, keyGroupOfHashCode, operatorIndexForKeyGroup } from '../../common/keygroups.js';

export interface ChannelSelector {
  /** True for 'broadcast': every record goes to every subpartition and select() must not be called. */
  readonly broadcast: boolean;
  /** The subpartition index of a record. */
  select(value: unknown): number;
}

export function createChannelSelector(
  desc: ResultPartitionDescriptor,
  producerSubtask: number,
  keySelector?: (v: unknown) => unknown,
): ChannelSelector {
  const n = desc.consumers.length;
  if (n === 0) throw new Error(`partition ${desc.partitionId} has no consumers`);
  switch (desc.partitioner) {
    case 'forward':
      return fixed(0);
    case 'global': {
      const sub = desc.consumers.indexOf(0);
      if (sub < 0)
        throw new Error(
          `partition ${desc.partitionId}: 'global' partitioning needs consumer subtask 0 among its consumers`,
        );
      return fixed(sub);
    }
    case 'broadcast':
      return {
        broadcast: true,
        select() {
          throw new Error('broadcast partitioning sends every record to every subpartition');
        },
      };
    case 'rebalance':
      return roundRobin(n, producerSubtask % n);
    case 'rescale':
      return roundRobin(n, 0);
    case 'hash':
      return hashSelector(desc, keySelector);
    default:
      throw new Error(`unknown partitioner '${String(desc.partitioner)}'`);
  }
}

function fixed(sub: number): ChannelSelector {
  return { broadcast: false, select: () => sub };
}

function roundRobin(n: number, start: number): ChannelSelector {
  let next = start;
  return {
    broadcast: false,
    select() {
      const s = next;
      next = s + 1 === n ? 0 : s + 1;
      return s;
    },
  };
}

function hashSelector(desc: ResultPartitionDescriptor, keySelector?: (v: unknown) => unknown): ChannelSelector {
  if (!keySelector) throw new Error(`partition ${desc.partitionId}: 'hash' partitioning needs a key selector`);
  const maxParallelism = desc.consumerMaxParallelism;
  const subOfConsumer = new Map<number, number>();
  desc.consumers.forEach((c, i) => subOfConsumer.set(c, i));
  // key group -> subpartition, so a record costs one hash and one array lookup.
  const subOfKeyGroup = new Int32Array(maxParallelism);
  for (let kg = 0; kg < maxParallelism; kg++) {
    const consumer = operatorIndexForKeyGroup(maxParallelism, desc.consumerParallelism, kg);
    subOfKeyGroup[kg] = subOfConsumer.get(consumer) ?? -1;
  }
  return {
    broadcast: false,
    select(value) {
      const key = keySelector(value);
      // An int32 key hashes as itself (keyHashCode): skip the generic dispatch on the hot path.
      const kg =
        typeof key === 'number' && (key | 0) === key
          ? keyGroupOfHashCode(key, maxParallelism)
          : assignToKeyGroup(key, maxParallelism);
      const sub = subOfKeyGroup[kg];
      if (sub < 0) {
        const consumer = operatorIndexForKeyGroup(maxParallelism, desc.consumerParallelism, kg);
        throw new Error(
          `partition ${desc.partitionId}: key group ${kg} belongs to consumer subtask ${consumer}, which is not connected`,
        );
      }
      return sub;
    },
  };
}
