// Job and execution states with Flink's names and terminal sets.

export type JobStatus = 'INITIALIZING' | 'CREATED' | 'RUNNING' | 'FAILING' | 'FAILED' | 'CANCELLING' | 'CANCELED' | 'FINISHED' | 'RESTARTING' | 'SUSPENDED' | 'RECONCILING';

export type ExecutionState = 'CREATED' | 'SCHEDULED' | 'DEPLOYING' | 'INITIALIZING' | 'RUNNING' | 'FINISHED' | 'CANCELING' | 'CANCELED' | 'FAILED';

export const EXECUTION_STATES: ExecutionState[] = ['CREATED', 'SCHEDULED', 'DEPLOYING', 'INITIALIZING', 'RUNNING', 'FINISHED', 'CANCELING', 'CANCELED', 'FAILED'];

export function isGloballyTerminal(s: JobStatus): boolean {
  return s === 'FAILED' || s === 'CANCELED' || s === 'FINISHED';
}

export function isExecutionTerminal(s: ExecutionState): boolean {
  return s === 'FINISHED' || s === 'CANCELED' || s === 'FAILED';
}
