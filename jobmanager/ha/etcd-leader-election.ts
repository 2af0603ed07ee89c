// Leader election of JobManagers through etcd: the leader holds the cluster's leader key, created
// in a transaction only when absent and attached to its lease; standbys watch the key and try
// again when it goes. Fencing: the leader counts the lease as lost as soon as renewals have failed
// for two thirds of its time-to-live, before etcd could expire it and let a standby in, and then
// stops acting at once.
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
  private lastRenewal = 0;
  private leader = false;
  private closed = false;

  constructor(
    endpoints: string[],
    clusterId: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    this.client = etcdClient(endpoints);
    this.key = leaderKey(clusterId);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** The leader's REST address as last read from etcd (for a standby's answers). */
  leaderRestUrl: string | undefined;

  /** Campaigns until elected (retrying while etcd is unreachable); returns once the campaign runs. */
  async campaign(info: LeaderInfo, cb: LeadershipCallbacks): Promise<void> {
    const value = JSON.stringify(info);
    // A standby whose lease lapsed (etcd was away) campaigns again with a new one.
    const freshLease = (): Lease => {
      const lease = this.client.lease(this.ttlMs / 1000, { autoKeepAlive: true });
      lease.on('keepaliveSucceeded', () => {
        this.lastRenewal = Date.now();
      });
      lease.on('lost', (e: Error) => this.loseLeadership(`the etcd lease was lost: ${e.message}`, cb));
      return lease;
    };
    this.watchdog = setInterval(
      () => {
        const silent = Date.now() - this.lastRenewal;
        if (this.leader && silent > (this.ttlMs * 2) / 3)
          this.loseLeadership(`the etcd lease was not renewed for ${silent} ms (lease-ttl ${this.ttlMs} ms)`, cb);
      },
      Math.max(50, this.ttlMs / 12),
    );
    this.watchdog.unref();

    const attempt = async (): Promise<void> => {
      if (this.closed || this.leader) return;
      try {
        if (!this.lease || this.lease.revoked()) this.lease = freshLease();
        const leaseId = await this.lease.grant();
        this.lastRenewal = Date.now();
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

  private loseLeadership(reason: string, cb: LeadershipCallbacks): void {
    if (!this.leader || this.closed) return;
    this.leader = false;
    this.log.error({ reason }, 'leadership lost');
    cb.lost(reason);
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
