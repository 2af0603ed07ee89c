// Alerts when a job fails: one JSON line at level error in the JobManager's log for every change to
// FAILING, FAILED or RESTARTING, and, when a webhook is configured (alerts.webhook.url or
// WEIR_ALERT_WEBHOOK), the same JSON POSTed to it with a timeout and retries. Delivery never
// blocks or fails the job. Checkpoints that cannot be written (a full or read-only checkpoint
// directory) raise a `checkpoint-storage` alert the same way, once until a checkpoint completes.
// A deployment whose upgrade is rolled back, or that cannot run at all, raises a `deployment-alert`.
import type { Logger } from '../common/logging.js';
import type { JobStatus } from '../common/states.js';
import { leadershipLostReason } from './ha/leadership-fence.js';

export const ALERT_STATES: ReadonlySet<JobStatus> = new Set<JobStatus>(['FAILING', 'FAILED', 'RESTARTING']);

export interface JobAlert {
  type: 'job-alert';
  jobId: string;
  jobName: string;
  state: JobStatus;
  cause: string | null;
  timestamp: number;
  /** Where to look: the JobManager's REST address. */
  jobManager: string;
}

/** Checkpoints of a running job fail because their directory cannot be written; the job keeps running. */
export interface CheckpointStorageAlert {
  type: 'checkpoint-storage';
  jobId: string;
  jobName: string;
  /** The directory that could not be written. */
  directory: string;
  /** The errno code: ENOSPC, EDQUOT, EROFS, EACCES, EPERM or ENOTDIR. */
  error: string;
  cause: string;
  checkpointId: number;
  timestamp: number;
  jobManager: string;
}

/**
 * A deployment (weir apply) did not reach its spec: the new version failed and the previous one runs
 * again (ROLLED_BACK), or nothing could be made to run (FAILED).
 */
export interface DeploymentAlert {
  type: 'deployment-alert';
  deployment: string;
  status: 'ROLLED_BACK' | 'FAILED';
  cause: string;
  /** The version that failed, and the version that runs now (null: none runs). */
  fromVersion: number;
  toVersion: number | null;
  /** The job that failed (null: it never started), and the job of the version that runs now. */
  jobId: string | null;
  rollbackJobId: string | null;
  timestamp: number;
  jobManager: string;
}

export type Alert = JobAlert | CheckpointStorageAlert | DeploymentAlert;

export interface AlertOptions {
  webhookUrl?: string;
  timeoutMs?: number;
  retries?: number;
  /** First retry delay; doubled for each further retry. */
  backoffMs?: number;
}

export class AlertNotifier {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly log: Logger,
    private readonly opts: AlertOptions,
  ) {}

  notify(alert: Alert): void {
    // What a JobManager that lost its lease still sees of its jobs is not what runs: it stays quiet.
    const fenced = leadershipLostReason();
    if (fenced !== undefined) {
      this.log.info({ alert, fenced }, 'alert not sent: this JobManager no longer leads');
      return;
    }
    this.log.error({ alert }, describe(alert));
    if (!this.opts.webhookUrl) return;
    const p = this.deliver(alert).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async deliver(alert: Alert): Promise<void> {
    const url = this.opts.webhookUrl!;
    const retries = this.opts.retries ?? 3;
    let delay = this.opts.backoffMs ?? 500;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(alert),
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
        });
        if (res.ok) return;
        throw new Error(`HTTP ${res.status}`);
      } catch (e) {
        if (attempt === retries) {
          this.log.warn(
            { webhook: url, jobId: alert.jobId, alertType: alert.type, err: (e as Error).message },
            'alert webhook unreachable; alert dropped after retries',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, delay).unref());
        delay *= 2;
      }
    }
  }

  /** Waits (bounded) for deliveries still under way, so a shutdown does not cut them off. */
  async drain(timeoutMs: number): Promise<void> {
    await Promise.race([Promise.all(this.inFlight), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }
}

function describe(alert: Alert): string {
  if (alert.type === 'deployment-alert') {
    const now =
      alert.toVersion === null
        ? 'no version runs'
        : `version ${alert.toVersion} runs again${alert.rollbackJobId ? ` as job ${alert.rollbackJobId}` : ''}`;
    return `deployment ${alert.deployment} ${alert.status}: version ${alert.fromVersion} failed (${firstLine(alert.cause)}); ${now}`;
  }
  if (alert.type === 'checkpoint-storage') {
    return `checkpoints of ${alert.jobName} (${alert.jobId}) cannot be written to ${alert.directory} (${alert.error}); the job keeps running and checkpoints resume once the directory is writable`;
  }
  return `job ${alert.state}: ${alert.jobName} (${alert.jobId})${alert.cause ? `: ${firstLine(alert.cause)}` : ''}`;
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}
