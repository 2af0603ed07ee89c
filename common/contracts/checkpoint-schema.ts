// JSON Schemas of the checkpoint payloads that cross processes: the acknowledgement a task sends the
// JobManager, and the checkpoint settings and restore instructions inside a deployment descriptor.
import type { JSONSchemaType } from 'ajv';
import {
  FINAL_CHECKPOINT_ID,
  type OperatorSubtaskStateHandle,
  type SharedStateFile,
  type TaskCheckpointAck,
  type TaskCheckpointSettings,
  type TaskRestoreDescriptor,
} from '../checkpoint.js';
import { compileContract, parseContract } from './contract.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
const optBool = { type: 'boolean', nullable: true } as const;

const sharedFile: JSONSchemaType<SharedStateFile> = {
  type: 'object',
  properties: { name: str, size: count, sha256: str, delta: bool, checkpointId: int },
  required: ['name', 'size', 'sha256', 'delta', 'checkpointId'],
};

const handle: JSONSchemaType<OperatorSubtaskStateHandle> = {
  type: 'object',
  properties: {
    operatorId: str,
    subtaskIndex: count,
    file: str,
    size: count,
    sha256: str,
    keyGroupRange: {
      anyOf: [
        { type: 'object', properties: { start: count, end: count }, required: ['start', 'end'] },
        { type: 'null', nullable: true },
      ],
    },
    operatorStates: { type: 'array', items: str },
    shared: { type: 'array', nullable: true, items: sharedFile },
  },
  required: ['operatorId', 'subtaskIndex', 'file', 'size', 'sha256', 'keyGroupRange', 'operatorStates'],
};

const ackSchema: JSONSchemaType<TaskCheckpointAck> = {
  type: 'object',
  properties: {
    jobId: str,
    executionId: str,
    // FINAL_CHECKPOINT_ID (-1) marks the end-of-input report.
    checkpointId: int,
    handles: { type: 'array', items: handle },
    syncDurationMs: num,
    asyncDurationMs: num,
    alignmentDurationMs: num,
    processedDuringAlignment: { type: 'number', nullable: true },
    endOfInput: optBool,
  },
  required: [
    'jobId',
    'executionId',
    'checkpointId',
    'handles',
    'syncDurationMs',
    'asyncDurationMs',
    'alignmentDurationMs',
  ],
};

export const taskCheckpointSettingsSchema: JSONSchemaType<TaskCheckpointSettings> = {
  type: 'object',
  properties: {
    periodic: bool,
    jobDir: str,
    mode: { type: 'string', enum: ['EXACTLY_ONCE', 'AT_LEAST_ONCE'] },
    stateBackend: { type: 'string', enum: ['heap', 'level'] },
    incremental: optBool,
    checkpointsAfterTasksFinish: optBool,
  },
  required: ['periodic', 'jobDir', 'mode', 'stateBackend'],
};

export const taskRestoreDescriptorSchema: JSONSchemaType<TaskRestoreDescriptor> = {
  type: 'object',
  properties: {
    checkpointId: int,
    dir: str,
    operators: {
      type: 'object',
      required: [],
      additionalProperties: {
        type: 'object',
        properties: {
          parallelism: { type: 'integer', minimum: 1 },
          maxParallelism: { type: 'integer', minimum: 1 },
          subtasks: { type: 'array', items: handle },
          unassignedFrom: { type: 'integer', minimum: 0, nullable: true },
        },
        required: ['parallelism', 'maxParallelism', 'subtasks'],
      },
    },
    finished: optBool,
  },
  required: ['checkpointId', 'dir', 'operators'],
};

const validateAck = compileContract(ackSchema);

/** The JobManager's side of AcknowledgeCheckpoint: throws a ContractError naming the first bad field. */
export function parseTaskCheckpointAck(json: string): TaskCheckpointAck {
  return parseContract(json, validateAck, 'invalid checkpoint acknowledgement');
}

/**
 * The checkpoint and task an ack that failed its check still names, so the JobManager can decline
 * that checkpoint instead of waiting for its timeout; undefined when it names neither clearly (or
 * is the end-of-input report, which is no checkpoint to decline).
 */
export function invalidAckIdentity(json: string): { executionId: string; checkpointId: number } | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || !('executionId' in raw) || !('checkpointId' in raw)) return undefined;
  const { executionId, checkpointId } = raw;
  if (
    typeof executionId !== 'string' ||
    typeof checkpointId !== 'number' ||
    !Number.isInteger(checkpointId) ||
    checkpointId === FINAL_CHECKPOINT_ID
  )
    return undefined;
  return { executionId, checkpointId };
}
