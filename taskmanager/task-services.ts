// The services a task's operators share (Flink's Environment and RuntimeContext parts): who the
// subtask is, its processing-time service, its metrics, the pending async work of user code, and
// how to tell downstream tasks that its output is idle.
import type { TaskDeploymentDescriptor } from '../common/deployment.js';
import type { Logger } from '../common/logging.js';
import type { TaskServices } from './operators/operator.js';
import { LagTracker } from './runtime/lag-tracker.js';
import type { MailboxProcessingTimeService } from './runtime/mailbox.js';

/** Milliseconds between periodic watermarks when the job sets none. */
const DEFAULT_AUTO_WATERMARK_INTERVAL_MS = 200;

export function createTaskServices(
  tdd: TaskDeploymentDescriptor,
  opts: {
    maxParallelism: number;
    taskName: string;
    log: Logger;
    processingTime: MailboxProcessingTimeService;
    setIdle: (idle: boolean) => void;
  },
): TaskServices {
  const autoWatermarkInterval = tdd.jobGraph.config.autoWatermarkInterval;
  return {
    jobId: tdd.jobId,
    subtaskIndex: tdd.subtaskIndex,
    parallelism: tdd.parallelism,
    maxParallelism: opts.maxParallelism,
    taskName: opts.taskName,
    attempt: tdd.attempt,
    log: opts.log,
    pending: undefined,
    sinkRecords: 0,
    sinkLag: new LagTracker(),
    processingTime: opts.processingTime,
    autoWatermarkInterval:
      typeof autoWatermarkInterval === 'number' ? autoWatermarkInterval : DEFAULT_AUTO_WATERMARK_INTERVAL_MS,
    ...(tdd.checkpointing ? { checkpointing: tdd.checkpointing } : {}),
    setIdle: opts.setIdle,
    async drainPending() {
      const p = this.pending;
      this.pending = undefined;
      await p;
    },
  };
}
