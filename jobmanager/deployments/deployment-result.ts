// The answer of PUT /deployments/:name (and of DELETE): the action taken (or, for a dry run, the one
// that would be), in one line for `weir apply`, and its facts for scripts.
import type { FieldChange } from '../../common/deployment-diff.js';
import type { DeploymentAction, LifecycleState } from './deployment-record.js';
import type { Plan } from './reconcile-plan.js';

export interface ApplyResult {
  name: string;
  action: DeploymentAction;
  dryRun: boolean;
  /** One line: what happened (or would), with the jobs and savepoints involved. */
  message: string;
  changes: FieldChange[];
  status?: LifecycleState;
  version?: number;
  jobId?: string;
  previousJobId?: string;
  /** A savepoint this apply took. */
  savepointPath?: string;
  /** What the new job started from. */
  restoredFrom?: string;
  cause?: string;
  /** Dry run: the JobManager already has the bundle (the CLI skips the upload). */
  bundleKnown?: boolean;
}

const PAST: Record<Plan['action'], DeploymentAction> = {
  create: 'created',
  unchanged: 'unchanged',
  update: 'updated',
  upgrade: 'upgraded',
  restart: 'restarted',
  suspend: 'suspended',
  resume: 'resumed',
  savepoint: 'savepoint',
};

export function pastTense(action: Plan['action']): DeploymentAction {
  return PAST[action];
}

/** "from savepoint /x" or "from checkpoint /y/chk-3": savepoints and checkpoints are named apart. */
export function fromWhere(path: string | undefined): string {
  if (!path) return 'without state';
  return /\/chk-\d+\/?$/.test(path) ? `from checkpoint ${path}` : `from savepoint ${path}`;
}

/** The dry run's line: what an apply would do now. */
export function dryRunMessage(plan: Plan, mode: string, jobId: string | undefined, jobLive: boolean): string {
  const job = jobId && jobLive ? `job ${jobId}` : 'no running job';
  const how =
    mode === 'stateless'
      ? 'cancel and start without state'
      : mode === 'last-state'
        ? 'cancel and start from its latest checkpoint'
        : 'stop with a savepoint and start from it';
  const note = plan.note ? ` (${plan.note})` : '';
  switch (plan.action) {
    case 'create':
      return `would be created${note}`;
    case 'unchanged':
      return `unchanged${note}`;
    case 'update':
      return `would be updated without a new job${note}`;
    case 'upgrade':
    case 'restart':
      return `would be ${plan.action === 'upgrade' ? 'upgraded' : 'restarted'} (${mode}: ${how}; ${job})${note}`;
    case 'suspend':
      return `would be suspended (${mode === 'stateless' ? 'cancel' : 'stop with a savepoint'}; ${job})${note}`;
    case 'resume':
      return `would be resumed${mode === 'stateless' ? ' without state' : ' from its last savepoint'}${note}`;
    case 'savepoint':
      return `would take a savepoint of ${job}${note}`;
  }
}
