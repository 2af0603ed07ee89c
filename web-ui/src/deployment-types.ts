// Shapes of GET /deployments and GET /deployments/:name (declarative deployments, weir apply).

export interface DeploymentSpec {
  bundleHash: string;
  bundleName: string;
  args: string[];
  parallelism?: number;
  config: Record<string, string>;
  upgradeMode: string;
  state: string;
  allowNonRestoredState: boolean;
  savepointNonce: number;
  restartNonce: number;
}

export interface FieldChange {
  field: string;
  from?: unknown;
  to?: unknown;
  /** One line, e.g. `parallelism: 2 → 4`. */
  text: string;
}

export interface DeploymentSummary {
  name: string;
  /** CREATED … STABLE, ROLLED_BACK, FAILED: the Flink operator's lifecycle states. */
  status: string;
  cause?: string;
  /** Desired: running or suspended. */
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
  lastSavepoint: { path: string; time: number; jobId: string; reason: string } | null;
  createdAt: number;
  updatedAt: number;
}

export interface DeploymentVersion {
  version: number;
  time: number;
  action: string;
  changes: FieldChange[];
  spec: DeploymentSpec;
  jobId?: string;
  jobState: string | null;
  previousJobId?: string;
  restoredFrom?: string;
  savepoint?: string;
  outcome: string;
  cause?: string;
  rollbackTo?: number;
  note?: string;
}

export interface DeploymentDetails extends DeploymentSummary {
  spec: DeploymentSpec;
  running: { spec: DeploymentSpec; version: number } | null;
  history: DeploymentVersion[];
}

export interface DeploymentsResponse {
  deployments: DeploymentSummary[];
}
