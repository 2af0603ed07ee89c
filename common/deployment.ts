// What the JobManager sends a TaskManager to deploy one subtask (Flink's TaskDeploymentDescriptor).
import type { TaskCheckpointSettings, TaskRestoreDescriptor } from './checkpoint.js';
import type { JobGraph, PartitionerKind } from './jobgraph.js';

/** One (producer partition, subpartition) a consumer reads: one input channel. */
export interface InputChannelDescriptor {
  /** The producing TaskManager's id; equal to the consumer's own id means an in-memory channel. */
  producerTaskManagerId: string;
  /** host:port of the gRPC data server of the producer's slot (one per slot thread). */
  producerDataAddress: string;
  partitionId: string;
  subpartition: number;
  /** Producer subtask index, for error messages and metrics. */
  producerSubtask: number;
}

export interface InputGateDescriptor {
  edge: number;
  /** The head operator's logical input (0, or 1 for the second input of a two-input operator). */
  targetInput: number;
  partitioner: PartitionerKind;
  channels: InputChannelDescriptor[];
}

export interface ResultPartitionDescriptor {
  edge: number;
  partitionId: string;
  partitioner: PartitionerKind;
  /** Consumer subtask index of each subpartition (see common/partitioning.ts). */
  consumers: number[];
  consumerParallelism: number;
  consumerMaxParallelism: number;
  keyRef?: string;
}

export interface TaskDeploymentDescriptor {
  /** The JobManager that deploys it (fencing: a TaskManager takes tasks only from the one it registered with). */
  jobManagerId?: string;
  jobId: string;
  jobName: string;
  /** Unique per execution attempt of one subtask. */
  executionId: string;
  attempt: number;
  vertexId: string;
  subtaskIndex: number;
  parallelism: number;
  /** The TaskManager slot the task runs in (each slot has its own thread). */
  slotIndex: number;
  bundleHash: string;
  programArgs: string[];
  defaultParallelism: number;
  jobGraph: JobGraph;
  inputGates: InputGateDescriptor[];
  partitions: ResultPartitionDescriptor[];
  /** Present when the job checkpoints. */
  checkpointing?: TaskCheckpointSettings;
  /** Present when this attempt starts from a checkpoint or savepoint. */
  restore?: TaskRestoreDescriptor;
}

/** Result partitions are named by producer execution and edge, so a new attempt never reads an old one. */
export function partitionIdOf(executionId: string, edge: number): string {
  return `${executionId}.e${edge}`;
}
