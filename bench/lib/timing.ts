// Weir throughput from the JobManager's subtask timestamps: records over the time from the moment
// every subtask was RUNNING to the moment the last one FINISHED. Deployment, bundle loading and
// planning are outside that window.
import type { JobDetails } from './rest-types.js';

export interface RunningWindow {
  /** Epoch ms when the first subtask reached RUNNING (a source may start producing from here). */
  firstRunningAt: number;
  /** Epoch ms when the last subtask reached RUNNING. */
  allRunningAt: number;
  /** Epoch ms when the last subtask reached FINISHED. */
  lastFinishedAt: number;
  durationMs: number;
}

export function runningWindow(job: JobDetails): RunningWindow {
  let firstRunningAt = Infinity;
  let allRunningAt = -Infinity;
  let lastFinishedAt = -Infinity;
  for (const v of job.vertices) {
    for (const s of v.subtasks) {
      const running = s.timestamps.RUNNING;
      const finished = s.timestamps.FINISHED;
      if (typeof running !== 'number' || typeof finished !== 'number') {
        throw new Error(
          `subtask ${s.subtask} of '${v.name}' lacks a RUNNING or FINISHED timestamp (status ${s.status})`,
        );
      }
      firstRunningAt = Math.min(firstRunningAt, running);
      allRunningAt = Math.max(allRunningAt, running);
      lastFinishedAt = Math.max(lastFinishedAt, finished);
    }
  }
  if (!Number.isFinite(allRunningAt)) throw new Error(`job ${job.jid} has no subtasks`);
  return { firstRunningAt, allRunningAt, lastFinishedAt, durationMs: lastFinishedAt - allRunningAt };
}
