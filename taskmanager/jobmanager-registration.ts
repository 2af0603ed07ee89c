// The TaskManager's registration with its JobManager (Flink's TaskExecutorToResourceManagerConnection
// with its heartbeats): registers, retrying until the JobManager answers; sends heartbeats that carry
// task metrics; and when the JobManager is lost (silence, a JobManager that does not know this
// TaskManager, a new leader) cancels every task and registers again.
import type { Configuration } from '../common/config.js';
import type { RegisterTaskManagerRequest, RegisterTaskManagerResponse } from '../common/control.js';
import type { Logger } from '../common/logging.js';
import { unary } from '../common/rpc.js';
import { permanentRefusal } from '../common/security/grpc-security.js';
import type { JobManagerConnection } from './jobmanager-connection.js';
import type { TaskExecutor } from './task-executor.js';

/** Thrown when the JobManager refuses this TaskManager for good (e.g. another protocol version). */
export class RegistrationRejectedError extends Error {}

export interface RegistrationTimeouts {
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** How long canceled tasks get to stop before the TaskManager registers again. */
  cancellationTimeoutMs: number;
}

export function registrationTimeouts(conf: Configuration): RegistrationTimeouts {
  return {
    heartbeatIntervalMs: conf.getDuration('heartbeat.interval'),
    heartbeatTimeoutMs: conf.getDuration('heartbeat.timeout'),
    cancellationTimeoutMs: conf.getDuration('task.cancellation.timeout'),
  };
}

export class JobManagerRegistration {
  /** The JobManager this TaskManager registered with last. */
  private jobManagerId = '';
  private lastJobManagerContact = Date.now();
  /** The TaskManager shut down: it registers no more, and reports only terminal task states. */
  private shutDown = false;
  private reRegistering = false;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly taskManagerId: string,
    private readonly conn: JobManagerConnection,
    private readonly timeouts: RegistrationTimeouts,
    private readonly log: Logger,
  ) {}

  get closed(): boolean {
    return this.shutDown;
  }

  /** Whether this TaskManager is registered with that JobManager (fencing of its calls). */
  registeredWith(jobManagerId: string): boolean {
    return jobManagerId === this.jobManagerId;
  }

  /** A heartbeat request from `jobManagerId` arrived: true when it is the one registered with. */
  onJobManagerHeartbeat(jobManagerId: string): boolean {
    // Only the JobManager this TaskManager serves counts as contact, not a former leader still calling.
    if (!this.registeredWith(jobManagerId)) return false;
    this.lastJobManagerContact = Date.now();
    return true;
  }

  /** Registers, retrying while the JobManager cannot be reached; throws when it refuses this TaskManager. */
  async register(req: RegisterTaskManagerRequest): Promise<void> {
    const conn = this.conn;
    let attempt = 0;
    for (;;) {
      if (this.shutDown) return;
      try {
        const client = conn.client;
        const res = await unary<typeof req, RegisterTaskManagerResponse>(client, 'RegisterTaskManager', req, 5000);
        // A JobManager replaced while the call was under way (one that woke from a pause may still
        // answer) is not the one to serve: register with the new leader instead.
        if (conn.client !== client) continue;
        if (!res.accepted)
          throw new RegistrationRejectedError(
            `the JobManager at ${conn.address} refused this TaskManager: ${res.reason}`,
          );
        this.jobManagerId = res.jobManagerId;
        this.lastJobManagerContact = Date.now();
        this.log.info(
          { jobManager: conn.address, rpcAddress: req.rpcAddress, slots: req.slots },
          'TaskManager registered',
        );
        return;
      } catch (e) {
        if (e instanceof RegistrationRejectedError) throw e;
        // A wrong or missing internal secret does not get better by asking again.
        const refusal = permanentRefusal(e);
        if (refusal)
          throw new RegistrationRejectedError(`the JobManager at ${conn.address} refused this TaskManager: ${refusal}`);
        if (attempt++ % 10 === 0)
          this.log.warn(
            { jobManager: conn.address, err: (e as Error).message },
            'cannot reach the JobManager; retrying',
          );
        await new Promise((r) => setTimeout(r, Math.min(1000, 100 * attempt)));
      }
    }
  }

  /**
   * Heartbeats to the JobManager carry task metrics; silence from it means its tasks are orphans.
   * Returns what to call when the JobManager is lost some other way (a new leader).
   */
  startHeartbeats(executor: TaskExecutor, req: RegisterTaskManagerRequest): (why: string) => void {
    const { heartbeatIntervalMs, heartbeatTimeoutMs } = this.timeouts;
    const recover = (why: string) => this.recover(why, executor, req);
    this.heartbeat = setInterval(() => {
      if (this.shutDown || this.reRegistering) return;
      const mem = process.memoryUsage();
      const hb = {
        taskManagerId: this.taskManagerId,
        jobManagerId: this.jobManagerId,
        tasks: executor.metrics(),
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed + executor.slotHeapUsedBytes(),
      };
      unary<typeof hb, { known: boolean }>(this.conn.client, 'SendHeartbeat', hb, heartbeatIntervalMs)
        .then((res) => {
          this.lastJobManagerContact = Date.now();
          if (!res.known) recover('the JobManager does not know this TaskManager');
        })
        .catch(() => {
          if (Date.now() - this.lastJobManagerContact > heartbeatTimeoutMs)
            recover(`no contact with the JobManager for ${Date.now() - this.lastJobManagerContact} ms`);
        });
    }, heartbeatIntervalMs);
    return recover;
  }

  /** The JobManager was lost: cancel every task, then register again. */
  private recover(why: string, executor: TaskExecutor, req: RegisterTaskManagerRequest): void {
    if (this.reRegistering || this.shutDown) return;
    this.reRegistering = true;
    this.log.warn(
      { reason: why, tasks: executor.numTasks() },
      'lost the JobManager: canceling tasks and registering again',
    );
    executor.cancelAll();
    // A new JobManager must never find tasks of the old one still running in the slots it is offered.
    executor
      .awaitAll(this.timeouts.cancellationTimeoutMs)
      .then(() => this.register(req))
      .catch((e: Error) => this.log.error({ err: e.message }, 'registration failed'))
      .finally(() => {
        this.reRegistering = false;
      });
  }

  /** Stops registering and heartbeats, and tells the JobManager this TaskManager is gone (best effort). */
  async disconnect(): Promise<void> {
    this.shutDown = true;
    clearInterval(this.heartbeat);
    await unary(
      this.conn.client,
      'DisconnectTaskManager',
      { taskManagerId: this.taskManagerId, reason: 'TaskManager shut down' },
      2000,
    ).catch(() => undefined);
  }
}
