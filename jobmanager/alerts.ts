// Alerts when a job fails: one JSON line at level error in the JobManager's log for every change to
// FAILING, FAILED or RESTARTING, and, when a webhook is configured (alerts.webhook.url or
// WEIR_ALERT_WEBHOOK), the same JSON POSTed to it with a timeout and retries. Delivery never
// blocks or fails the job.
import type { Logger } from '../common/logging.js';
import type { JobStatus } from '../common/states.js';

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

  notify(alert: JobAlert): void {
    this.log.error({ alert }, `job ${alert.state}: ${alert.jobName} (${alert.jobId})${alert.cause ? `: ${firstLine(alert.cause)}` : ''}`);
    if (!this.opts.webhookUrl) return;
    const p = this.deliver(alert).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async deliver(alert: JobAlert): Promise<void> {
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
          this.log.warn({ webhook: url, jobId: alert.jobId, state: alert.state, err: (e as Error).message }, 'alert webhook unreachable; alert dropped after retries');
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

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}
