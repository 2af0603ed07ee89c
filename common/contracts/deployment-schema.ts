// The JSON Schema of the TaskDeploymentDescriptor, checked by a TaskManager before it deploys.
import type { JSONSchemaType } from 'ajv';
import type {
  InputChannelDescriptor,
  InputGateDescriptor,
  ResultPartitionDescriptor,
  TaskDeploymentDescriptor,
} from '../deployment.js';
import { taskCheckpointSettingsSchema, taskRestoreDescriptorSchema } from './checkpoint-schema.js';
import { checkContract, compileContract, parseContract } from './contract.js';
import { jobGraphSchema, partitionerSchema } from './job-graph-schema.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const index = { type: 'integer', minimum: 0 } as const;
const positive = { type: 'integer', minimum: 1 } as const;

const channel: JSONSchemaType<InputChannelDescriptor> = {
  type: 'object',
  properties: {
    producerTaskManagerId: str,
    producerDataAddress: str,
    partitionId: str,
    subpartition: index,
    producerSubtask: index,
  },
  required: ['producerTaskManagerId', 'producerDataAddress', 'partitionId', 'subpartition', 'producerSubtask'],
};

const inputGate: JSONSchemaType<InputGateDescriptor> = {
  type: 'object',
  properties: {
    edge: int,
    targetInput: { type: 'integer', minimum: 0, maximum: 1 },
    partitioner: partitionerSchema,
    channels: { type: 'array', items: channel },
  },
  required: ['edge', 'targetInput', 'partitioner', 'channels'],
};

const partition: JSONSchemaType<ResultPartitionDescriptor> = {
  type: 'object',
  properties: {
    edge: int,
    partitionId: str,
    partitioner: partitionerSchema,
    consumers: { type: 'array', items: index },
    consumerParallelism: positive,
    consumerMaxParallelism: positive,
    keyRef: { type: 'string', nullable: true },
  },
  required: ['edge', 'partitionId', 'partitioner', 'consumers', 'consumerParallelism', 'consumerMaxParallelism'],
};

const descriptorSchema: JSONSchemaType<TaskDeploymentDescriptor> = {
  type: 'object',
  properties: {
    jobManagerId: { type: 'string', nullable: true },
    jobId: str,
    jobName: str,
    executionId: str,
    attempt: index,
    vertexId: str,
    subtaskIndex: index,
    parallelism: positive,
    slotIndex: index,
    bundleHash: str,
    programArgs: { type: 'array', items: str },
    defaultParallelism: positive,
    jobGraph: jobGraphSchema,
    inputGates: { type: 'array', items: inputGate },
    partitions: { type: 'array', items: partition },
    checkpointing: { ...taskCheckpointSettingsSchema, nullable: true },
    restore: { ...taskRestoreDescriptorSchema, nullable: true },
  },
  required: [
    'jobId',
    'jobName',
    'executionId',
    'attempt',
    'vertexId',
    'subtaskIndex',
    'parallelism',
    'slotIndex',
    'bundleHash',
    'programArgs',
    'defaultParallelism',
    'jobGraph',
    'inputGates',
    'partitions',
  ],
};

// Compiled once: a descriptor is checked per task deployment, never per record.
const validateDescriptor = compileContract(descriptorSchema);

/** A TaskManager's side of SubmitTask: throws a ContractError naming the first bad field. */
export function parseTaskDeploymentDescriptor(json: string): TaskDeploymentDescriptor {
  return parseContract(json, validateDescriptor, 'invalid deployment descriptor');
}

/** The same check on a value already parsed. */
export function checkTaskDeploymentDescriptor(value: unknown): TaskDeploymentDescriptor {
  return checkContract(value, validateDescriptor, 'invalid deployment descriptor');
}
