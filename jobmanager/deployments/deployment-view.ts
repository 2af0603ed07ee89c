// The REST shapes of deployments (GET /deployments, GET /deployments/:name): the record with what
// is live now (its job's state, and every historic job's), and the desired spec beside the one that runs.
import type { DeploymentRecord, LifecycleState, SavepointInfo, VersionEntry } from './deployment-record.js';
import type { JobControl } from './job-control.js';

/** An upgrade or rollback that no process is carrying out any more was interrupted by a JobManager stop. */
export function effectiveStatus(record: DeploymentRecord, busy: boolean): { status: LifecycleState; cause?: string } {
  if ((record.status === 'UPGRADING' || record.status === 'ROLLING_BACK') && !busy) {
    return {
      status: 'FAILED',
      cause: `interrupted: the JobManager stopped while ${record.status === 'UPGRADING' ? 'upgrading' : 'rolling back'} the deployment; apply it again`,
    };
  }
  return { status: record.status, ...(record.cause ? { cause: record.cause } : {}) };
}

/** GET /deployments: one of these per deployment (the CLI's `weir get` reads it too). */
export interface DeploymentSummary {
  name: string;
  status: LifecycleState;
  cause?: string;
  state: string;
  upgradeMode: string;
  jobId: string | null;
  jobState: string | null;
  bundleHash: string;
  bundleName: string;
  parallelism: number | null;
  runningParallelism: number | null;
  version: number;
  runningVersion: number | null;
  lastSavepoint: SavepointInfo | null;
  createdAt: number;
  updatedAt: number;
}

/** GET /deployments/:name. */
export interface DeploymentDetails extends DeploymentSummary {
  spec: DeploymentRecord['spec'];
  running: DeploymentRecord['running'] | null;
  history: (VersionEntry & { jobState: string | null })[];
}

export function deploymentSummary(record: DeploymentRecord, control: JobControl, busy: boolean): DeploymentSummary {
  const { status, cause } = effectiveStatus(record, busy);
  const running = record.running?.spec;
  return {
    name: record.name,
    status,
    ...(cause ? { cause } : {}),
    state: record.spec.state,
    upgradeMode: record.spec.upgradeMode,
    jobId: record.jobId ?? null,
    jobState: control.state(record.jobId) ?? null,
    bundleHash: record.spec.bundleHash,
    bundleName: record.spec.bundleName,
    parallelism: record.spec.parallelism ?? null,
    runningParallelism: running ? (running.parallelism ?? null) : null,
    version: record.specVersion,
    runningVersion: record.running?.version ?? null,
    lastSavepoint: record.lastSavepoint ?? null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function deploymentDetails(record: DeploymentRecord, control: JobControl, busy: boolean): DeploymentDetails {
  return {
    ...deploymentSummary(record, control, busy),
    spec: record.spec,
    running: record.running ?? null,
    history: record.history.map((v) => ({ ...v, jobState: control.state(v.jobId) ?? null })),
  };
}
