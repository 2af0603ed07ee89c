// The TaskManager's way to its JobManager: a fixed address (host:port), or the leader that etcd
// names (etcd://host:2379,...), followed as leadership moves from one JobManager to another.
import type * as grpc from '@grpc/grpc-js';
import { jobManagerClient } from '../common/control.js';
import type { LeaderInfo, LeaderRetriever } from '../common/etcd-leader.js';
import { parseEtcdUrl } from '../common/etcd-url.js';
import type { Logger } from '../common/logging.js';
import type { InternalSecurity } from '../common/security/internal-security.js';

export class JobManagerConnection {
  private retriever: LeaderRetriever | undefined;
  private leaderId = '';

  private constructor(
    public client: grpc.Client,
    public address: string,
    private readonly security: InternalSecurity,
  ) {}

  /**
   * Connects to `target`. With etcd it waits for a leader; `onNewLeader` hears of each later one
   * (the TaskManager then drops its tasks and registers there).
   */
  static async open(
    target: string,
    clusterId: string,
    security: InternalSecurity,
    log: Logger,
    onNewLeader: (why: string) => void,
  ): Promise<JobManagerConnection> {
    const etcd = parseEtcdUrl(target);
    if (!etcd) return new JobManagerConnection(jobManagerClient(target, security), target, security);
    const endpoints = etcd.endpoints;
    clusterId = etcd.clusterId ?? clusterId;
    let first: (leader: LeaderInfo) => void = () => undefined;
    const elected = new Promise<LeaderInfo>((resolve) => (first = resolve));
    let conn: JobManagerConnection | undefined;
    let lastError = '';
    // etcd's client (and its gRPC stack) loads only for an etcd:// JobManager address.
    const { LeaderRetriever } = await import('../common/etcd-leader.js');
    const retriever = new LeaderRetriever(
      endpoints,
      clusterId,
      (leader) => {
        if (!leader) {
          log.warn({ etcd: endpoints }, 'no JobManager leads at the moment; waiting for one');
          return;
        }
        if (!conn) return first(leader);
        if (leader.jobManagerId === conn.leaderId && leader.rpcAddress === conn.address) return;
        log.info({ jobManager: leader.rpcAddress, restUrl: leader.restUrl }, 'a new JobManager leads');
        conn.switchTo(leader);
        onNewLeader(`a new JobManager leads (${leader.restUrl})`);
      },
      (e) => {
        // Logged once per distinct error, not on every poll.
        if (e.message === lastError) return;
        lastError = e.message;
        log.warn({ etcd: endpoints, err: e.message }, 'cannot read the JobManager leader from etcd; retrying');
      },
    );
    await retriever.start();
    log.info({ etcd: endpoints, clusterId }, 'looking up the leading JobManager in etcd');
    const leader = await elected;
    conn = new JobManagerConnection(jobManagerClient(leader.rpcAddress, security), leader.rpcAddress, security);
    conn.leaderId = leader.jobManagerId;
    conn.retriever = retriever;
    return conn;
  }

  private switchTo(leader: LeaderInfo): void {
    const old = this.client;
    this.client = jobManagerClient(leader.rpcAddress, this.security);
    this.address = leader.rpcAddress;
    this.leaderId = leader.jobManagerId;
    old.close();
  }

  async close(): Promise<void> {
    this.client.close();
    await this.retriever?.close();
  }
}
