// Ended jobs, kept in the JobManager's store (LevelDB through `level`) so that their details,
// exceptions and plan are still there after a JobManager restart.
import { Level } from 'level';
import type { Logger } from '../common/logging.js';

/** The REST views of an ended job, as they were when it ended. */
export interface ArchivedJob {
  jid: string;
  overview: Record<string, unknown>;
  details: Record<string, unknown>;
  exceptions: Record<string, unknown>;
  plan: Record<string, unknown>;
  /** GET /jobs/:jobid/checkpoints and /checkpoints/config as they were when the job ended (config absent: no checkpointing). */
  checkpoints?: unknown;
  checkpointConfig?: unknown;
}

export class JobArchive {
  private readonly db: Level<string, ArchivedJob>;
  private readonly jobs = new Map<string, ArchivedJob>();
  private readonly writes = new Set<Promise<void>>();

  constructor(
    path: string,
    private readonly log: Logger,
  ) {
    this.db = new Level<string, ArchivedJob>(path, { valueEncoding: 'json' });
  }

  async open(): Promise<void> {
    await this.db.open();
    for await (const [key, value] of this.db.iterator()) {
      if (value && typeof value === 'object' && value.jid === key) this.jobs.set(key, value);
    }
    if (this.jobs.size) this.log.info({ jobs: this.jobs.size }, 'ended jobs restored from the store');
  }

  get(jobId: string): ArchivedJob | undefined {
    return this.jobs.get(jobId);
  }

  list(): ArchivedJob[] {
    return [...this.jobs.values()];
  }

  put(job: ArchivedJob): Promise<void> {
    this.jobs.set(job.jid, job);
    const w = this.db.put(job.jid, job).catch((e: unknown) => {
      // The job's record stays in memory; only its survival across a restart is lost.
      this.log.error({ err: e, jobId: job.jid }, 'cannot write the ended job to the store');
    });
    this.writes.add(w);
    void w.finally(() => this.writes.delete(w));
    return w;
  }

  async close(): Promise<void> {
    await Promise.all(this.writes);
    await this.db.close();
  }
}
