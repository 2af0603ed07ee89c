// The ResourceManager: registered TaskManagers, their slots, and their liveness. A TaskManager is
// lost when neither its heartbeats nor its answers to heartbeat requests arrive for
// `heartbeat.timeout`, or sooner when heartbeat requests fail because its process is gone
// (connection refused), so a SIGKILL is noticed in seconds.
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import {
  taskExecutorClient,
  type RegisterTaskManagerRequest,
  type RegisterTaskManagerResponse,
  type TaskManagerHeartbeat,
  type TaskMetrics,
} from '../common/control.js';
import type { Logger } from '../common/logging.js';
import { NO_INTERNAL_SECURITY, type InternalSecurity } from '../common/security/internal-security.js';
import { isUnavailable } from '../common/rpc.js';
import { fencedUnary } from './ha/leadership-fence.js';
import { ENGINE_VERSION, PROTOCOL_VERSION } from '../common/version.js';

export interface TaskManagerInfo {
  id: string;
  rpcAddress: string;
  /** Data server of each slot's thread, by slot index. */
  slotDataAddresses: string[];
  hostname: string;
  pid: number;
  workingDir: string;
  metricsAddress: string;
  slots: number;
  /** jobId per slot, or null when free. */
  allocations: (string | null)[];
  registeredAt: number;
  lastHeartbeat: number;
  /** Consecutive heartbeat requests that failed to reach the TaskManager. */
  failedRequests: number;
  rssBytes: number;
  heapUsedBytes: number;
  client: grpc.Client;
}

export interface ResourceManagerEvents {
  /** A TaskManager registered or slots were freed: waiting jobs may proceed. */
  resourcesChanged: [];
  taskManagerLost: [tm: TaskManagerInfo, cause: string];
  metrics: [tmId: string, metrics: TaskMetrics[]];
}

export class ResourceManager extends EventEmitter<ResourceManagerEvents> {
  readonly taskManagers = new Map<string, TaskManagerInfo>();
  private timer: NodeJS.Timeout | undefined;
  private lastRoundAt = 0;
  private verdictPostponed = false;

  constructor(
    readonly jobManagerId: string,
    private readonly heartbeatIntervalMs: number,
    private readonly heartbeatTimeoutMs: number,
    private readonly log: Logger,
    /** Secret and TLS of the calls to TaskManagers. */
    private readonly security: InternalSecurity = NO_INTERNAL_SECURITY,
  ) {
    super();
  }

  start(): void {
    this.lastRoundAt = Date.now();
    this.timer = setInterval(() => this.heartbeatRound(), this.heartbeatIntervalMs);
    this.timer.unref();
  }

  register(req: RegisterTaskManagerRequest): RegisterTaskManagerResponse {
    const reject = (reason: string): RegisterTaskManagerResponse => {
      this.log.warn({ taskManagerId: req.taskManagerId, reason }, 'TaskManager registration refused');
      return {
        accepted: false,
        reason,
        jobManagerId: this.jobManagerId,
        heartbeatIntervalMs: 0,
        heartbeatTimeoutMs: 0,
      };
    };
    if (req.protocolVersion !== PROTOCOL_VERSION) {
      return reject(
        `protocol version mismatch: TaskManager speaks ${req.protocolVersion} (engine ${req.engineVersion || 'unknown'}), JobManager speaks ${PROTOCOL_VERSION} (engine ${ENGINE_VERSION})`,
      );
    }
    if (!req.taskManagerId || !req.rpcAddress) return reject('registration without TaskManager id or address');
    if (!Number.isInteger(req.slots) || req.slots < 1) return reject(`invalid number of slots: ${req.slots}`);
    if ((req.slotDataAddresses ?? []).length !== req.slots)
      return reject(
        `expected a data address for each of ${req.slots} slot(s), got ${(req.slotDataAddresses ?? []).length}`,
      );
    const previous = this.taskManagers.get(req.taskManagerId);
    if (previous) this.remove(previous, 'TaskManager re-registered; its previous incarnation is gone');
    const now = Date.now();
    const tm: TaskManagerInfo = {
      id: req.taskManagerId,
      rpcAddress: req.rpcAddress,
      slotDataAddresses: req.slotDataAddresses ?? [],
      hostname: req.hostname,
      pid: req.pid,
      workingDir: req.workingDir,
      metricsAddress: req.metricsAddress ?? '',
      slots: req.slots,
      allocations: new Array<string | null>(req.slots).fill(null),
      registeredAt: now,
      lastHeartbeat: now,
      failedRequests: 0,
      rssBytes: 0,
      heapUsedBytes: 0,
      client: taskExecutorClient(req.rpcAddress, this.security),
    };
    this.taskManagers.set(tm.id, tm);
    this.log.info({ taskManagerId: tm.id, address: tm.rpcAddress, slots: tm.slots }, 'TaskManager registered');
    this.emit('resourcesChanged');
    return {
      accepted: true,
      reason: '',
      jobManagerId: this.jobManagerId,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      heartbeatTimeoutMs: this.heartbeatTimeoutMs,
    };
  }

  /** A heartbeat from a TaskManager; false when it is unknown (it should register again). */
  onHeartbeat(hb: TaskManagerHeartbeat): boolean {
    const tm = this.taskManagers.get(hb.taskManagerId);
    if (!tm) return false;
    tm.lastHeartbeat = Date.now();
    tm.failedRequests = 0;
    tm.rssBytes = hb.rssBytes;
    tm.heapUsedBytes = hb.heapUsedBytes;
    if (hb.tasks.length) this.emit('metrics', tm.id, hb.tasks);
    return true;
  }

  disconnect(id: string, reason: string): void {
    const tm = this.taskManagers.get(id);
    if (tm) this.remove(tm, `TaskManager ${id} disconnected: ${reason}`);
  }

  /** Called by a job when it learns a TaskManager is unreachable, for a prompt verdict. */
  reportUnreachable(id: string, cause: string): void {
    const tm = this.taskManagers.get(id);
    if (tm) this.remove(tm, cause);
  }

  private remove(tm: TaskManagerInfo, cause: string): void {
    if (this.taskManagers.get(tm.id) !== tm) return;
    this.taskManagers.delete(tm.id);
    tm.client.close();
    this.log.warn({ taskManagerId: tm.id, address: tm.rpcAddress, cause }, 'TaskManager lost');
    this.emit('taskManagerLost', tm, cause);
  }

  private heartbeatRound(): void {
    const now = Date.now();
    const late = now - this.lastRoundAt - this.heartbeatIntervalMs;
    this.lastRoundAt = now;
    // A round far behind its time means this process was paused (GC, an overloaded machine): the
    // heartbeats that arrived meanwhile are still queued behind this timer, so judging now would
    // declare live TaskManagers lost. The next round judges once they were read; never two in a
    // row are postponed, so a JobManager that is late every round still finds a dead TaskManager.
    const judge = !(late > this.heartbeatIntervalMs && !this.verdictPostponed);
    if (!judge)
      this.log.warn({ lateMs: late }, 'heartbeat round ran late; the verdict on silent TaskManagers waits a round');
    this.verdictPostponed = !judge;
    for (const tm of [...this.taskManagers.values()]) {
      if (judge && now - tm.lastHeartbeat > this.heartbeatTimeoutMs) {
        this.remove(
          tm,
          `TaskManager ${tm.id} (${tm.rpcAddress}) sent no heartbeat and answered no heartbeat request for ${now - tm.lastHeartbeat} ms (heartbeat.timeout ${this.heartbeatTimeoutMs} ms)`,
        );
        continue;
      }
      fencedUnary<{ jobManagerId: string }, { known: boolean }>(
        tm.client,
        'RequestHeartbeat',
        { jobManagerId: this.jobManagerId },
        this.heartbeatIntervalMs,
      )
        .then((res) => {
          tm.failedRequests = 0;
          // An answer is as much a sign of life as a heartbeat, unless it serves another JobManager.
          if (res.known) tm.lastHeartbeat = Math.max(tm.lastHeartbeat, Date.now());
        })
        .catch((err: Error) => {
          tm.failedRequests++;
          // Two refused connections in a row: the process is gone; no need to wait out the timeout.
          if (tm.failedRequests >= 2 && isUnavailable(err)) {
            this.remove(tm, `TaskManager ${tm.id} (${tm.rpcAddress}) is unreachable: ${err.message}`);
          }
        });
    }
  }

  totalSlots(): number {
    let n = 0;
    for (const tm of this.taskManagers.values()) n += tm.slots;
    return n;
  }

  freeSlots(): number {
    let n = 0;
    for (const tm of this.taskManagers.values()) n += tm.allocations.filter((a) => a === null).length;
    return n;
  }

  /**
   * Allocates `count` slots for a job, spread over TaskManagers (most free slots first, as Flink's
   * cluster.evenly-spread-out-slots) or packed; returns null when not enough are free.
   */
  allocateSlots(jobId: string, count: number, spread: boolean): { tm: TaskManagerInfo; slotIndex: number }[] | null {
    if (this.freeSlots() < count) return null;
    const free = new Map<TaskManagerInfo, number[]>();
    for (const tm of this.taskManagers.values()) {
      const idx = tm.allocations.flatMap((a, i) => (a === null ? [i] : []));
      if (idx.length) free.set(tm, idx);
    }
    const result: { tm: TaskManagerInfo; slotIndex: number }[] = [];
    const tms = [...free.keys()].sort((a, b) => a.id.localeCompare(b.id));
    while (result.length < count) {
      let pick: TaskManagerInfo | undefined;
      for (const tm of tms) {
        const n = free.get(tm)!.length;
        if (n === 0) continue;
        if (!pick) pick = tm;
        else if (spread) {
          // Fewest slots already taken by this job, then most free.
          const taken = (t: TaskManagerInfo) => result.filter((r) => r.tm === t).length;
          if (taken(tm) < taken(pick) || (taken(tm) === taken(pick) && n > free.get(pick)!.length)) pick = tm;
        }
      }
      if (!pick) return null;
      const slotIndex = free.get(pick)!.shift()!;
      pick.allocations[slotIndex] = jobId;
      result.push({ tm: pick, slotIndex });
    }
    return result;
  }

  releaseSlots(jobId: string): void {
    let freed = false;
    for (const tm of this.taskManagers.values()) {
      tm.allocations = tm.allocations.map((a) => {
        if (a === jobId) {
          freed = true;
          return null;
        }
        return a;
      });
    }
    if (freed) this.emit('resourcesChanged');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const tm of this.taskManagers.values()) tm.client.close();
  }
}
