// Turns a JobGraph plus slot assignments into TaskDeploymentDescriptors: which partitions each
// subtask writes and which (partition, subpartition) channels it reads.
import {
  partitionIdOf,
  type InputGateDescriptor,
  type ResultPartitionDescriptor,
  type TaskDeploymentDescriptor,
} from '../common/deployment.js';
import { consumersOf } from '../common/partitioning.js';
import type { Execution, ExecutionGraph } from './execution-graph.js';

export interface DeploymentContext {
  jobName: string;
  bundleId: string;
  programArgs: string[];
  defaultParallelism: number;
}

export function buildDeployment(
  graph: ExecutionGraph,
  exec: Execution,
  ctx: DeploymentContext,
): TaskDeploymentDescriptor {
  const jg = graph.jobGraph;
  const vertexIndex = jg.vertices.findIndex((v) => v.id === exec.vertex.id);
  const vertexExecs = (id: string) => graph.executions[jg.vertices.findIndex((v) => v.id === id)]!;

  const partitions: ResultPartitionDescriptor[] = jg.edges
    .filter((e) => e.source === exec.vertex.id)
    .map((e) => {
      const target = jg.vertices.find((v) => v.id === e.target)!;
      return {
        edge: e.index,
        partitionId: partitionIdOf(exec.executionId, e.index),
        partitioner: e.partitioner,
        consumers: consumersOf(e.partitioner, exec.subtaskIndex, exec.vertex.parallelism, target.parallelism),
        consumerParallelism: target.parallelism,
        consumerMaxParallelism: target.maxParallelism,
        ...(e.keyRef ? { keyRef: e.keyRef } : {}),
      };
    });

  const inputGates: InputGateDescriptor[] = jg.edges
    .filter((e) => e.target === exec.vertex.id)
    .map((e) => {
      const producers = vertexExecs(e.source);
      const channels = [];
      for (const p of producers) {
        const consumers = consumersOf(e.partitioner, p.subtaskIndex, p.vertex.parallelism, exec.vertex.parallelism);
        for (let k = 0; k < consumers.length; k++) {
          if (consumers[k] !== exec.subtaskIndex) continue;
          channels.push({
            producerTaskManagerId: p.taskManagerId!,
            producerDataAddress: p.dataAddress ?? p.taskManagerAddress!,
            partitionId: partitionIdOf(p.executionId, e.index),
            subpartition: k,
            producerSubtask: p.subtaskIndex,
          });
        }
      }
      return { edge: e.index, targetInput: e.targetInput, partitioner: e.partitioner, channels };
    });

  if (vertexIndex < 0) throw new Error(`execution ${exec.executionId} has no vertex in the job graph`);
  return {
    jobId: graph.jobId,
    jobName: ctx.jobName,
    executionId: exec.executionId,
    attempt: exec.attempt,
    vertexId: exec.vertex.id,
    subtaskIndex: exec.subtaskIndex,
    parallelism: exec.vertex.parallelism,
    slotIndex: exec.slotIndex ?? 0,
    bundleHash: ctx.bundleId,
    programArgs: ctx.programArgs,
    defaultParallelism: ctx.defaultParallelism,
    jobGraph: jg,
    inputGates,
    partitions,
  };
}
