// Executions and jobs move only as Flink's ExecutionState and JobStatus rules allow: a late or
// out-of-order report cannot move an execution backwards, and nothing moves after an end.
import { describe, expect, it } from 'vitest';
import type { JobGraph } from '../../common/jobgraph.js';
import {
  EXECUTION_STATES,
  EXECUTION_TRANSITIONS,
  JOB_TRANSITIONS,
  isExecutionTerminal,
  isGloballyTerminal,
  type ExecutionState,
  type JobStatus,
} from '../../common/states.js';
import { Execution, ExecutionGraph } from '../../jobmanager/execution-graph.js';

const graph: JobGraph = {
  name: 'g',
  maxParallelism: 128,
  warnings: [],
  config: {},
  vertices: [
    {
      id: 'src',
      name: 'Source',
      parallelism: 2,
      maxParallelism: 128,
      numInputs: 0,
      operators: [
        {
          id: 'src',
          name: 'Source',
          kind: 'source',
          config: { sourceKind: 'sequence', bounded: true, from: 1, to: 10 },
          stateful: false,
          outputs: [],
        },
      ],
    },
  ],
  edges: [],
};

function execution(refusals: string[] = []): Execution {
  return new Execution('e', graph.vertices[0]!, 0, 0, (subject, from, to) =>
    refusals.push(`${subject}: ${from} → ${to}`),
  );
}

/** An execution brought to `state` along allowed moves. */
function executionIn(state: ExecutionState, refusals: string[] = []): Execution {
  const path: Record<ExecutionState, ExecutionState[]> = {
    CREATED: [],
    SCHEDULED: ['SCHEDULED'],
    DEPLOYING: ['SCHEDULED', 'DEPLOYING'],
    INITIALIZING: ['SCHEDULED', 'DEPLOYING', 'INITIALIZING'],
    RUNNING: ['SCHEDULED', 'DEPLOYING', 'INITIALIZING', 'RUNNING'],
    FINISHED: ['SCHEDULED', 'DEPLOYING', 'RUNNING', 'FINISHED'],
    CANCELING: ['SCHEDULED', 'DEPLOYING', 'RUNNING', 'CANCELING'],
    CANCELED: ['CANCELED'],
    FAILED: ['FAILED'],
  };
  const e = execution(refusals);
  for (const s of path[state]) expect(e.transition(s)).toBe(true);
  return e;
}

describe('execution states', () => {
  it('takes the normal life of a task and records when each state was reached', () => {
    const e = execution();
    for (const s of ['SCHEDULED', 'DEPLOYING', 'INITIALIZING', 'RUNNING', 'FINISHED'] as const) {
      expect(e.transition(s)).toBe(true);
      expect(e.timestamps[s]).toBeTypeOf('number');
    }
    expect(e.terminal).toBe(true);
  });

  it('allows exactly the moves of the table from every state, and reports the others', () => {
    for (const from of EXECUTION_STATES) {
      for (const to of EXECUTION_STATES) {
        const refusals: string[] = [];
        const e = executionIn(from, refusals);
        const moved = e.transition(to);
        expect(moved, `${from} → ${to}`).toBe(EXECUTION_TRANSITIONS[from].includes(to));
        expect(e.state).toBe(moved ? to : from);
        expect(refusals, `${from} → ${to}`).toEqual(from === to || moved ? [] : [`Source (1/2)#0: ${from} → ${to}`]);
      }
    }
  });

  it('refuses a late INITIALIZING report after RUNNING, and every move after an end', () => {
    const refusals: string[] = [];
    const e = executionIn('RUNNING', refusals);
    expect(e.transition('INITIALIZING')).toBe(false);
    expect(e.state).toBe('RUNNING');
    for (const end of ['FINISHED', 'CANCELED', 'FAILED'] as const) {
      expect(isExecutionTerminal(end)).toBe(true);
      expect(EXECUTION_TRANSITIONS[end]).toEqual([]);
    }
    expect(executionIn('CANCELING').transition('FINISHED')).toBe(false);
    expect(refusals).toEqual(['Source (1/2)#0: RUNNING → INITIALIZING']);
  });
});

describe('job status', () => {
  it('goes through a failover and a cancellation, refusing moves out of an end', () => {
    const refusals: string[] = [];
    const g = new ExecutionGraph('0'.repeat(32), graph, Date.now(), 16, (subject, from, to) =>
      refusals.push(`${subject}: ${from} → ${to}`),
    );
    for (const s of ['RUNNING', 'RESTARTING', 'RUNNING', 'CANCELLING', 'CANCELED'] as const)
      expect(g.transition(s)).toBe(true);
    expect(g.endTime).toBeGreaterThan(0);
    expect(g.transition('RUNNING')).toBe(false);
    expect(g.status).toBe('CANCELED');
    expect(refusals).toEqual([`job ${'0'.repeat(32)}: CANCELED → RUNNING`]);
  });

  it('has no move out of FINISHED, FAILED, CANCELED or SUSPENDED, and reaches SUSPENDED from every other status', () => {
    const all = Object.keys(JOB_TRANSITIONS) as JobStatus[];
    for (const s of all) {
      const ended = isGloballyTerminal(s) || s === 'SUSPENDED';
      expect(JOB_TRANSITIONS[s].length === 0, s).toBe(ended);
      if (!ended) expect(JOB_TRANSITIONS[s], s).toContain('SUSPENDED');
    }
  });

  it('gives each attempt new executions that report refusals too', () => {
    const refusals: string[] = [];
    const g = new ExecutionGraph('1'.repeat(32), graph, Date.now(), 16, (subject, from, to) =>
      refusals.push(`${subject}: ${from} → ${to}`),
    );
    const first = g.allExecutions()[0]!;
    g.newAttempt();
    const second = g.allExecutions()[0]!;
    expect(second.executionId).not.toBe(first.executionId);
    expect(second.attempt).toBe(1);
    expect(g.findExecution(first.executionId)).toBeUndefined();
    expect(second.transition('RUNNING')).toBe(false);
    expect(refusals).toEqual(['Source (1/2)#1: CREATED → RUNNING']);
  });
});

describe('vertex state', () => {
  it('is RUNNING only once every subtask runs or finished; failures and cancellations come first', async () => {
    const { aggregateExecutionState } = await import('../../common/states.js');
    expect(aggregateExecutionState(['RUNNING', 'INITIALIZING'])).toBe('INITIALIZING');
    expect(aggregateExecutionState(['RUNNING', 'DEPLOYING'])).toBe('DEPLOYING');
    expect(aggregateExecutionState(['RUNNING', 'FINISHED'])).toBe('RUNNING');
    expect(aggregateExecutionState(['FINISHED', 'FINISHED'])).toBe('FINISHED');
    expect(aggregateExecutionState(['RUNNING', 'FAILED'])).toBe('FAILED');
    expect(aggregateExecutionState(['RUNNING', 'CANCELING'])).toBe('CANCELING');
    expect(aggregateExecutionState(['CANCELED', 'FINISHED'])).toBe('CANCELED');
    expect(aggregateExecutionState(['CREATED', 'CREATED'])).toBe('CREATED');
  });
});
