// The REST API of the JobManager that leads (or is about to), for benchmarks that kill
// JobManagers: while it is down, still a standby (503), or has not yet taken the job over (404),
// reads wait for it rather than fail.
import { CliError } from '../../cli/errors.js';
import { normalizeJobManagerUrl, RestClient, RestError } from '../../cli/rest-client.js';
import type { CheckpointingStatistics, JobDetails } from './rest-types.js';

const RETRY_MS = 100;
const TERMINAL = new Set(['FINISHED', 'FAILED', 'CANCELED']);

function unavailable(e: unknown): boolean {
  // A CliError that is not a RestError: the JobManager could not be reached.
  if (e instanceof RestError) return e.status === 503 || e.status === 404;
  return e instanceof CliError;
}

export class LeaderView {
  readonly client: RestClient;

  constructor(
    restUrl: string,
    private readonly timeoutMs = 90_000,
  ) {
    this.client = new RestClient(restUrl);
  }

  /** From now on, reads go to the JobManager at `restUrl`. */
  follow(restUrl: string): void {
    this.client.baseUrl = normalizeJobManagerUrl(restUrl);
  }

  job(jobId: string): Promise<JobDetails> {
    return this.get<JobDetails>(`/jobs/${jobId}`);
  }

  checkpoints(jobId: string): Promise<CheckpointingStatistics> {
    return this.get<CheckpointingStatistics>(`/jobs/${jobId}/checkpoints`);
  }

  /** Cancels a running job and waits until it ended. */
  async cancel(jobId: string, timeoutMs = 60_000): Promise<void> {
    await this.client.patch(`/jobs/${jobId}?mode=cancel`);
    const deadline = Date.now() + timeoutMs;
    while (!TERMINAL.has((await this.job(jobId)).state)) {
      if (Date.now() > deadline) throw new Error(`job ${jobId} was not canceled within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  /** Whether the JobManager at `restUrl` leads (a standby answers 503). */
  static async leads(restUrl: string): Promise<boolean> {
    try {
      await new RestClient(restUrl).get('/overview', { timeoutMs: 5_000 });
      return true;
    } catch (e) {
      if (e instanceof RestError && e.status === 503) return false;
      throw e;
    }
  }

  private async get<T>(path: string): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      try {
        return await this.client.get<T>(path, { timeoutMs: 5_000 });
      } catch (e) {
        if (!unavailable(e) || Date.now() > deadline) throw e;
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}
