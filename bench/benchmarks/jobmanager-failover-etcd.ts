// Part 2 of `jobmanager-failover`: `high-availability.type: etcd`. etcd (Debian's binary) on free
// ports, two JobManagers (a leader and a standby, both running), TaskManagers that follow the
// leader through etcd://. Once the job is steady the leader gets SIGKILL; the recovery is timed on
// the standby that takes over. The killed JobManager then starts again as the next standby.
import { Configuration } from '../../common/config.js';
import type { BenchOptions, PartResult } from '../lib/benchmark.js';
import { stopOnExit } from '../lib/cleanup.js';
import { startEtcd } from '../lib/etcd-server.js';
import { HaCluster } from '../lib/ha-cluster.js';
import { LeaderView } from '../lib/leader-view.js';
import type { JobManagerProcess } from '../lib/weir-process.js';
import { measureFailovers } from './jobmanager-failover-kills.js';

const REFERENCE =
  "reference, not measured (no Flink here): Flink's Kubernetes HA defaults (lease duration 15 s, renew deadline 15 s, retry period 5 s) and ZooKeeper HA (session timeout 60 s) bound its takeover; aim < 5 s";

/** [leader, standby] of two JobManagers just started: the one that answers REST leads. */
async function leaderFirst(
  a: JobManagerProcess,
  b: JobManagerProcess,
): Promise<[JobManagerProcess, JobManagerProcess]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await LeaderView.leads(a.ready.restUrl)) return [a, b];
    if (await LeaderView.leads(b.ready.restUrl)) return [b, a];
    if (Date.now() > deadline) throw new Error('neither JobManager was elected leader within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function measureEtcdFailover(options: BenchOptions): Promise<PartResult> {
  const leaseTtlMs = new Configuration().getDuration('high-availability.etcd.lease-ttl');
  const etcd = await startEtcd({ keepDir: !!process.env.WEIR_BENCH_KEEP_DIRS });
  const unregisterEtcd = stopOnExit(() => etcd.stop());
  const cluster = new HaCluster('etcd', { 'high-availability.etcd.endpoints': etcd.endpoint });
  try {
    let [leader, standby] = await leaderFirst(
      await cluster.startJobManager('jobmanager-a'),
      await cluster.startJobManager('jobmanager-b'),
    );
    const view = new LeaderView(leader.ready.restUrl);
    return await measureFailovers(options, {
      label: 'JobManager failover (etcd HA)',
      cluster,
      view,
      taskManagerTarget: etcd.endpoint.replace(/^http:/, 'etcd:'),
      failover: (tms) => ({
        kill: async () => {
          await cluster.kill(leader);
          view.follow(standby.ready.restUrl);
        },
        marks: () => [
          { label: 'standby elected', files: [standby.outFile], msg: 'elected leader through etcd' },
          {
            label: 'first TaskManager saw the new leader',
            files: tms.map((t) => t.outFile),
            msg: 'a new JobManager leads',
          },
          {
            label: 'both TaskManagers registered',
            files: tms.map((t) => t.outFile),
            msg: 'TaskManager registered',
            which: 'last',
          },
          { label: 'job recovered', files: [standby.outFile], msg: 'job recovered from the high-availability storage' },
        ],
        afterRecovery: async () => {
          // The same name: the same working directory, and its .out file continues.
          const again = await cluster.startJobManager(leader.name);
          if (await LeaderView.leads(again.ready.restUrl))
            throw new Error(`${leader.name}, started again, leads instead of standing by`);
          [leader, standby] = [standby, again];
        },
      }),
      note: `standby already running; high-availability.etcd.lease-ttl ${leaseTtlMs / 1000} s (default); ${REFERENCE}`,
      details: { leaseTtlMs },
    });
  } finally {
    await cluster.stop();
    unregisterEtcd();
    await etcd.stop();
  }
}
