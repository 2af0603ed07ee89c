// The TaskManager of the in-process mini cluster: the same Task runtime a TaskManager's slot thread
// runs (operators, state backends, timers, checkpoints), here on the caller's own thread, with one
// network environment whose input channels are all local (in-memory, with credits). It answers the
// JobMaster's task-executor calls in process, and reports task states and checkpoint
// acknowledgements straight to the JobMaster, always on a later microtask, as replies over the wire
// would arrive.
import { triggerCheckpointAt } from '../../taskmanager/trigger-checkpoint.js';
import type { TaskCheckpointAck } from '../../common/checkpoint.js';
import {
  splitsOf,
  taskExecutionState,
  type Ack,
  type NotifyCheckpointRequest,
  type SourceWatermarkReportRequest,
  type SplitRequest,
  type AddSplitsRequest,
  type TriggerCheckpointRequest,
  type WatermarkAlignmentUpdate,
} from '../../common/control.js';
import type { TaskDeploymentDescriptor } from '../../common/deployment.js';
import type { JobVertex } from '../../common/jobgraph.js';
import type { Logger } from '../../common/logging.js';
import type { JobMaster } from '../../jobmanager/job-master.js';
import { NetworkEnvironment } from '../../taskmanager/network/network-environment.js';
import type { BufferDebloatConfig } from '../../taskmanager/runtime/buffer-debloater.js';
import { Task, type TaskStateListener } from '../../taskmanager/task.js';
import { TaskUserCode } from './user-code-copies.js';

export interface LocalTaskExecutorOptions {
  taskManagerId: string;
  slots: number;
  segmentSize: number;
  buffersPerChannel: number;
  bufferTimeoutMs: number;
  bufferDebloat: BufferDebloatConfig | null;
  stateDir: string;
  /** The job's functions by operator id, key reference and 'wm-<operatorId>'. */
  userCode: ReadonlyMap<string, unknown>;
  log: Logger;
}

type Callback<Res> = (err: Error | null, res?: Res) => void;

export class LocalTaskExecutor {
  private readonly network: NetworkEnvironment;
  private readonly tasks = new Map<string, Task>();
  private jobMaster: JobMaster | undefined;
  /** The latest failure of a task that was not only the echo of another task's failure. */
  lastFailure: unknown;

  constructor(private readonly opts: LocalTaskExecutorOptions) {
    // No thread connector: every producer is in this thread, so every input channel is local.
    this.network = new NetworkEnvironment({
      taskManagerId: opts.taskManagerId,
      segmentSize: opts.segmentSize,
      buffersPerChannel: opts.buffersPerChannel,
      logger: opts.log,
    });
  }

  attach(jobMaster: JobMaster): void {
    this.jobMaster = jobMaster;
  }

  /** What the JobMaster calls: the TaskExecutor service's methods, in gRPC's client calling shape. */
  gateway(): Record<string, unknown> {
    const answer =
      <Req, Res>(handle: (req: Req) => Res) =>
      (req: Req, _options: unknown, cb: Callback<Res>) => {
        queueMicrotask(() => {
          let res: Res;
          try {
            res = handle(req);
          } catch (e) {
            cb(e as Error);
            return;
          }
          cb(null, res);
        });
      };
    return {
      SubmitTask: answer<{ descriptorJson: string }, Ack>((req) =>
        this.submit(JSON.parse(req.descriptorJson) as TaskDeploymentDescriptor),
      ),
      CancelTask: answer<{ executionId: string }, Ack>((req) => {
        const task = this.tasks.get(req.executionId);
        if (!task) return { ok: false, error: `no task ${req.executionId}` };
        task.cancel();
        return { ok: true, error: '' };
      }),
      RequestHeartbeat: answer<unknown, { known: boolean }>(() => ({ known: true })),
      ReleaseJob: answer<{ jobId: string }, Ack>((req) => {
        for (const t of this.tasks.values()) if (t.tdd.jobId === req.jobId) t.cancel();
        return { ok: true, error: '' };
      }),
      TriggerCheckpoint: answer<TriggerCheckpointRequest, Ack>((r) => {
        const task = this.tasks.get(r.executionId);
        return triggerCheckpointAt(task, r.executionId, {
          checkpointId: Number(r.checkpointId),
          timestamp: Number(r.timestamp),
          savepoint: r.savepoint,
          stop: r.stop,
          drain: r.drain,
        });
      }),
      NotifyCheckpoint: answer<NotifyCheckpointRequest, Ack>((r) => {
        for (const id of r.executionIds) this.tasks.get(id)?.notifyCheckpoint(Number(r.checkpointId), r.complete);
        return { ok: true, error: '' };
      }),
      AddSplits: answer<AddSplitsRequest, Ack>((r) => {
        const task = this.tasks.get(r.executionId);
        if (!task) return { ok: false, error: `no task ${r.executionId}` };
        task.addSplits(splitsOf(r));
        return { ok: true, error: '' };
      }),
      UpdateWatermarkAlignment: answer<WatermarkAlignmentUpdate, Ack>((r) => {
        for (const { executionId, ...limit } of r.limits) this.tasks.get(executionId)?.alignWatermark(limit);
        return { ok: true, error: '' };
      }),
      close: () => undefined,
    };
  }

  private submit(tdd: TaskDeploymentDescriptor): Ack {
    if (tdd.slotIndex < 0 || tdd.slotIndex >= this.opts.slots)
      throw new Error(
        `task ${tdd.executionId} is for slot ${tdd.slotIndex}, but the mini cluster has ${this.opts.slots} slot(s)`,
      );
    if (this.tasks.has(tdd.executionId)) return { ok: false, error: `task ${tdd.executionId} is already deployed` };
    const task = new Task(tdd, {
      network: this.network,
      bundles: { entryPath: () => Promise.reject(new Error('in-process jobs have no bundle')) },
      bufferTimeoutMs: this.opts.bufferTimeoutMs,
      bufferDebloat: this.opts.bufferDebloat,
      log: this.opts.log,
      onState: this.onState,
      stateDir: this.opts.stateDir,
      checkpointResponder: {
        // Through JSON as over the wire: nothing the JobMaster keeps may alias a task's objects.
        acknowledge: (ack: TaskCheckpointAck) =>
          this.toJobMaster((jm) => jm.onCheckpointAck(JSON.parse(JSON.stringify(ack)) as TaskCheckpointAck)),
        decline: (_jobId: string, executionId: string, checkpointId: number, reason: string) =>
          this.toJobMaster((jm) => jm.onCheckpointDecline(executionId, checkpointId, reason)),
      },
      sourceGateway: {
        reportSourceWatermark: ({ jobId: _jobId, ...report }: SourceWatermarkReportRequest) =>
          this.toJobMaster((jm) => {
            const limit = jm.onSourceWatermark(report);
            this.tasks.get(report.executionId)?.alignWatermark(limit);
          }),
        requestSplit: (request: SplitRequest) => this.toJobMaster((jm) => jm.onSplitRequest(request.executionId)),
      },
      userCode: (d) => Promise.resolve(this.userCodeFor(d)),
    });
    this.tasks.set(tdd.executionId, task);
    void task.run().finally(() => this.tasks.delete(tdd.executionId));
    return { ok: true, error: '' };
  }

  private userCodeFor(tdd: TaskDeploymentDescriptor): { vertex: JobVertex; userCode: Map<string, unknown> } {
    const vertex = tdd.jobGraph.vertices.find((v) => v.id === tdd.vertexId);
    if (!vertex) throw new Error(`vertex ${tdd.vertexId} is not in the deployed job graph`);
    return { vertex, userCode: new TaskUserCode(this.opts.userCode) };
  }

  private readonly onState: TaskStateListener = (task, state, failure) => {
    if (state === 'FAILED' && failure?.name !== 'PartitionException') this.lastFailure = task.failureCause;
    const update = taskExecutionState(
      this.opts.taskManagerId,
      { jobId: task.tdd.jobId, executionId: task.executionId },
      state,
      failure,
      () => task.metrics(),
    );
    this.toJobMaster((jm) => jm.onTaskState(update));
  };

  private toJobMaster(fn: (jm: JobMaster) => void): void {
    queueMicrotask(() => {
      if (this.jobMaster) fn(this.jobMaster);
    });
  }

  /** Cancels what still runs, waits until every task ended, and releases the network. */
  async close(): Promise<void> {
    for (const t of this.tasks.values()) t.cancel();
    await Promise.all([...this.tasks.values()].map((t) => t.terminated));
    this.network.close();
  }
}
