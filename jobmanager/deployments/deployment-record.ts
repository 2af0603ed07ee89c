// What the JobManager records of one deployment (one JSON file each): the spec last applied, the
// spec its current job runs (they differ after a rollback), its lifecycle state, and the history of
// its versions.
import type { FieldChange } from '../../common/deployment-diff.js';
import { DEPLOYMENT_NAME, type DeploymentSpec } from '../../common/deployment-spec.js';

export const DEPLOYMENT_RECORD_VERSION = 1;
/** Versions kept per deployment; older ones are dropped (a savepoint nonce bumped hourly must not grow the file forever). */
export const HISTORY_LIMIT = 100;

/**
 * The Flink Kubernetes operator's ResourceLifecycleState: DEPLOYED while a new job is watched for
 * the rollback window, STABLE after it, ROLLED_BACK when the previous spec runs again, FAILED when
 * the last apply could not reach its spec (applying it again retries).
 */
export type LifecycleState =
  'UPGRADING' | 'DEPLOYED' | 'STABLE' | 'SUSPENDED' | 'ROLLING_BACK' | 'ROLLED_BACK' | 'FAILED';

/** What one apply did (the answer of PUT /deployments/:name names it too). */
export type DeploymentAction =
  | 'created'
  | 'unchanged'
  | 'updated'
  | 'upgraded'
  | 'restarted'
  | 'suspended'
  | 'resumed'
  | 'savepoint'
  | 'rolled-back'
  | 'failed'
  | 'deleted';

export interface VersionEntry {
  version: number;
  time: number;
  action: DeploymentAction;
  /** Against the spec of the version before. */
  changes: FieldChange[];
  spec: DeploymentSpec;
  /** The job this version started (or, for savepoint and suspend, the job it acted on). */
  jobId?: string;
  previousJobId?: string;
  /** The savepoint or checkpoint the job started from. */
  restoredFrom?: string;
  /** A savepoint this version took (suspend, savepoint nonce, the upgrade's). */
  savepoint?: string;
  /** DEPLOYED, STABLE, ROLLED_BACK, FAILED, SUSPENDED, COMPLETED (a savepoint). */
  outcome: string;
  cause?: string;
  /** A rollback: the version whose spec runs again. */
  rollbackTo?: number;
  note?: string;
}

export interface SavepointInfo {
  path: string;
  time: number;
  jobId: string;
  /** upgrade, suspend, savepointNonce, delete */
  reason: string;
}

export interface DeploymentRecord {
  formatVersion: typeof DEPLOYMENT_RECORD_VERSION;
  name: string;
  /** The spec last applied (the desired one). */
  spec: DeploymentSpec;
  specVersion: number;
  /** The spec the current (or last) job runs, and its version. */
  running?: { spec: DeploymentSpec; version: number };
  status: LifecycleState;
  /** Why the status is FAILED or ROLLED_BACK. */
  cause?: string;
  jobId?: string;
  lastSavepoint?: SavepointInfo;
  history: VersionEntry[];
  nextVersion: number;
  createdAt: number;
  updatedAt: number;
}

/** Checks a record read back from disk; returns why it is unusable, or undefined. */
export function invalidRecord(r: unknown, name: string): string | undefined {
  if (!r || typeof r !== 'object') return 'not a JSON object';
  const o = r as Partial<DeploymentRecord>;
  if (o.formatVersion !== DEPLOYMENT_RECORD_VERSION) return `unknown record version ${String(o.formatVersion)}`;
  if (o.name !== name || !DEPLOYMENT_NAME.test(name)) return `names deployment ${String(o.name)}, not ${name}`;
  if (!o.spec || typeof o.spec !== 'object' || typeof o.spec.bundleHash !== 'string') return 'no spec';
  if (!Array.isArray(o.history)) return 'no history';
  if (typeof o.status !== 'string') return 'no status';
  return undefined;
}

/** Appends a version, keeping the newest HISTORY_LIMIT. */
export function addVersion(record: DeploymentRecord, entry: Omit<VersionEntry, 'version' | 'time'>): VersionEntry {
  const full: VersionEntry = { version: record.nextVersion++, time: Date.now(), ...entry };
  record.history.push(full);
  if (record.history.length > HISTORY_LIMIT) record.history.splice(0, record.history.length - HISTORY_LIMIT);
  return full;
}

export function findVersion(record: DeploymentRecord, version: number): VersionEntry | undefined {
  return record.history.find((v) => v.version === version);
}
