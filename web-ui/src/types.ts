// Shapes of the JobManager's REST responses (Flink-shaped). Fields the server may omit are optional.

// The server's own state names, so the UI cannot drift from them.
import type { JobStatus } from '../../common/states.js';

export type JobState = JobStatus;

export interface ClusterOverview {
  taskmanagers: number;
  'slots-total': number;
  'slots-available': number;
  'jobs-running': number;
  'jobs-finished': number;
  'jobs-cancelled': number;
  'jobs-failed': number;
  'weir-version'?: string;
}

export interface TaskManagerInfo {
  id: string;
  path?: string;
  dataPort?: number;
  slotsNumber: number;
  freeSlots: number;
  timeSinceLastHeartbeat?: number;
  hostname?: string;
  pid?: number;
  hardware?: Record<string, unknown>;
  memory?: { rss?: number; heapUsed?: number };
}

export interface TaskManagersResponse {
  taskmanagers: TaskManagerInfo[];
}

/** Task counts by execution state, e.g. { RUNNING: 2, FINISHED: 0 } or Flink's lower-case job overview form. */
export type TaskCounts = Record<string, number>;

export interface JobOverview {
  jid: string;
  name: string;
  state: JobState | string;
  'start-time': number;
  'end-time': number;
  duration: number;
  'last-modification'?: number;
  tasks?: TaskCounts;
}

export interface JobsOverviewResponse {
  jobs: JobOverview[];
}

export interface VertexMetrics {
  'read-records'?: number;
  'write-records'?: number;
  'read-bytes'?: number;
  'write-bytes'?: number;
  /** Records a source in the vertex emitted / sinks in the vertex received. */
  'source-records'?: number;
  'sink-records'?: number;
  /** Keys, windows and buffered rows held in state. */
  'state-entries'?: number;
  /** Event-time lag at the vertex's sinks, ms (null without sinks or timestamps). */
  'sink-lag-p50'?: number | null;
  'sink-lag-p99'?: number | null;
  /** Flink's task time rates, ms per second, the highest over the vertex's running subtasks. */
  busyTimeMsPerSecond?: number;
  idleTimeMsPerSecond?: number;
  backPressuredTimeMsPerSecond?: number;
}

/** Records entering a vertex: from the network, or produced by its source. */
export function recordsIn(m: VertexMetrics | undefined): number {
  return (m?.['read-records'] ?? 0) + (m?.['source-records'] ?? 0);
}

/** Records leaving a vertex: to the network, or into its sinks. */
export function recordsOut(m: VertexMetrics | undefined): number {
  return (m?.['write-records'] ?? 0) + (m?.['sink-records'] ?? 0);
}

export interface JobVertex {
  id: string;
  name: string;
  parallelism: number;
  maxParallelism?: number;
  status: string;
  'start-time'?: number;
  'end-time'?: number;
  duration?: number;
  tasks?: TaskCounts;
  metrics?: VertexMetrics;
  subtasks?: SubtaskInfo[];
  /** Lowest input watermark of the vertex's subtasks (epoch ms), null before the first. */
  watermark?: number | null;
}

export interface SubtaskInfo {
  subtask: number;
  status: string;
  attempt?: number;
  'taskmanager-id'?: string | null;
  endpoint?: string | null;
  'start-time'?: number;
  metrics?: VertexMetrics;
}

export interface PlanInput {
  num?: number;
  id: string;
  ship_strategy?: string;
  exchange?: string;
}

export interface PlanNode {
  id: string;
  parallelism?: number;
  operator?: string;
  description?: string;
  inputs?: PlanInput[];
}

export interface JobDetails {
  jid: string;
  name: string;
  state: JobState | string;
  'start-time': number;
  'end-time': number;
  duration: number;
  now?: number;
  timestamps?: Record<string, number>;
  vertices: JobVertex[];
  plan?: { jid?: string; name?: string; nodes: PlanNode[] };
  /** Weir's extras: the bundle the job was run from (null when unknown), with what. */
  'jar-id'?: string | null;
  'program-args'?: string[];
  /** The parallelism the job was submitted with. */
  parallelism?: number;
  /** The savepoint or checkpoint the job started from, null when it started empty. */
  'restored-from'?: RestoredFrom | null;
}

export interface RestoredFrom {
  path: string;
  /** The job that wrote that savepoint or checkpoint, when known. */
  'job-id': string | null;
  'checkpoint-id': number;
  'is-savepoint': boolean;
}

export interface ExceptionEntry {
  exceptionName?: string;
  stacktrace?: string;
  timestamp?: number;
  taskName?: string | null;
  location?: string | null;
}

export interface JobExceptions {
  'root-exception'?: string | null;
  timestamp?: number | null;
  exceptionHistory?: { entries: ExceptionEntry[]; truncated?: boolean };
}

export interface JarEntry {
  name: string;
  description?: string | null;
}

export interface JarFile {
  id: string;
  name: string;
  uploaded: number;
  entry?: JarEntry[];
  manifest?: { name?: string; version?: string; entry?: string };
}

export interface JarsResponse {
  address?: string;
  files: JarFile[];
}

export interface JarUploadResponse {
  filename: string;
  status: string;
}

export interface JarRunRequest {
  parallelism?: number;
  programArgsList?: string[];
  /** Start from this savepoint (or retained checkpoint). */
  savepointPath?: string;
  /** Start even if some of the savepoint's state belongs to no operator of the new job. */
  allowNonRestoredState?: boolean;
}

export interface JarRunResponse {
  jobid: string;
}

/** GET /config: the dashboard's settings. */
export interface WebConfig {
  'refresh-interval'?: number;
  'weir-version'?: string;
  /** state.savepoints.dir; null when none is configured and every savepoint needs a directory. */
  'savepoints-dir'?: string | null;
}

/** POST /jobs/:jid/savepoints and /jobs/:jid/stop answer with the id to poll. */
export interface TriggerResponse {
  'request-id': string;
}

/** GET /jobs/:jid/savepoints/:triggerid (Flink's asynchronous operation result). */
export interface AsyncOperationStatus {
  status: { id: 'IN_PROGRESS' | 'COMPLETED' | string };
  operation?: { location?: string; 'failure-cause'?: { class?: string; 'stack-trace'?: string } };
}

interface MinMaxAvg {
  min?: number;
  max?: number;
  avg?: number;
}

export interface CheckpointStats {
  id: number;
  status: string;
  is_savepoint?: boolean;
  trigger_timestamp?: number;
  latest_ack_timestamp?: number;
  state_size?: number;
  end_to_end_duration?: number;
  /** Weir's extra: longest barrier alignment of any task, ms. */
  alignment_duration?: number;
  num_subtasks?: number;
  num_acknowledged_subtasks?: number;
  external_path?: string;
  /** Deleted from disk by retention. */
  discarded?: boolean;
}

export interface JobCheckpoints {
  counts?: { restored?: number; total?: number; in_progress?: number; completed?: number; failed?: number };
  summary?: { state_size?: MinMaxAvg; end_to_end_duration?: MinMaxAvg };
  latest?: {
    completed?: CheckpointStats | null;
    savepoint?: CheckpointStats | null;
    failed?: (CheckpointStats & { failure_message?: string }) | null;
    restored?: { id: number; restore_timestamp?: number; is_savepoint?: boolean; external_path?: string } | null;
  };
  history?: CheckpointStats[];
}
