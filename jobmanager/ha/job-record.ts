// What a JobManager with high availability records of every submitted job, so that a new
// JobManager (the same one restarted, or a standby that took over) can run it again with the same
// job id from its latest completed checkpoint (Flink's JobGraphStore and JobResultStore in one).
import type { JobStatus } from '../../common/states.js';
import type { CheckpointStatsState } from '../checkpoint/checkpoint-stats.js';
import type { ExceptionEntry } from '../execution-graph.js';

export const JOB_RECORD_VERSION = 1;

export interface SubmittedJobRecord {
  version: typeof JOB_RECORD_VERSION;
  jobId: string;
  jobName: string;
  /** The uploaded bundle's file name and content hash; the bundle itself is kept beside the records. */
  jarName: string;
  bundleId: string;
  programArgs: string[];
  /** The parallelism the run asked for (the job's own default otherwise). */
  parallelism?: number;
  /** The savepoint the job was first started from, for a recovery before its first checkpoint. */
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  /** The job's own settings (RunRequest.config). */
  config?: Record<string, string>;
  startTime: number;
  status: JobStatus;
  /** Kept so that the REST API shows the same failures and checkpoint statistics after a takeover. */
  exceptionHistory: ExceptionEntry[];
  checkpointStats?: CheckpointStatsState;
  updatedAt: number;
}

/** Checks a record read back from storage; returns why it is unusable, or undefined. */
export function invalidRecord(r: unknown, jobId: string): string | undefined {
  if (!r || typeof r !== 'object') return 'not a JSON object';
  const o = r as Partial<SubmittedJobRecord>;
  if (o.version !== JOB_RECORD_VERSION) return `unknown record version ${String(o.version)}`;
  if (o.jobId !== jobId) return `names job ${String(o.jobId)}, not ${jobId}`;
  if (typeof o.bundleId !== 'string' || !/^[0-9a-f]{64}$/.test(o.bundleId)) return 'no valid bundle id';
  if (!Array.isArray(o.programArgs) || !o.programArgs.every((a) => typeof a === 'string'))
    return 'program arguments are not a list of strings';
  if (typeof o.status !== 'string') return 'no job status';
  if (typeof o.startTime !== 'number') return 'no start time';
  if (
    o.config !== undefined &&
    (typeof o.config !== 'object' || o.config === null || !Object.values(o.config).every((v) => typeof v === 'string'))
  )
    return 'job configuration is not a map of strings';
  if (o.parallelism !== undefined && !(Number.isInteger(o.parallelism) && o.parallelism > 0))
    return `invalid parallelism ${String(o.parallelism)}`;
  return undefined;
}
