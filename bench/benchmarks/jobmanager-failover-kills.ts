// The measured kills of the JobManager failover benchmark, whatever the kind of high availability:
// two TaskManagers of one slot, the recovery job at parallelism 2; each repetition waits until the
// job is steady, kills the leading JobManager and times the recovery on the JobManager that takes
// over (as checkpoint-recovery.ts does for a TaskManager), then reads from the processes' logs
// where the time went.
import type { BenchOptions, PartResult } from '../lib/benchmark.js';
import type { HaCluster } from '../lib/ha-cluster.js';
import type { LeaderView } from '../lib/leader-view.js';
import { describeTimeline, logTimeline, type LogMark } from '../lib/log-timeline.js';
import type { TaskManagerProcess } from '../lib/weir-process.js';
import {
  defaultHeartbeat,
  describeKill,
  measureKill,
  RECOVERY_JOB,
  RECOVERY_JOB_SETTINGS,
  recoveryFigures,
  recoveryJobArgs,
  waitSteady,
  type KillTiming,
} from './checkpoint-recovery.js';

export interface Failover {
  /** Kills the leading JobManager at once (the clock runs from the call) and readies the one that takes over. */
  kill(): Promise<void>;
  /** Log messages that show where the time went after the kill. */
  marks(): LogMark[];
  /** After the recovery was measured: e.g. the killed JobManager starts again as a standby. */
  afterRecovery?(): Promise<void>;
}

export interface FailoverSetup {
  /** Names the figures and log lines. */
  label: string;
  cluster: HaCluster;
  /** Reads the leading JobManager (the kill may move it). */
  view: LeaderView;
  /** How TaskManagers find the JobManager: host:port, or etcd://host:port to follow the leader. */
  taskManagerTarget: string;
  failover(taskManagers: TaskManagerProcess[]): Failover;
  /** The high-availability settings, for the note of the RUNNING figure. */
  note: string;
  details?: Record<string, unknown>;
}

type FailoverKill = KillTiming & {
  /** kill() returned: the JobManager restarted and ready, or the view following the standby. */
  killReturnedMs: number;
  /** Milliseconds after the kill at which the processes logged each mark. */
  timeline: Record<string, number | null>;
};

export async function measureFailovers(options: BenchOptions, setup: FailoverSetup): Promise<PartResult> {
  const { label, cluster, view } = setup;
  const heartbeat = defaultHeartbeat();
  options.log(`${label}: 2 TaskManagers with 1 slot each (${heartbeat.note})`);
  const tms = [
    await cluster.startTaskManager('taskmanager-1', setup.taskManagerTarget, 1),
    await cluster.startTaskManager('taskmanager-2', setup.taskManagerTarget, 1),
  ];
  const failover = setup.failover(tms);
  const startAt = Date.now();
  const jobId = await cluster.submit(view.client, RECOVERY_JOB, recoveryJobArgs(startAt), 2);
  const kills: FailoverKill[] = [];
  let since = startAt;
  for (let r = 0; r < options.repetitions; r++) {
    const steady = await waitSteady(view, jobId, since);
    const killAt = Date.now();
    await failover.kill();
    const killReturnedMs = Date.now() - killAt;
    const timing = await measureKill(view, jobId, killAt, steady);
    const timeline = logTimeline(killAt, failover.marks());
    kills.push({ ...timing, killReturnedMs, timeline });
    options.log(`${label}: kill ${r + 1}: ${describeKill(timing)}; ${describeTimeline(timeline)}`);
    await failover.afterRecovery?.();
    since = killAt;
  }
  await view.cancel(jobId);
  return {
    figures: recoveryFigures(label, kills, `${heartbeat.note}; ${setup.note}`),
    details: {
      ...RECOVERY_JOB_SETTINGS,
      heartbeat: { intervalMs: heartbeat.intervalMs, timeoutMs: heartbeat.timeoutMs },
      ...setup.details,
      jobId,
      kills,
    },
  };
}
