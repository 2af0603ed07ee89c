import type { TaskCheckpointSettings } from '../../common/checkpoint.js';
import { silentLogger } from '../../common/logging.js';
import type { TaskServices } from '../../taskmanager/operators/operator.js';
import { LagTracker } from '../../taskmanager/runtime/lag-tracker.js';
import type { ProcessingTimeService } from '../../taskmanager/runtime/timer-service.js';

/** TaskServices for driving one operator in a unit test, without a task around it. */
export function fakeTaskServices(opts: {
  processingTime: ProcessingTimeService;
  subtaskIndex?: number;
  parallelism?: number;
  taskName?: string;
  /** Set to run the operator as in a job that checkpoints. */
  checkpointing?: TaskCheckpointSettings;
}): TaskServices {
  return {
    jobId: '0'.repeat(32),
    subtaskIndex: opts.subtaskIndex ?? 0,
    parallelism: opts.parallelism ?? 1,
    maxParallelism: 128,
    taskName: opts.taskName ?? 'Task',
    attempt: 0,
    log: silentLogger(),
    pending: undefined,
    sinkRecords: 0,
    sinkLag: new LagTracker(),
    drainPending: async () => {},
    processingTime: opts.processingTime,
    autoWatermarkInterval: 200,
    setIdle: () => {},
    checkpointing: opts.checkpointing,
  };
}
