// The JobMaster of one job: waits for slots, deploys every subtask, follows task states, and
// ends the job as FINISHED, CANCELED or FAILED. (Restarts from checkpoints come with failover.)
import { EventEmitter } from 'node:events';
import type { Ack, TaskExecutionState, TaskMetrics } from '../common/control.js';
import { requiredSlots, type JobGraph } from '../common/jobgraph.js';
import type { Logger } from '../common/logging.js';
import { unary } from '../common/rpc.js';
import { isGloballyTerminal, type ExecutionState, type JobStatus } from '../common/states.js';
import { buildDeployment, type DeploymentContext } from './deployment-builder.js';
import { Execution, ExecutionGraph, type ExceptionEntry } from './execution-graph.js';
import type { ResourceManager, TaskManagerInfo } from './resource-manager.js';

export interface JobMasterOptions {
  jobId: string;
  jobGraph: JobGraph;
  bundleId: string;
  programArgs: string[];
  defaultParallelism: number;
  slotRequestTimeoutMs: number;
  cancellationTimeoutMs: number;
  spreadOutSlots: boolean;
  rpcTimeoutMs: number;
}

export interface JobMasterEvents {
  statusChanged: [status: JobStatus, cause: string | undefined];
}

export class JobMaster extends EventEmitter<JobMasterEvents> {
  readonly graph: ExecutionGraph;
  private readonly deployCtx: DeploymentContext;
  private slotWaitTimer: NodeJS.Timeout | undefined;
  private cancelTimer: NodeJS.Timeout | undefined;
  private readonly onResources = () => this.tryAllocate();
  private readonly onLost = (tm: TaskManagerInfo, cause: string) => this.onTaskManagerLost(tm, cause);
  private readonly onMetrics = (_tm: string, m: TaskMetrics[]) => this.updateMetrics(m);
  private slotsHeld = false;

  constructor(
    private readonly opts: JobMasterOptions,
    private readonly rm: ResourceManager,
    private readonly log: Logger,
  ) {
    super();
    this.graph = new ExecutionGraph(opts.jobId, opts.jobGraph, Date.now());
    this.deployCtx = { jobName: opts.jobGraph.name, bundleId: opts.bundleId, programArgs: opts.programArgs, defaultParallelism: opts.defaultParallelism };
  }

  get jobId(): string {
    return this.opts.jobId;
  }

  get status(): JobStatus {
    return this.graph.status;
  }

  start(): void {
    this.rm.on('taskManagerLost', this.onLost);
    this.rm.on('metrics', this.onMetrics);
    this.setStatus('RUNNING');
    for (const e of this.graph.allExecutions()) e.transition('SCHEDULED');
    const needed = requiredSlots(this.opts.jobGraph);
    if (!this.tryAllocate()) {
      this.log.info({ jobId: this.jobId, needed, free: this.rm.freeSlots() }, 'waiting for slots');
      this.rm.on('resourcesChanged', this.onResources);
      this.slotWaitTimer = setTimeout(() => {
        this.rm.off('resourcesChanged', this.onResources);
        const total = this.rm.totalSlots();
        this.fail(
          'NoResourceAvailableException',
          `Could not acquire the minimum required resources: the job needs ${needed} slot(s) (its highest parallelism) but only ${this.rm.freeSlots()} of ${total} are free on ${this.rm.taskManagers.size} TaskManager(s) after waiting ${this.opts.slotRequestTimeoutMs} ms (slot.request.timeout).`,
          null,
        );
      }, this.opts.slotRequestTimeoutMs);
    }
  }

  private tryAllocate(): boolean {
    if (this.slotsHeld || this.status !== 'RUNNING') return this.slotsHeld;
    const needed = requiredSlots(this.opts.jobGraph);
    const slots = this.rm.allocateSlots(this.jobId, needed, this.opts.spreadOutSlots);
    if (!slots) return false;
    this.slotsHeld = true;
    this.rm.off('resourcesChanged', this.onResources);
    if (this.slotWaitTimer) clearTimeout(this.slotWaitTimer);
    // Slot sharing: slot i holds subtask i of every vertex.
    for (const row of this.graph.executions) {
      for (const e of row) {
        const s = slots[e.subtaskIndex]!;
        e.taskManagerId = s.tm.id;
        e.taskManagerAddress = s.tm.rpcAddress;
        e.slotIndex = s.slotIndex;
      }
    }
    this.deployAll();
    return true;
  }

  private deployAll(): void {
    for (const e of this.graph.allExecutions()) {
      const tm = this.rm.taskManagers.get(e.taskManagerId!);
      if (!tm) {
        this.onExecutionFailed(e, 'TaskManagerLost', `TaskManager ${e.taskManagerId} is gone`);
        return;
      }
      let tdd;
      try {
        tdd = buildDeployment(this.graph, e, this.deployCtx);
      } catch (err) {
        this.fail('JobDeploymentException', `cannot build deployment for ${e.taskName}: ${(err as Error).message}`, e);
        return;
      }
      e.transition('DEPLOYING');
      unary<{ descriptorJson: string }, Ack>(tm.client, 'SubmitTask', { descriptorJson: JSON.stringify(tdd) }, this.opts.rpcTimeoutMs)
        .then((ack) => {
          if (!ack.ok) this.onExecutionFailed(e, 'TaskDeploymentException', `TaskManager ${tm.id} refused ${e.taskName}: ${ack.error}`);
        })
        .catch((err: Error) => {
          this.onExecutionFailed(e, 'TaskDeploymentException', `cannot deploy ${e.taskName} to TaskManager ${tm.id} (${tm.rpcAddress}): ${err.message}`);
        });
    }
  }

  /** A task state report from a TaskManager. */
  onTaskState(update: TaskExecutionState): void {
    const e = this.graph.findExecution(update.executionId);
    if (!e) return;
    const state = update.state as ExecutionState;
    if (update.metrics) this.updateMetrics([{ ...update.metrics, executionId: e.executionId }]);
    if (state === 'FAILED') {
      const where = update.operatorName ? ` (operator '${update.operatorName}')` : '';
      this.onExecutionFailed(e, update.errorName || 'Exception', `${e.taskName}${where} failed on TaskManager ${update.taskManagerId}: ${update.error}`);
      return;
    }
    if (!e.transition(state)) return;
    this.log.debug({ jobId: this.jobId, task: e.taskName, state }, 'task state');
    this.checkCompletion();
  }

  private onExecutionFailed(e: Execution, name: string, message: string): void {
    if (e.terminal) return;
    if (e.state === 'CANCELING' || this.status === 'CANCELLING') {
      // Tasks asked to cancel often fail on their way out (their inputs vanish): that is a cancellation.
      e.transition('CANCELED');
      this.checkCompletion();
      return;
    }
    e.failureCause = message;
    e.transition('FAILED');
    if (this.status === 'FAILING') {
      // A consumer's "my producer failed" may arrive before the producer's own report: keep the real root cause first.
      const root = this.graph.exceptionHistory[0];
      if (root && root.exceptionName === 'PartitionException' && name !== 'PartitionException') this.graph.exceptionHistory.unshift(this.exceptionEntry(name, message, e));
      this.checkCompletion();
      return;
    }
    if (isGloballyTerminal(this.status)) return;
    this.fail(name, message, e);
  }

  private exceptionEntry(name: string, message: string, e: Execution | null): ExceptionEntry {
    return {
      exceptionName: name,
      stacktrace: message,
      timestamp: Date.now(),
      taskName: e?.taskName ?? null,
      location: e?.taskManagerAddress ?? null,
      taskManagerId: e?.taskManagerId ?? null,
    };
  }

  private fail(name: string, message: string, e: Execution | null): void {
    if (isGloballyTerminal(this.status) || this.status === 'FAILING' || this.status === 'CANCELLING') return;
    this.graph.exceptionHistory.push(this.exceptionEntry(name, message, e));
    this.setStatus('FAILING', message);
    this.cancelRemaining();
  }

  cancel(): boolean {
    if (isGloballyTerminal(this.status) || this.status === 'CANCELLING') return false;
    if (this.status === 'FAILING') return true;
    this.setStatus('CANCELLING');
    this.cancelRemaining();
    return true;
  }

  private cancelRemaining(): void {
    if (this.slotWaitTimer) clearTimeout(this.slotWaitTimer);
    this.rm.off('resourcesChanged', this.onResources);
    for (const e of this.graph.allExecutions()) {
      if (e.terminal) continue;
      if (e.state === 'CREATED' || e.state === 'SCHEDULED' || !e.taskManagerId) {
        e.transition('CANCELED');
        continue;
      }
      e.transition('CANCELING');
      const tm = this.rm.taskManagers.get(e.taskManagerId);
      if (!tm) {
        e.transition('CANCELED');
        continue;
      }
      unary<{ executionId: string }, Ack>(tm.client, 'CancelTask', { executionId: e.executionId }, this.opts.rpcTimeoutMs)
        .then((ack) => {
          if (!ack.ok) {
            // Unknown to the TaskManager: it never started or already ended there.
            e.transition('CANCELED');
            this.checkCompletion();
          }
        })
        .catch(() => {
          e.transition('CANCELED');
          this.checkCompletion();
        });
    }
    // A TaskManager that never confirms must not keep the job from ending.
    this.cancelTimer = setTimeout(() => {
      for (const e of this.graph.allExecutions()) if (!e.terminal) e.transition('CANCELED');
      this.checkCompletion();
    }, this.opts.cancellationTimeoutMs);
    this.cancelTimer.unref();
    this.checkCompletion();
  }

  private onTaskManagerLost(tm: TaskManagerInfo, cause: string): void {
    const affected = this.graph.allExecutions().filter((e) => e.taskManagerId === tm.id && !e.terminal);
    if (affected.length === 0) return;
    for (const e of affected) {
      if (this.status === 'CANCELLING' || this.status === 'FAILING') e.transition('CANCELED');
    }
    const first = affected.find((e) => !e.terminal);
    if (first) this.onExecutionFailed(first, 'TaskManagerLostException', `${cause}; its tasks were lost (${affected.map((e) => e.taskName).join(', ')})`);
    for (const e of affected) if (!e.terminal) e.transition('CANCELED');
    this.checkCompletion();
  }

  private checkCompletion(): void {
    const execs = this.graph.allExecutions();
    if (!execs.every((e) => e.terminal)) return;
    let next: JobStatus;
    if (this.status === 'FAILING') next = 'FAILED';
    else if (this.status === 'CANCELLING') next = 'CANCELED';
    else if (execs.every((e) => e.state === 'FINISHED')) next = 'FINISHED';
    else if (this.status === 'RUNNING') {
      // Tasks ended without failure or finish (canceled from outside): treat as canceled.
      next = 'CANCELED';
    } else return;
    this.finishJob(next);
  }

  private finishJob(status: JobStatus): void {
    if (isGloballyTerminal(this.status)) return;
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    this.setStatus(status, status === 'FAILED' ? this.rootCause() ?? undefined : undefined);
    this.rm.off('taskManagerLost', this.onLost);
    this.rm.off('metrics', this.onMetrics);
    this.rm.releaseSlots(this.jobId);
    for (const tm of this.rm.taskManagers.values()) {
      unary(tm.client, 'ReleaseJob', { jobId: this.jobId }, this.opts.rpcTimeoutMs).catch(() => undefined);
    }
  }

  rootCause(): string | null {
    return this.graph.exceptionHistory[0]?.stacktrace ?? null;
  }

  private setStatus(status: JobStatus, cause?: string): void {
    if (!this.graph.transition(status)) return;
    // Failures are reported once, at level error, by the alert notifier listening to statusChanged.
    this.log.info({ jobId: this.jobId, jobName: this.opts.jobGraph.name, state: status, ...(cause ? { cause } : {}) }, `job ${status}`);
    this.emit('statusChanged', status, cause);
  }

  private updateMetrics(metrics: TaskMetrics[]): void {
    for (const m of metrics) {
      const e = this.graph.findExecution(m.executionId);
      if (!e) continue;
      const { executionId: _id, ...counters } = m;
      e.metrics = counters;
    }
  }

  /** Stops timers and listeners when the JobManager shuts down. */
  dispose(): void {
    if (this.slotWaitTimer) clearTimeout(this.slotWaitTimer);
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    this.rm.off('resourcesChanged', this.onResources);
    this.rm.off('taskManagerLost', this.onLost);
    this.rm.off('metrics', this.onMetrics);
  }
}
