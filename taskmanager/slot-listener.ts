// What the slots' threads report to the main thread, forwarded to the JobManager (task states,
// checkpoint acknowledgements and declines), and what they ask of it (bundles, a connection to a
// partition served elsewhere, their log lines).
import type { MessagePort } from 'node:worker_threads';
import type { TaskCheckpointAck } from '../common/checkpoint.js';
import {
  taskExecutionState,
  type Ack,
  type SourceWatermarkAnswer,
  type SourceWatermarkReportRequest,
  type SplitRequest,
} from '../common/control.js';
import { writeLogLine, type Logger } from '../common/logging.js';
import { unary } from '../common/rpc.js';
import type { BundleCache } from './bundle-cache.js';
import type { JobManagerConnection } from './jobmanager-connection.js';
import type { TaskSlotListener, TaskStateUpdate } from './slot/task-slot.js';

export interface SlotListenerContext {
  taskManagerId: string;
  conn: JobManagerConnection;
  bundles: BundleCache;
  /** The TaskManager's logger; `rootLog` (without its id) takes the slots' own log lines. */
  log: Logger;
  rootLog: Logger;
  /** The TaskManager shut down: only terminal task states are still reported. */
  closed: () => boolean;
  /** A consumer on a slot wants the partition served at `producerDataAddress`. */
  connect: (producerDataAddress: string, port: MessagePort) => void;
}

export function slotListener(ctx: SlotListenerContext): TaskSlotListener {
  const { conn, log } = ctx;
  return {
    onTaskState: (task: TaskStateUpdate) => reportTaskState(ctx, task),
    acknowledge: (ack: TaskCheckpointAck) => {
      unary<{ jobId: string; ackJson: string }, Ack>(
        conn.client,
        'AcknowledgeCheckpoint',
        { jobId: ack.jobId, ackJson: JSON.stringify(ack) },
        10_000,
      ).catch((e: Error) =>
        log.warn({ err: e.message, checkpointId: ack.checkpointId }, 'cannot acknowledge checkpoint to the JobManager'),
      );
    },
    decline: (jobId: string, executionId: string, checkpointId: number, reason: string) => {
      unary(conn.client, 'DeclineCheckpoint', { jobId, executionId, checkpointId, reason }, 10_000).catch((e: Error) =>
        log.warn({ err: e.message, checkpointId }, 'cannot decline checkpoint to the JobManager'),
      );
    },
    reportSourceWatermark: (report: SourceWatermarkReportRequest) =>
      unary<SourceWatermarkReportRequest, SourceWatermarkAnswer>(
        conn.client,
        'ReportSourceWatermark',
        report,
        5000,
      ).then(
        (a) => a,
        // The last limit stays; the next report asks again.
        () => undefined,
      ),
    requestSplit: (request: SplitRequest, stillWanted: () => boolean) => requestSplit(ctx, request, stillWanted),
    bundle: (bundleId: string) => ctx.bundles.entryPath(bundleId),
    connect: ctx.connect,
    log: (line: string) => writeLogLine(ctx.rootLog, line),
  };
}

/** Flink's updateTaskExecutionState: every state change of a task goes to the JobManager. */
function reportTaskState(ctx: SlotListenerContext, task: TaskStateUpdate): void {
  const { state, failure } = task;
  if (ctx.closed() && state !== 'CANCELED' && state !== 'FAILED' && state !== 'FINISHED') return;
  const update = taskExecutionState(ctx.taskManagerId, task, state, failure, () => task.metrics ?? null);
  ctx.log.info({ jobId: task.jobId, task: task.name, state }, 'task state');
  unary<typeof update, Ack>(ctx.conn.client, 'UpdateTaskExecutionState', update, 5000).catch((e: Error) =>
    ctx.log.warn({ err: e.message, task: task.name, state }, 'cannot report task state to the JobManager'),
  );
}

const SPLIT_REQUEST_RETRY_MS = 1000;

/**
 * A subtask waits for the answer to its request, so one that does not reach the JobManager is sent
 * again while the subtask runs. A request that did arrive but whose reply was lost costs nothing
 * when repeated: the subtask reads the extra split too.
 */
function requestSplit(ctx: SlotListenerContext, request: SplitRequest, stillWanted: () => boolean): void {
  unary<SplitRequest, Ack>(ctx.conn.client, 'RequestSplit', request, 5000).then(
    (ack) => {
      if (!ack.ok) ctx.log.warn({ executionId: request.executionId, err: ack.error }, 'split request refused');
    },
    (e: Error) => {
      ctx.log.warn({ err: e.message, executionId: request.executionId }, 'cannot request a split from the JobManager');
      setTimeout(() => {
        if (!ctx.closed() && stillWanted()) requestSplit(ctx, request, stillWanted);
      }, SPLIT_REQUEST_RETRY_MS).unref();
    },
  );
}
