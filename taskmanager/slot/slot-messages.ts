// Messages between a TaskManager's main thread (control plane) and the thread of one of its
// slots (the slot's tasks, their network partitions and gates, its gRPC data server).
import type { MessagePort } from 'node:worker_threads';
import type { TaskCheckpointAck } from '../../common/checkpoint.js';
import type {
  AlignmentLimit,
  SourceSplits,
  SourceWatermarkReportRequest,
  SplitRequest,
  TaskMetrics,
} from '../../common/control.js';
import type { InternalSecurity } from '../../common/security/internal-security.js';
import type { TaskDeploymentDescriptor } from '../../common/deployment.js';
import type { ExecutionState } from '../../common/states.js';
import type { BarrierInfo } from '../runtime/checkpoint-barrier-handler.js';
import type { TaskFailure } from '../task.js';
import type { BufferDebloatConfig } from '../runtime/buffer-debloater.js';

/** A task's state as its slot reports it to the TaskManager. */
export interface TaskStateUpdate {
  executionId: string;
  jobId: string;
  name: string;
  state: ExecutionState;
  failure?: TaskFailure;
  metrics?: TaskMetrics;
}

/** What a slot's thread is started with. */
export interface SlotWorkerData {
  taskManagerId: string;
  slotIndex: number;
  /** Host other TaskManagers are told to connect to (taskmanager.host). */
  host: string;
  /** Address the data server binds (taskmanager.bind-host, else taskmanager.host). */
  bindHost: string;
  /** Port other TaskManagers are told to connect to (taskmanager.data.port + slot); 0 announces the bound one. */
  announcedDataPort: number;
  segmentSize: number;
  buffersPerChannel: number;
  buffersPerRemoteChannel: number;
  requestBackoff: { initialMs: number; maxMs: number };
  bufferTimeoutMs: number;
  /** null: buffer debloating is disabled. */
  bufferDebloat: BufferDebloatConfig | null;
  stateDir: string;
  /** How often the thread reports its tasks' metrics. */
  metricsIntervalMs: number;
  /** The TaskManager's internal secret and TLS material, for the data server and the data clients. */
  security: InternalSecurity;
  /** The TaskManager's watermark alignment board (runtime/alignment-board.ts), shared by its slot threads. */
  alignmentBoard: SharedArrayBuffer;
  /** This thread's tag on the board's cells it claims. */
  boardOwner: number;
}

export type ToSlot =
  | { t: 'submit'; tdd: TaskDeploymentDescriptor }
  | { t: 'cancel'; executionId: string }
  | { t: 'trigger'; req: number; executionId: string; barrier: BarrierInfo }
  | { t: 'notify'; executionIds: string[]; checkpointId: number; complete: boolean }
  | { t: 'serve'; port: MessagePort }
  | { t: 'bundle'; req: number; entryPath?: string; error?: string }
  | { t: 'aligned'; executionId: string; limit: AlignmentLimit }
  | { t: 'splits'; executionId: string; splits: SourceSplits }
  /** Binds the data server (0 or configured at first, then the same port again when the thread is replaced). */
  | { t: 'activate'; dataPort: number }
  | { t: 'close' };

export interface SlotTaskMetrics {
  executionId: string;
  jobId: string;
  name: string;
  subtaskIndex: number;
  metrics: TaskMetrics;
}

export type FromSlot =
  /** The engine is loaded; a spare thread now waits for `activate`. */
  | { t: 'loaded' }
  | { t: 'ready'; dataAddress: string; boundPort: number }
  | ({ t: 'state' } & TaskStateUpdate)
  | { t: 'metrics'; tasks: SlotTaskMetrics[]; heapUsedBytes: number }
  | { t: 'ack'; ack: TaskCheckpointAck }
  | { t: 'decline'; jobId: string; executionId: string; checkpointId: number; reason: string }
  | { t: 'watermark'; report: SourceWatermarkReportRequest }
  | { t: 'split-request'; request: SplitRequest }
  | { t: 'triggered'; req: number; ok: boolean; error: string }
  | { t: 'bundle'; req: number; bundleId: string }
  | { t: 'connect'; producerDataAddress: string; port: MessagePort }
  | { t: 'log'; line: string }
  | { t: 'closed' };
