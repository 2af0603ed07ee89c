// Keeps the high-availability record of every job this JobManager runs up to date: written
// durably before the job starts (and before its id is returned), again on every status change,
// and at most once per flush interval when its exception history or checkpoint statistics moved.
import type { Logger } from '../../common/logging.js';
import type { JobMaster } from '../job-master.js';
import type { FileJobStore } from './file-job-store.js';
import { JOB_RECORD_VERSION, type SubmittedJobRecord } from './job-record.js';
import { LeadershipLostError } from './leadership-fence.js';

export type JobSubmission = Pick<
  SubmittedJobRecord,
  | 'jobId'
  | 'jobName'
  | 'jarName'
  | 'bundleId'
  | 'programArgs'
  | 'parallelism'
  | 'savepointPath'
  | 'allowNonRestoredState'
  | 'config'
>;

interface Tracked {
  jm: JobMaster;
  submission: JobSubmission;
  /** The last record written, without its timestamp, to skip writes that change nothing. */
  last: string;
}

export class JobRecorder {
  private readonly tracked = new Map<string, Tracked>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly store: FileJobStore,
    private readonly log: Logger,
    flushIntervalMs = 1000,
  ) {
    this.timer = setInterval(() => {
      for (const id of this.tracked.keys()) void this.flush(id);
    }, flushIntervalMs);
    this.timer.unref();
  }

  /** Records a job about to start, with its bundle; throws when the storage cannot take it. */
  async submit(jm: JobMaster, submission: JobSubmission, bundleFile: string): Promise<void> {
    await this.store.putBundle(submission.bundleId, bundleFile);
    const t: Tracked = { jm, submission, last: '' };
    const record = this.recordOf(t);
    await this.store.put(record);
    t.last = comparable(record);
    this.tracked.set(submission.jobId, t);
    jm.on('statusChanged', () => void this.flush(submission.jobId));
  }

  /** The job ended and is archived: it must never be recovered. */
  async ended(jobId: string): Promise<void> {
    if (this.closed) return;
    this.tracked.delete(jobId);
    await this.store
      .remove(jobId)
      .catch((e: Error) =>
        this.log.error(
          { jobId, err: e.message },
          'cannot remove the ended job from the high-availability storage; a new JobManager will see it ended and drop it',
        ),
      );
  }

  /**
   * Stops recording: the JobManager shuts down and its jobs are suspended, not ended, so the records
   * stay as they are for the next JobManager (Flink's SUSPENDED).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.tracked.keys()].map((id) => this.flush(id)));
    this.closed = true;
    clearInterval(this.timer);
  }

  private flush(jobId: string): Promise<void> {
    const t = this.tracked.get(jobId);
    if (!t || this.closed) return Promise.resolve();
    const record = this.recordOf(t);
    const text = comparable(record);
    if (text === t.last) return Promise.resolve();
    t.last = text;
    return this.store.put(record).catch((e: Error) => {
      t.last = '';
      // A JobManager fenced off is on its way out; the new leader keeps the record.
      if (e instanceof LeadershipLostError) this.log.info({ jobId, err: e.message }, 'job record not updated');
      else this.log.error({ jobId, err: e.message }, 'cannot update the job record in the high-availability storage');
    });
  }

  private recordOf(t: Tracked): SubmittedJobRecord {
    const { jm, submission } = t;
    return {
      version: JOB_RECORD_VERSION,
      ...submission,
      startTime: jm.graph.startTime,
      status: jm.status,
      exceptionHistory: [...jm.graph.exceptionHistory],
      checkpointStats: jm.checkpointing.coordinator.exportStats(),
      updatedAt: Date.now(),
    };
  }
}

function comparable(r: SubmittedJobRecord): string {
  return JSON.stringify({ ...r, updatedAt: 0 });
}
