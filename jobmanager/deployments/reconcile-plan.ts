// The reconciler's decision, with no side effects (so that ?dryRun=true answers exactly what an
// apply would do): compare the desired spec with what the JobManager records and pick the least
// action that reaches it, as the Flink Kubernetes operator does.
import { diffSpecs, isJobChange, type FieldChange } from '../../common/deployment-diff.js';
import type { DeploymentSpec } from '../../common/deployment-spec.js';
import type { DeploymentRecord } from './deployment-record.js';

export type PlannedAction =
  'create' | 'unchanged' | 'update' | 'upgrade' | 'restart' | 'suspend' | 'resume' | 'savepoint';

export interface Plan {
  action: PlannedAction;
  /** Against the spec last applied. */
  changes: FieldChange[];
  /** Against the spec the job runs: what makes a new job necessary. */
  jobChanges: FieldChange[];
  /** A changed savepointNonce asks for a savepoint besides whatever else happens. */
  savepointRequested: boolean;
  /** Why nothing (or only little) happens, for the answer. */
  note?: string;
}

export interface Observed {
  record: DeploymentRecord | undefined;
  /** The deployment's current job has not ended. */
  jobLive: boolean;
  jobState?: string;
  /** An upgrade or rollback of an earlier JobManager process never finished. */
  interrupted: boolean;
}

export function planReconcile(observed: Observed, desired: DeploymentSpec): Plan {
  const { record, jobLive } = observed;
  if (!record)
    return { action: 'create', changes: diffSpecs(undefined, desired), jobChanges: [], savepointRequested: false };
  const changes = diffSpecs(record.spec, desired);
  const running = record.running?.spec ?? record.spec;
  const jobChanges = diffSpecs(running, desired).filter(isJobChange);
  const savepointRequested = desired.savepointNonce !== record.spec.savepointNonce;
  // The last apply did not reach its spec: the same spec applied again tries again.
  const failed = record.status === 'FAILED' || observed.interrupted;
  const base = { changes, jobChanges, savepointRequested };
  const ended = !jobLive && record.jobId ? `job ${record.jobId} is ${observed.jobState ?? 'gone'}` : undefined;

  if (changes.length === 0 && !failed) {
    if (record.status === 'ROLLED_BACK')
      return {
        action: 'unchanged',
        ...base,
        note: `this spec was rolled back (${record.cause ?? 'its job failed'}); change the spec to try again`,
      };
    if (desired.state === 'running' && ended)
      return { action: 'unchanged', ...base, note: `${ended}; change restartNonce to run it again` };
    return { action: 'unchanged', ...base };
  }
  if (desired.state === 'suspended') {
    if (record.status === 'SUSPENDED' || (!jobLive && !failed))
      return { action: changes.length ? 'update' : 'unchanged', ...base };
    return { action: 'suspend', ...base };
  }
  if (record.status === 'SUSPENDED') return { action: 'resume', ...base };
  if (jobChanges.length) return { action: 'upgrade', ...base };
  if (desired.restartNonce !== record.spec.restartNonce) return { action: 'restart', ...base };
  if (failed && !jobLive) return { action: 'restart', ...base, note: 'the last apply left no job running' };
  if (savepointRequested) return { action: 'savepoint', ...base };
  return { action: 'update', ...base, ...(ended ? { note: ended } : {}) };
}
