// Job and execution states with Flink's names, terminal sets and the moves between them
// (Flink's ExecutionState and JobStatus rules): anything not listed is an impossible move.

export type JobStatus =
  | 'INITIALIZING'
  | 'CREATED'
  | 'RUNNING'
  | 'FAILING'
  | 'FAILED'
  | 'CANCELLING'
  | 'CANCELED'
  | 'FINISHED'
  | 'RESTARTING'
  | 'SUSPENDED'
  | 'RECONCILING';

export type ExecutionState =
  'CREATED' | 'SCHEDULED' | 'DEPLOYING' | 'INITIALIZING' | 'RUNNING' | 'FINISHED' | 'CANCELING' | 'CANCELED' | 'FAILED';

export const EXECUTION_STATES: ExecutionState[] = [
  'CREATED',
  'SCHEDULED',
  'DEPLOYING',
  'INITIALIZING',
  'RUNNING',
  'FINISHED',
  'CANCELING',
  'CANCELED',
  'FAILED',
];

/**
 * Where an execution may go from each state. A task reports INITIALIZING, RUNNING and an end;
 * reports arrive late or out of order, so RUNNING → INITIALIZING (a stale report) is refused.
 * A canceling task that fails on its way out ends CANCELED or FAILED, never FINISHED.
 */
export const EXECUTION_TRANSITIONS: Readonly<Record<ExecutionState, readonly ExecutionState[]>> = {
  CREATED: ['SCHEDULED', 'CANCELED', 'FAILED'],
  SCHEDULED: ['DEPLOYING', 'CANCELED', 'FAILED'],
  DEPLOYING: ['INITIALIZING', 'RUNNING', 'FINISHED', 'CANCELING', 'CANCELED', 'FAILED'],
  INITIALIZING: ['RUNNING', 'FINISHED', 'CANCELING', 'CANCELED', 'FAILED'],
  RUNNING: ['FINISHED', 'CANCELING', 'CANCELED', 'FAILED'],
  CANCELING: ['CANCELED', 'FAILED'],
  FINISHED: [],
  CANCELED: [],
  FAILED: [],
};

/**
 * Where a job may go from each status. RESTARTING leads back to RUNNING (a new attempt) or, when
 * the restore itself fails, to FAILING; SUSPENDED (the JobManager stops with high availability)
 * may follow any status that is not globally terminal.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  INITIALIZING: ['CREATED', 'FAILED', 'CANCELED', 'SUSPENDED'],
  CREATED: ['RUNNING', 'FAILING', 'CANCELLING', 'FAILED', 'CANCELED', 'SUSPENDED'],
  RUNNING: ['FAILING', 'RESTARTING', 'CANCELLING', 'FINISHED', 'CANCELED', 'FAILED', 'SUSPENDED'],
  RESTARTING: ['RUNNING', 'CREATED', 'FAILING', 'CANCELLING', 'CANCELED', 'FAILED', 'SUSPENDED'],
  FAILING: ['FAILED', 'RESTARTING', 'SUSPENDED'],
  CANCELLING: ['CANCELED', 'FAILED', 'SUSPENDED'],
  RECONCILING: ['RUNNING', 'RESTARTING', 'FAILING', 'CANCELLING', 'FINISHED', 'FAILED', 'CANCELED', 'SUSPENDED'],
  FINISHED: [],
  FAILED: [],
  CANCELED: [],
  SUSPENDED: [],
};

/** 'moved', 'unchanged' (already there) or 'refused' (not a move the table allows). */
export type TransitionOutcome = 'moved' | 'unchanged' | 'refused';

export function executionTransition(from: ExecutionState, to: ExecutionState): TransitionOutcome {
  if (from === to) return 'unchanged';
  return EXECUTION_TRANSITIONS[from].includes(to) ? 'moved' : 'refused';
}

export function jobTransition(from: JobStatus, to: JobStatus): TransitionOutcome {
  if (from === to) return 'unchanged';
  return JOB_TRANSITIONS[from].includes(to) ? 'moved' : 'refused';
}

/** Called with an impossible move that was refused, so its owner can log it. */
export type RefusedTransition = (subject: string, from: string, to: string) => void;

export function isGloballyTerminal(s: JobStatus): boolean {
  return s === 'FAILED' || s === 'CANCELED' || s === 'FINISHED';
}

export function isExecutionTerminal(s: ExecutionState): boolean {
  return s === 'FINISHED' || s === 'CANCELED' || s === 'FAILED';
}

/**
 * A vertex's state from its subtasks' (Flink's getAggregateJobVertexState): failures first, then
 * the least advanced of the live states, so a vertex reads RUNNING only once every subtask runs
 * (or finished). Flink lists a vertex RUNNING while another subtask is still DEPLOYING; Weir
 * waits for all, so "every vertex RUNNING" means what it says.
 */
export function aggregateExecutionState(states: readonly string[]): ExecutionState {
  const has = (s: ExecutionState) => states.includes(s);
  if (has('FAILED')) return 'FAILED';
  if (has('CANCELING')) return 'CANCELING';
  if (states.every((s) => s === 'FINISHED')) return 'FINISHED';
  if (states.every((s) => s === 'CANCELED')) return 'CANCELED';
  for (const s of ['CREATED', 'SCHEDULED', 'DEPLOYING', 'INITIALIZING'] as const) if (has(s)) return s;
  if (has('RUNNING')) return 'RUNNING';
  if (has('CANCELED')) return 'CANCELED';
  return has('FINISHED') ? 'RUNNING' : 'CREATED';
}
