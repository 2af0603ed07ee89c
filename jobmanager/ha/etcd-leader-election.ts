// Leader election of JobManagers through etcd: the leader holds the cluster's leader key, created
// in a transaction only when absent and attached to its lease; standbys watch the key and try
// again when it goes. Fencing: the lease counts from when a renewal was sent, not when its answer
// arrived (an answer may wait in a socket while the process is paused), and the leader counts it
// as lost once two thirds of its time-to-live passed without one, before etcd could expire it and
// let a standby in. holds() answers that without awaiting anything, for the effects fenced by
// leadership-fence.ts; a watchdog asks it too, so a quiet leader also notices.
import type { Etcd3, Lease, Watcher } from 'etcd3';
import { etcdClient, leaderKey, type LeaderInfo } from '../../common/etcd-leader.js';
import type { Logger } from '../../common/logging.js';

export interface LeadershipCallbacks {
  elected(): void;
  /** Leadership is gone: the JobManager must stop acting on jobs immediately. */
  lost(reason: string): void;
}

export class EtcdLeaderElection {
  private readonly client: Etcd3;
  private readonly key: string;
  private lease: Lease | undefined;
  private watcher: Watcher | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** When the last renewal that etcd confirmed was sent (epoch ms). */
  private lastRenewal = 0;
  /** Send times of renewals not answered yet, oldest first (answers come in order on one stream). */
  private unanswered: number[] = [];
  private leader = false;
  private lostReason: string | undefined;
  private closed = false;
  private callbacks: LeadershipCallbacks | undefined;

  constructor(
    endpoints: string[],
    clusterId: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    this.client = etcdClient(endpoints);
    this.key = leaderKey(clusterId);
  }

  /** The leader's REST address as last read from etcd (for a standby's answers). */
  leaderRestUrl: string | undefined;

  /** Campaigns until elected (retrying while etcd is unreachable); returns once the campaign runs. */
  async campaign(info: LeaderInfo, cb: LeadershipCallbacks): Promise<void> {
    const value = JSON.stringify(info);
    // A standby whose lease lapsed (etcd was away) campaigns again with a new one.
    const freshLease = (): Lease => {
      const lease = this.client.lease(this.ttlMs / 1000, { autoKeepAlive: true });
      lease.on('keepaliveEstablished', () => (this.unanswered = []));
      lease.on('keepaliveFailed', () => (this.unanswered = []));
      lease.on('keepaliveFired', () => this.unanswered.push(Date.now()));
      lease.on('keepaliveSucceeded', () => {
        const sent = this.unanswered.shift();
        if (sent !== undefined) this.lastRenewal = Math.max(this.lastRenewal, sent);
      });
      lease.on('lost', (e: Error) => this.loseLeadership(`the etcd lease was lost: ${e.message}`));
      return lease;
    };
    this.callbacks = cb;
    this.watchdog = setInterval(() => void this.holds(), Math.max(50, this.ttlMs / 12));
    this.watchdog.unref();

    const attempt = async (): Promise<void> => {
      if (this.closed || this.leader) return;
      try {
        if (!this.lease || this.lease.revoked()) this.lease = freshLease();
        const asked = Date.now();
        const leaseId = await this.lease.grant();
        this.lastRenewal = asked;
        const res = await this.client
          .if(this.key, 'Create', '==', 0)
          .then(this.client.put(this.key).value(value).lease(leaseId))
          .commit();
        if (res.succeeded) {
          this.leader = true;
          this.log.info({ key: this.key, lease: leaseId, ttlMs: this.ttlMs }, 'elected leader through etcd');
          cb.elected();
          return;
        }
        const current = await this.client.get(this.key).string();
        const leaderUrl = current ? (JSON.parse(current) as LeaderInfo).restUrl : undefined;
        if (leaderUrl !== this.leaderRestUrl)
          this.log.info({ leader: leaderUrl }, 'standing by: another JobManager leads');
        this.leaderRestUrl = leaderUrl;
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'cannot reach etcd for the leader election; retrying');
      }
      // Try again when the key goes (watch), or after a while in case the watch missed it.
      this.retryTimer = setTimeout(() => void attempt(), this.ttlMs);
    };
    try {
      this.watcher = await this.client.watch().key(this.key).create();
      this.watcher.on('delete', () => {
        if (this.retryTimer) clearTimeout(this.retryTimer);
        void attempt();
      });
      this.watcher.on('error', (e: Error) =>
        this.log.warn({ err: e.message }, 'etcd watch of the leader key failed; polling instead'),
      );
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'cannot watch the leader key in etcd; polling instead');
    }
    await attempt();
  }

  /**
   * Why this JobManager may not act (a standby, a closed election, a lease lost or not renewed in
   * time), or undefined while it leads. Noticing the lapse here makes it lost at once.
   */
  holds(): string | undefined {
    if (this.lostReason !== undefined) return this.lostReason;
    if (this.closed) return 'it stopped leading';
    if (!this.leader) return 'it is a standby';
    const silent = Date.now() - this.lastRenewal;
    if (silent > (this.ttlMs * 2) / 3)
      this.loseLeadership(`the etcd lease was not renewed for ${silent} ms (lease-ttl ${this.ttlMs} ms)`);
    return this.lostReason;
  }

  private loseLeadership(reason: string): void {
    if (!this.leader || this.closed) return;
    this.leader = false;
    this.lostReason = reason;
    this.log.error({ reason }, 'leadership lost');
    this.callbacks?.lost(reason);
  }

  /** Gives leadership up (a clean shutdown): the key goes with the lease, so a standby takes over at once. */
  async close(): Promise<void> {
    this.closed = true;
    this.leader = false;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.watcher?.cancel().catch(() => undefined);
    await this.lease?.revoke().catch(() => undefined);
    this.client.close();
  }
}
