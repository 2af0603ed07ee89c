// The TaskExecutor service (what the JobManager calls): deploys each task on the thread of the
// slot the JobManager allocated it, cancels tasks, forwards checkpoint calls, answers heartbeats,
// releases a job's resources and serves the log tail.
import type * as grpc from '@grpc/grpc-js';
import type { MessagePort } from 'node:worker_threads';
import {
  splitsOf,
  type Ack,
  type NotifyCheckpointRequest,
  type TaskMetrics,
  type TriggerCheckpointRequest,
  type WatermarkAlignmentUpdate,
  type AddSplitsRequest,
} from '../common/control.js';
import { parseTaskDeploymentDescriptor } from '../common/contracts/deployment-schema.js';
import type { TaskDeploymentDescriptor } from '../common/deployment.js';
import { readLogTail } from '../common/files.js';
import type { Logger } from '../common/logging.js';
import type { TaskManagerView, TaskView } from './metrics-server.js';
import type { TaskSlot } from './slot/task-slot.js';

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

export interface TaskExecutorOptions {
  slots: TaskSlot[];
  log: Logger;
  logFile: string;
  /** Called on every heartbeat request from the JobManager. */
  onJobManagerHeartbeat: (jobManagerId: string) => boolean;
  /** Whether this TaskManager is registered with that JobManager (fencing of deployments). */
  registeredWith: (jobManagerId: string) => boolean;
}

export class TaskExecutor implements TaskManagerView {
  /** Limits pushed by the JobManager (not answered to reports) that reached a task here. */
  private pushed = 0;

  constructor(private readonly opts: TaskExecutorOptions) {}

  alignmentLimitsPushed(): number {
    return this.pushed;
  }

  private get slots(): TaskSlot[] {
    return this.opts.slots;
  }

  numTasks(): number {
    return this.slots.reduce((n, s) => n + s.tasks.size, 0);
  }

  /** The latest metrics of every task (as its slot's thread last reported them). */
  metrics(): TaskMetrics[] {
    return this.slots.flatMap((s) => s.metrics());
  }

  taskViews(): TaskView[] {
    return this.slots.flatMap((s) =>
      [...s.tasks.values()].flatMap((t) =>
        t.metrics ? [{ jobId: t.jobId, name: t.name, subtaskIndex: t.subtaskIndex, metrics: () => t.metrics! }] : [],
      ),
    );
  }

  slotsWithoutSpare(): number {
    return this.slots.filter((s) => s.awaitsSpare()).length;
  }

  /** JavaScript heap in use across the slots' threads (the main thread's is added by the caller). */
  slotHeapUsedBytes(): number {
    return this.slots.reduce((n, s) => n + s.heapUsedBytes, 0);
  }

  submit(tdd: TaskDeploymentDescriptor): void {
    const slot = this.slots[tdd.slotIndex];
    if (!slot)
      throw new Error(
        `task ${tdd.executionId} is for slot ${tdd.slotIndex}, but this TaskManager has ${this.slots.length} slot(s)`,
      );
    if (this.slotOf(tdd.executionId)) throw new Error(`task ${tdd.executionId} is already deployed`);
    slot.submit(tdd);
  }

  /** Hands a consumer's channel to the slot whose thread serves `producerDataAddress`. */
  connect(producerDataAddress: string, port: MessagePort): void {
    const slot = this.slots.find((s) => s.dataAddress === producerDataAddress);
    if (slot) {
      slot.serve(port);
      return;
    }
    this.opts.log.warn({ producerDataAddress }, 'no slot of this TaskManager serves a requested partition');
    port.close();
  }

  cancelAll(): void {
    for (const s of this.slots) s.cancelAll();
  }

  async awaitAll(timeoutMs: number): Promise<void> {
    await Promise.all(this.slots.map((s) => s.awaitAll(timeoutMs)));
  }

  private slotOf(executionId: string): TaskSlot | undefined {
    return this.slots.find((s) => s.tasks.has(executionId));
  }

  service(): grpc.UntypedServiceImplementation {
    const SubmitTask: Unary<{ descriptorJson: string }, Ack> = (call, cb) => {
      try {
        // Checked against its schema: a JobManager of another version, or a bug, is refused with the field's path.
        const tdd = parseTaskDeploymentDescriptor(call.request.descriptorJson);
        // A JobManager that lost its leadership (or was replaced) must not deploy here any more.
        if (tdd.jobManagerId !== undefined && !this.opts.registeredWith(tdd.jobManagerId)) {
          throw new Error(
            `refused: deployed by JobManager ${tdd.jobManagerId}, but this TaskManager is registered with another one`,
          );
        }
        this.submit(tdd);
        cb(null, { ok: true, error: '' });
      } catch (e) {
        cb(null, { ok: false, error: (e as Error).message });
      }
    };
    const CancelTask: Unary<{ executionId: string }, Ack> = (call, cb) => {
      const slot = this.slotOf(call.request.executionId);
      if (!slot) return cb(null, { ok: false, error: `no task ${call.request.executionId}` });
      slot.cancel(call.request.executionId);
      cb(null, { ok: true, error: '' });
    };
    const RequestHeartbeat: Unary<{ jobManagerId: string }, { known: boolean }> = (call, cb) => {
      cb(null, { known: this.opts.onJobManagerHeartbeat(call.request.jobManagerId) });
    };
    const ReleaseJob: Unary<{ jobId: string; jobManagerId: string }, Ack> = (call, cb) => {
      const { jobId, jobManagerId } = call.request;
      // A job keeps its id across JobManagers: a former leader must not cancel the new leader's tasks.
      if (!this.opts.registeredWith(jobManagerId))
        return cb(null, {
          ok: false,
          error: `refused: JobManager ${jobManagerId} is not the one this TaskManager serves`,
        });
      for (const s of this.slots) s.cancelAll(jobId);
      cb(null, { ok: true, error: '' });
    };
    const ReadLog: Unary<{ maxBytes: number }, { text: string; path: string }> = (call, cb) => {
      const max = Math.min(Math.max(1, call.request.maxBytes || 65536), 4 * 1024 * 1024);
      void readLogTail(this.opts.logFile, max).then((text) => cb(null, { text, path: this.opts.logFile }));
    };
    const TriggerCheckpoint: Unary<TriggerCheckpointRequest, Ack> = (call, cb) => {
      const r = call.request;
      const slot = this.slotOf(r.executionId);
      if (!slot) return cb(null, { ok: false, error: `no task ${r.executionId}` });
      void slot
        .triggerCheckpoint(r.executionId, {
          checkpointId: Number(r.checkpointId),
          timestamp: Number(r.timestamp),
          savepoint: r.savepoint,
          stop: r.stop,
          drain: r.drain,
        })
        .then((res) => cb(null, res));
    };
    const NotifyCheckpoint: Unary<NotifyCheckpointRequest, Ack> = (call, cb) => {
      const r = call.request;
      for (const s of this.slots) s.notifyCheckpoint(r.executionIds, Number(r.checkpointId), r.complete);
      cb(null, { ok: true, error: '' });
    };
    const UpdateWatermarkAlignment: Unary<WatermarkAlignmentUpdate, Ack> = (call, cb) => {
      // A task that ended meanwhile has no use for its limit.
      for (const { executionId, ...limit } of call.request.limits) {
        const slot = this.slotOf(executionId);
        if (!slot) continue;
        slot.alignWatermark(executionId, limit);
        this.pushed++;
      }
      cb(null, { ok: true, error: '' });
    };
    // Posted to the slot's thread before the reply: a TriggerCheckpoint sent after this reply reaches the task after the splits.
    const AddSplits: Unary<AddSplitsRequest, Ack> = (call, cb) => {
      const r = call.request;
      const delivered = this.slotOf(r.executionId)?.addSplits(r.executionId, splitsOf(r)) ?? false;
      cb(null, delivered ? { ok: true, error: '' } : { ok: false, error: `no task ${r.executionId} runs here` });
    };
    return {
      SubmitTask,
      CancelTask,
      RequestHeartbeat,
      ReleaseJob,
      ReadLog,
      TriggerCheckpoint,
      NotifyCheckpoint,
      UpdateWatermarkAlignment,
      AddSplits,
    };
  }
}
