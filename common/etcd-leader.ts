// Where the leading JobManager publishes its addresses in etcd, and how TaskManagers and the CLI
// find it: one key per cluster, attached to the leader's lease, so it vanishes with the leader.
import { noop } from 'cockatiel';
import { Etcd3, type Watcher } from 'etcd3';

export interface LeaderInfo {
  jobManagerId: string;
  restUrl: string;
  rpcAddress: string;
}

export function leaderKey(clusterId: string): string {
  return `weir/${clusterId}/jobmanager-leader`;
}

export function etcdClient(endpoints: string[]): Etcd3 {
  // No retries inside the client: callers decide (a TaskManager keeps looking, the CLI fails clearly).
  return new Etcd3({ hosts: endpoints, dialTimeout: 3000, faultHandling: { global: noop, host: () => noop } });
}

function parseLeader(text: string | null | undefined): LeaderInfo | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Partial<LeaderInfo>;
    if (typeof v.restUrl === 'string' && typeof v.rpcAddress === 'string' && typeof v.jobManagerId === 'string')
      return v as LeaderInfo;
  } catch {
    // Not ours: treated as no leader.
  }
  return undefined;
}

/** The current leader, once (the CLI). */
export async function currentLeader(endpoints: string[], clusterId: string): Promise<LeaderInfo | undefined> {
  const client = etcdClient(endpoints);
  try {
    return parseLeader(await client.get(leaderKey(clusterId)).string());
  } finally {
    client.close();
  }
}

/**
 * Follows the leader key (a TaskManager): `onChange` hears every new leader, and undefined while
 * there is none. A watch, with a periodic read besides, so a missed event costs at most `pollMs`.
 */
export class LeaderRetriever {
  private readonly client: Etcd3;
  private watcher: Watcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private current: string | undefined;
  private closed = false;

  constructor(
    endpoints: string[],
    private readonly clusterId: string,
    private readonly onChange: (leader: LeaderInfo | undefined) => void,
    private readonly onError: (e: Error) => void,
    private readonly pollMs = 1000,
  ) {
    this.client = etcdClient(endpoints);
  }

  async start(): Promise<void> {
    const key = leaderKey(this.clusterId);
    const read = () =>
      this.client
        .get(key)
        .string()
        .then((v) => this.update(v ?? undefined))
        .catch((e: Error) => this.onError(e));
    this.timer = setInterval(() => void read(), this.pollMs);
    this.timer.unref();
    await read();
    try {
      this.watcher = await this.client.watch().key(key).create();
      this.watcher.on('put', (kv) => this.update(kv.value.toString()));
      this.watcher.on('delete', () => this.update(undefined));
      this.watcher.on('error', (e: Error) => this.onError(e));
    } catch (e) {
      // The periodic read still follows the leader.
      this.onError(e as Error);
    }
  }

  private update(text: string | undefined): void {
    if (this.closed || text === this.current) return;
    this.current = text;
    this.onChange(parseLeader(text));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.watcher?.cancel().catch(() => undefined);
    this.client.close();
  }
}
