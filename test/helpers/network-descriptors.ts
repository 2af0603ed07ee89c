// Descriptors of result partitions and input gates for network tests that wire them by hand.
import type { InputGateDescriptor, ResultPartitionDescriptor } from '../../common/deployment.js';
import type { PartitionerKind } from '../../common/jobgraph.js';

/** A partition of edge 0 read by `consumers`: forward for one consumer, rebalance for more, unless told. */
export function partitionDescriptor(
  id: string,
  consumers: number[] = [0],
  partitioner: PartitionerKind = consumers.length > 1 ? 'rebalance' : 'forward',
  consumerParallelism = consumers.length,
): ResultPartitionDescriptor {
  return { edge: 0, partitionId: id, partitioner, consumers, consumerParallelism, consumerMaxParallelism: 128 };
}

/** A gate of edge 0 over `channels`, all from the producer at `producerDataAddress` of TaskManager `producerTaskManagerId`. */
export function gateDescriptor(
  producer: { producerTaskManagerId: string; producerDataAddress: string },
  channels: { partitionId: string; subpartition: number; producerSubtask?: number }[],
): InputGateDescriptor {
  return {
    edge: 0,
    targetInput: 0,
    partitioner: 'forward',
    channels: channels.map((c) => ({ ...producer, producerSubtask: c.producerSubtask ?? 0, ...c })),
  };
}
