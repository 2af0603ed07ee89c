// The JobManager's high-availability services: where submitted jobs are recorded, and who may act
// on them. `file`: one JobManager owns the storage directory (a lock file) and resumes its jobs when
// started again. `etcd` adds leader election on top (see etcd-leader-election.ts).
import type { Configuration } from '../../common/config.js';
import type { Logger } from '../../common/logging.js';
import type { AlertNotifier } from '../alerts.js';
import type { Dispatcher } from '../dispatcher.js';
import { FileJobStore } from './file-job-store.js';
import { highAvailabilitySettings, type HighAvailabilityType } from './ha-settings.js';
import { JobRecorder } from './job-recorder.js';
import { installLeadershipFence } from './leadership-fence.js';
import { recoverJobs } from './job-recovery.js';
import { StorageLock } from './storage-lock.js';
import type { LeaderInfo } from '../../common/etcd-leader.js';

export interface LeadershipContext {
  leader: LeaderInfo;
  alerts: AlertNotifier;
  /** The leader lost its lease: it must stop acting at once (the JobManager exits). */
  onLeadershipLost(reason: string): void;
}

export interface HighAvailabilityServices {
  type: HighAvailabilityType;
  store: FileJobStore;
  /**
   * Runs every job the storage records as not ended: at once with `file`, once elected with `etcd`
   * (this returns when the campaign is under way; a standby waits in the background).
   */
  lead(ctx: LeadershipContext): Promise<void>;
  /** False on a standby, which serves no requests. */
  isLeader(): boolean;
  leaderRestUrl(): string | undefined;
  close(): Promise<void>;
}

export async function startHighAvailability(
  conf: Configuration,
  dispatcher: Dispatcher,
  log: Logger,
): Promise<HighAvailabilityServices | undefined> {
  const settings = highAvailabilitySettings(conf);
  if (!settings) return undefined;
  const store = new FileJobStore(settings.dir, log);
  await store.open();
  const lock = settings.type === 'file' ? new StorageLock(settings.dir) : undefined;
  await lock?.acquire();
  const recorder = new JobRecorder(store, log);
  dispatcher.useJobRecorder(recorder);
  // etcd's client (and its gRPC stack) loads only when the cluster elects its leader there.
  const election =
    settings.type === 'etcd'
      ? new (await import('./etcd-leader-election.js')).EtcdLeaderElection(
          settings.etcdEndpoints,
          settings.clusterId,
          settings.leaseTtlMs,
          log,
        )
      : undefined;
  // With etcd, another JobManager may lead: effects outside the process ask the lease first.
  const removeFence = election ? installLeadershipFence(() => election.holds()) : undefined;
  log.info(
    {
      type: settings.type,
      storageDir: settings.dir,
      ...(election ? { etcd: settings.etcdEndpoints, leaseTtlMs: settings.leaseTtlMs } : {}),
    },
    'high availability: submitted jobs are recorded and recovered',
  );
  const recover = async (ctx: LeadershipContext) => {
    const started = Date.now();
    const r = await recoverJobs(store, dispatcher, ctx.alerts, log, ctx.leader.restUrl);
    if (r.recovered.length || r.failed.length)
      log.info(
        { recovered: r.recovered, failed: r.failed, ms: Date.now() - started },
        'jobs of the previous JobManager taken over',
      );
  };
  return {
    type: settings.type,
    store,
    async lead(ctx) {
      if (!election) return recover(ctx);
      await election.campaign(ctx.leader, {
        elected: () =>
          void recover(ctx).catch((e: Error) => log.error({ err: e.message }, 'recovering the jobs failed')),
        lost: (reason) => ctx.onLeadershipLost(reason),
      });
    },
    isLeader: () => !election || election.holds() === undefined,
    leaderRestUrl: () => election?.leaderRestUrl,
    async close() {
      await recorder.close();
      await election?.close();
      removeFence?.();
      await lock?.release();
    },
  };
}
