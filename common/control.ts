// Typed views of the control-plane messages (proto/control.proto) as @grpc/proto-loader shapes them.
import type * as grpc from '@grpc/grpc-js';
import { loadProto, serviceClient } from './rpc.js';
import { createClient } from './security/grpc-security.js';
import { NO_INTERNAL_SECURITY, type InternalSecurity } from './security/internal-security.js';

export interface RegisterTaskManagerRequest {
  taskManagerId: string;
  rpcAddress: string;
  slots: number;
  /** host:port of each slot thread's data server, by slot index. */
  slotDataAddresses?: string[];
  protocolVersion: number;
  engineVersion: string;
  pid: number;
  hostname: string;
  workingDir: string;
  metricsAddress?: string;
}

export interface RegisterTaskManagerResponse {
  accepted: boolean;
  reason: string;
  jobManagerId: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
}

export interface TaskMetrics {
  executionId: string;
  recordsIn: number;
  recordsOut: number;
  bytesIn: number;
  bytesOut: number;
  backPressuredMs: number;
  sourceRecords: number;
  sinkRecords: number;
  watermark: number;
  stateEntries: number;
  sinkLagP50: number;
  sinkLagP99: number;
  /** Flink's busyTimeMsPerSecond, idleTimeMsPerSecond, backPressuredTimeMsPerSecond: rates over the last few seconds (0..1000, adding up to 1000). */
  busyTimeMsPerSecond: number;
  idleTimeMsPerSecond: number;
  backPressuredTimeMsPerSecond: number;
  /** Busy and idle time since the task started (backPressuredMs is the third). */
  accumulatedBusyMs: number;
  accumulatedIdleMs: number;
  /** Connector metrics by Flink's names (records-lag-max, pendingRecords, numBytesSend, commit failures), when a connector reports them. */
  connector?: Record<string, number>;
}

export interface TaskManagerHeartbeat {
  taskManagerId: string;
  jobManagerId: string;
  tasks: TaskMetrics[];
  rssBytes: number;
  heapUsedBytes: number;
}

export interface TaskExecutionState {
  taskManagerId: string;
  jobId: string;
  executionId: string;
  state: string;
  error: string;
  errorName: string;
  operatorName: string;
  timestamp: number;
  metrics?: TaskMetrics | null;
}

/** The report of a task's new state; metrics travel with the final one only. */
export function taskExecutionState(
  taskManagerId: string,
  task: { jobId: string; executionId: string },
  state: string,
  failure: { message: string; name: string; operatorName: string } | undefined,
  finalMetrics: () => TaskMetrics | null,
): TaskExecutionState {
  const terminal = state === 'FINISHED' || state === 'FAILED' || state === 'CANCELED';
  return {
    taskManagerId,
    jobId: task.jobId,
    executionId: task.executionId,
    state,
    error: failure?.message ?? '',
    errorName: failure?.name ?? '',
    operatorName: failure?.operatorName ?? '',
    timestamp: Date.now(),
    metrics: terminal ? finalMetrics() : null,
  };
}

export interface TriggerCheckpointRequest {
  executionId: string;
  checkpointId: number;
  timestamp: number;
  savepoint: boolean;
  stop: boolean;
  drain: boolean;
}

export interface NotifyCheckpointRequest {
  jobId: string;
  checkpointId: number;
  complete: boolean;
  executionIds: string[];
}

export interface DeclineCheckpointRequest {
  jobId: string;
  executionId: string;
  checkpointId: number;
  reason: string;
}

export interface Ack {
  ok: boolean;
  error: string;
}

/** Watermark alignment: what a source subtask reports, and the limit the JobManager answers. */
export interface SourceWatermarkReportRequest {
  jobId: string;
  executionId: string;
  group: string;
  /** The last watermark the subtask emitted (the minimum watermark before its first). */
  watermark: number;
  idle: boolean;
  /** The allowed drift of the subtask's strategy, in ms. */
  maxDrift: number;
  /** Whether it is paused, waiting for the group: only a paused subtask is pushed new limits. */
  paused?: boolean;
}

/** What the JobMaster's alignment sees of a report (the job is its own). */
export type SourceWatermarkReport = Omit<SourceWatermarkReportRequest, 'jobId'>;

/**
 * The most a source subtask's group lets it advance to. The JobManager answers a report with it and
 * pushes it when the rest of the group moves; `sequence` orders the two, which travel apart.
 */
export interface AlignmentLimit {
  maxAllowedWatermark: number;
  sequence: number;
}

export type SourceWatermarkAnswer = AlignmentLimit;

/** New limits for source subtasks of one job on one TaskManager (watermark alignment). */
export interface WatermarkAlignmentUpdate {
  jobId: string;
  limits: Array<AlignmentLimit & { executionId: string }>;
}

/** A source subtask asks its source's enumerator for more to read (Flink's RequestSplitEvent). */
export interface SplitRequest {
  jobId: string;
  executionId: string;
}

/** The indexes [start, end) of a bounded generator, one split of it. */
export interface IndexRange {
  start: number;
  end: number;
}

/**
 * Splits an enumerator hands to one source subtask: a generator's index ranges or a FileSource's
 * files (absolute paths, each read whole); `noMoreSplits`: the enumerator has nothing left for it.
 */
export interface SourceSplits {
  ranges: IndexRange[];
  files: string[];
  noMoreSplits: boolean;
}

export interface AddSplitsRequest extends SourceSplits {
  jobId: string;
  executionId: string;
}

/** The splits of a request, for the task (files absent: from a JobManager that sends none). */
export function splitsOf(r: AddSplitsRequest): SourceSplits {
  return { ranges: r.ranges ?? [], files: r.files ?? [], noMoreSplits: r.noMoreSplits };
}

export const JOB_MANAGER_SERVICE = 'weir.control.JobManagerGateway';
export const TASK_EXECUTOR_SERVICE = 'weir.control.TaskExecutorGateway';

function service(name: string): grpc.ServiceClientConstructor {
  return serviceClient(loadProto('control.proto'), name);
}

export function jobManagerServiceDefinition(): grpc.ServiceDefinition {
  return service(JOB_MANAGER_SERVICE).service;
}

export function taskExecutorServiceDefinition(): grpc.ServiceDefinition {
  return service(TASK_EXECUTOR_SERVICE).service;
}

/** `security`: the process's internal secret and TLS settings (none: a plain channel, for tools and tests). */
export function jobManagerClient(address: string, security: InternalSecurity = NO_INTERNAL_SECURITY): grpc.Client {
  return createClient(service(JOB_MANAGER_SERVICE), address, security);
}

export function taskExecutorClient(address: string, security: InternalSecurity = NO_INTERNAL_SECURITY): grpc.Client {
  return createClient(service(TASK_EXECUTOR_SERVICE), address, security);
}
