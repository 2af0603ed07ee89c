// Flink's JobClient: a handle on a job started with executeAsync().
import type { JobExecutionResult } from './job-execution-result.js';

export interface JobClient {
  getJobID(): string;
  /** Flink's job states: RUNNING, RESTARTING, FINISHED, FAILED, CANCELED, ... */
  getJobStatus(): Promise<string>;
  /** Cancels the job; resolves once it has ended. */
  cancel(): Promise<void>;
  /** Resolves when the job finished; rejects with a JobExecutionException when it failed or was canceled. */
  getJobExecutionResult(): Promise<JobExecutionResult>;
}
