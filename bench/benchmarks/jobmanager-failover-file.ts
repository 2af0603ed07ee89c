// Part 1 of `jobmanager-failover`: `high-availability.type: file`. One JobManager on fixed REST and
// RPC ports; once the job is steady it gets SIGKILL and is started again at once (same ports, same
// working directory, same configuration), as a supervisor would; the TaskManagers find it where the
// old one was.
import type { BenchOptions, PartResult } from '../lib/benchmark.js';
import { HaCluster } from '../lib/ha-cluster.js';
import { LeaderView } from '../lib/leader-view.js';
import { freePorts } from '../lib/ports.js';
import { measureFailovers } from './jobmanager-failover-kills.js';

export async function measureFileFailover(options: BenchOptions): Promise<PartResult> {
  const cluster = new HaCluster('file');
  try {
    const [restPort, rpcPort] = await freePorts(2);
    const start = () => cluster.startJobManager('jobmanager', restPort, rpcPort);
    let jm = await start();
    return await measureFailovers(options, {
      label: 'JobManager failover (file HA)',
      cluster,
      view: new LeaderView(jm.ready.restUrl),
      taskManagerTarget: jm.ready.rpcAddress,
      failover: (tms) => ({
        kill: async () => {
          await cluster.kill(jm);
          jm = await start();
        },
        marks: () => [
          // The old JobManager's lines are older than the kill: the first one after it is the new process's.
          { label: 'new JobManager logging', files: [jm.outFile], msg: '' },
          { label: 'JobManager started', files: [jm.outFile], msg: 'JobManager started' },
          { label: 'job recovered', files: [jm.outFile], msg: 'job recovered from the high-availability storage' },
          {
            label: 'first TaskManager dropped its tasks',
            files: tms.map((t) => t.outFile),
            msg: 'lost the JobManager',
          },
          {
            label: 'both TaskManagers registered',
            files: tms.map((t) => t.outFile),
            msg: 'TaskManager registered',
            which: 'last',
          },
        ],
      }),
      note: 'JobManager restarted at once (same ports, directory, configuration)',
    });
  } finally {
    await cluster.stop();
  }
}
