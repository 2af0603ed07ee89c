// The TaskExecutor service (what the JobManager calls): deploy and cancel tasks, answer
// heartbeats, release a job's resources, serve the log tail.
import type * as grpc from '@grpc/grpc-js';
import type { Ack, NotifyCheckpointRequest, TriggerCheckpointRequest } from '../common/control.js';
import type { TaskDeploymentDescriptor } from '../common/deployment.js';
import { readTail } from '../common/files.js';
import type { Logger } from '../common/logging.js';
import type { BundleCache } from './bundle-cache.js';
import type { NetworkEnvironment } from './network/network-environment.js';
import { Task, type CheckpointResponder, type TaskStateListener } from './task.js';

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

export interface TaskExecutorOptions {
  network: NetworkEnvironment;
  bundles: BundleCache;
  bufferTimeoutMs: number;
  log: Logger;
  logFile: string;
  onTaskState: TaskStateListener;
  stateDir: string;
  checkpointResponder: CheckpointResponder;
  /** Called on every heartbeat request from the JobManager. */
  onJobManagerHeartbeat: (jobManagerId: string) => boolean;
}

export class TaskExecutor {
  readonly tasks = new Map<string, Task>();

  constructor(private readonly opts: TaskExecutorOptions) {}

  submit(tdd: TaskDeploymentDescriptor): void {
    if (this.tasks.has(tdd.executionId)) throw new Error(`task ${tdd.executionId} is already deployed`);
    const o = this.opts;
    const task = new Task(tdd, {
      network: o.network,
      bundles: o.bundles,
      bufferTimeoutMs: o.bufferTimeoutMs,
      log: o.log,
      onState: o.onTaskState,
      stateDir: o.stateDir,
      checkpointResponder: o.checkpointResponder,
    });
    this.tasks.set(tdd.executionId, task);
    this.opts.log.info({ jobId: tdd.jobId, task: task.name, executionId: tdd.executionId }, 'deploying task');
    void task.run().finally(() => {
      this.tasks.delete(tdd.executionId);
    });
  }

  cancelAll(): void {
    for (const t of this.tasks.values()) t.cancel();
  }

  async awaitAll(timeoutMs: number): Promise<void> {
    await Promise.race([Promise.all([...this.tasks.values()].map((t) => t.terminated)), new Promise((r) => setTimeout(r, timeoutMs))]);
  }

  service(): grpc.UntypedServiceImplementation {
    const SubmitTask: Unary<{ descriptorJson: string }, Ack> = (call, cb) => {
      try {
        const tdd = JSON.parse(call.request.descriptorJson) as TaskDeploymentDescriptor;
        this.submit(tdd);
        cb(null, { ok: true, error: '' });
      } catch (e) {
        cb(null, { ok: false, error: (e as Error).message });
      }
    };
    const CancelTask: Unary<{ executionId: string }, Ack> = (call, cb) => {
      const t = this.tasks.get(call.request.executionId);
      if (!t) return cb(null, { ok: false, error: `no task ${call.request.executionId}` });
      t.cancel();
      cb(null, { ok: true, error: '' });
    };
    const RequestHeartbeat: Unary<{ jobManagerId: string }, { known: boolean }> = (call, cb) => {
      cb(null, { known: this.opts.onJobManagerHeartbeat(call.request.jobManagerId) });
    };
    const ReleaseJob: Unary<{ jobId: string }, Ack> = (call, cb) => {
      for (const t of this.tasks.values()) if (t.tdd.jobId === call.request.jobId) t.cancel();
      cb(null, { ok: true, error: '' });
    };
    const ReadLog: Unary<{ maxBytes: number }, { text: string; path: string }> = (call, cb) => {
      const max = Math.min(Math.max(1, call.request.maxBytes || 65536), 4 * 1024 * 1024);
      void readTail(this.opts.logFile, max).then((text) => cb(null, { text, path: this.opts.logFile }));
    };
    const TriggerCheckpoint: Unary<TriggerCheckpointRequest, Ack> = (call, cb) => {
      const r = call.request;
      const t = this.tasks.get(r.executionId);
      if (!t) return cb(null, { ok: false, error: `no task ${r.executionId}` });
      const ok = t.triggerCheckpoint({ checkpointId: Number(r.checkpointId), timestamp: Number(r.timestamp), savepoint: r.savepoint, stop: r.stop, drain: r.drain });
      cb(null, ok ? { ok: true, error: '' } : { ok: false, error: `task ${t.name} is not running a source (state ${t.state})` });
    };
    const NotifyCheckpoint: Unary<NotifyCheckpointRequest, Ack> = (call, cb) => {
      const r = call.request;
      for (const id of r.executionIds) this.tasks.get(id)?.notifyCheckpoint(Number(r.checkpointId), r.complete);
      cb(null, { ok: true, error: '' });
    };
    return { SubmitTask, CancelTask, RequestHeartbeat, ReleaseJob, ReadLog, TriggerCheckpoint, NotifyCheckpoint };
  }
}
