// Through the real JobMaster and ResourceManager, with TaskManagers faked at their gRPC clients: a
// task that its TaskManager reports CANCELING or CANCELED while the job runs, without the JobManager
// having asked, is a failure to recover from. A CANCELING report used to be taken as asked for, so
// when that TaskManager was then lost the job ended CANCELED (deleting its checkpoints) instead of
// restarting on the TaskManagers left.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { Ack } from '../../common/control.js';
import type { JobGraph } from '../../common/jobgraph.js';
import { silentLogger } from '../../common/logging.js';
import type { ExecutionState, JobStatus } from '../../common/states.js';
import { PROTOCOL_VERSION } from '../../common/version.js';
import type { Execution } from '../../jobmanager/execution-graph.js';
import { JobMaster } from '../../jobmanager/job-master.js';
import { ResourceManager } from '../../jobmanager/resource-manager.js';
import { fromSettings } from '../../jobmanager/restart/restart-strategy.js';
import { jobExceptions } from '../../jobmanager/rest/job-json.js';

const JOB = 'cd'.repeat(16);
const dir = mkdtempSync(join(tmpdir(), 'weir-unasked-cancel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jobGraph: JobGraph = {
  name: 'unasked-cancel',
  maxParallelism: 128,
  warnings: [],
  config: {},
  vertices: [
    {
      id: 'src',
      name: 'Source: Sequence',
      parallelism: 1,
      maxParallelism: 128,
      numInputs: 0,
      operators: [
        {
          id: 'src',
          name: 'Source: Sequence',
          kind: 'source',
          config: { sourceKind: 'sequence', bounded: false, from: 1, to: 1e9 },
          stateful: false,
          outputs: [],
        },
      ],
    },
  ],
  edges: [],
};

interface Call {
  tm: string;
  method: string;
  request: unknown;
}

/** A TaskManager's gRPC client that accepts every call the JobManager makes, answering later as gRPC does. */
function fakeTaskExecutor(tm: string, calls: Call[]) {
  const accept =
    (method: string) =>
    (request: unknown, _options: unknown, callback: (err: null, res: Ack) => void): void => {
      calls.push({ tm, method, request });
      setImmediate(() => callback(null, { ok: true, error: '' }));
    };
  return {
    SubmitTask: accept('SubmitTask'),
    CancelTask: accept('CancelTask'),
    ReleaseJob: accept('ReleaseJob'),
    AddSplits: accept('AddSplits'),
    UpdateWatermarkAlignment: accept('UpdateWatermarkAlignment'),
    TriggerCheckpoint: accept('TriggerCheckpoint'),
    NotifyCheckpoint: accept('NotifyCheckpoint'),
    close: () => undefined,
  };
}

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

/** A running job of one subtask on one of two TaskManagers of one slot each: a restart has somewhere to go. */
function runningJob() {
  const rm = new ResourceManager('jm-test', 1000, 5000, silentLogger());
  const calls: Call[] = [];
  for (const id of ['tm-a', 'tm-b']) {
    const res = rm.register({
      taskManagerId: id,
      rpcAddress: `127.0.0.1:${id === 'tm-a' ? 16001 : 16002}`,
      slots: 1,
      slotDataAddresses: [`127.0.0.1:${id === 'tm-a' ? 16101 : 16102}`],
      protocolVersion: PROTOCOL_VERSION,
      engineVersion: 'test',
      pid: 1,
      hostname: 'h',
      workingDir: dir,
    });
    expect(res.accepted).toBe(true);
    const tm = rm.taskManagers.get(id)!;
    const real = tm.client;
    tm.client = fakeTaskExecutor(id, calls) as unknown as grpc.Client;
    real.close();
  }
  const jm = new JobMaster(
    {
      jobId: JOB,
      jobGraph,
      bundleId: '0'.repeat(64),
      programArgs: [],
      defaultParallelism: 1,
      slotRequestTimeoutMs: 10_000,
      cancellationTimeoutMs: 10_000,
      spreadOutSlots: true,
      rpcTimeoutMs: 5000,
      restartStrategy: fromSettings({ type: 'fixed-delay', attempts: 3, delay: 20 }),
      checkpointing: {
        settings: {
          interval: 0,
          mode: 'EXACTLY_ONCE',
          timeout: 60_000,
          minPauseBetweenCheckpoints: 0,
          tolerableCheckpointFailureNumber: 0,
          maxConcurrentCheckpoints: 1,
        },
        periodic: false,
        checkpointsDir: dir,
        numRetained: 1,
        stateBackend: 'heap',
        historySize: 10,
      },
    },
    rm,
    silentLogger(),
  );
  const statuses: JobStatus[] = [];
  jm.on('statusChanged', (status) => statuses.push(status));
  cleanup = () => {
    jm.dispose();
    jm.checkpointing.coordinator.dispose();
    rm.stop();
  };
  jm.start();
  runAll(jm);
  expect(jm.status).toBe('RUNNING');
  return { rm, jm, calls, statuses };
}

function report(jm: JobMaster, e: Execution, state: ExecutionState): void {
  jm.onTaskState({
    taskManagerId: e.taskManagerId!,
    jobId: JOB,
    executionId: e.executionId,
    state,
    error: '',
    errorName: '',
    operatorName: '',
    timestamp: Date.now(),
  });
}

/** What a TaskManager reports of a subtask it was given: it initializes, then runs. */
function runAll(jm: JobMaster): void {
  for (const e of jm.graph.allExecutions()) {
    expect(e.state).toBe('DEPLOYING');
    report(jm, e, 'INITIALIZING');
    report(jm, e, 'RUNNING');
    expect(e.state).toBe('RUNNING');
  }
}

describe('a task canceled by its TaskManager unasked', () => {
  it.each(['CANCELING', 'CANCELED'] as const)(
    'is a failure the job restarts from when the task was reported %s and its TaskManager is then lost',
    async (state) => {
      const { rm, jm, calls, statuses } = runningJob();
      const e = jm.graph.allExecutions()[0]!;
      const lost = e.taskManagerId!;
      const survivor = lost === 'tm-a' ? 'tm-b' : 'tm-a';

      report(jm, e, state);
      rm.disconnect(lost, 'it lost contact with the JobManager');
      expect(jm.status).toBe('RESTARTING');
      expect(rm.taskManagers.has(lost)).toBe(false);

      // The REST layer's view: the cancellation nobody asked for is the root cause, not the loss after it.
      const exceptions = jobExceptions(jm) as {
        'root-exception': string | null;
        exceptionHistory: { entries: { exceptionName: string; stacktrace: string; taskManagerId: string | null }[] };
      };
      expect(exceptions.exceptionHistory.entries).toHaveLength(1);
      const [entry] = exceptions.exceptionHistory.entries;
      expect(entry!.exceptionName).toBe('TaskCanceledException');
      expect(entry!.taskManagerId).toBe(lost);
      expect(entry!.stacktrace).toContain(
        `${e.taskName} was canceled by TaskManager ${lost} without the JobManager asking`,
      );
      expect(exceptions['root-exception']).toBe(entry!.stacktrace);

      // The restart deploys a new attempt on the TaskManager left, which brings the job back to RUNNING.
      await vi.waitFor(() => expect(jm.graph.attempt).toBe(1));
      const next = jm.graph.allExecutions()[0]!;
      expect(next.taskManagerId).toBe(survivor);
      runAll(jm);
      expect(jm.status).toBe('RUNNING');
      expect(statuses).toEqual(['RUNNING', 'RESTARTING', 'RUNNING']);
      expect(statuses).not.toContain('CANCELED');
      expect(calls.filter((c) => c.method === 'SubmitTask').map((c) => c.tm)).toEqual([lost, survivor]);
      // Nothing was left to cancel: the only task had failed already.
      expect(calls.filter((c) => c.method === 'CancelTask')).toEqual([]);
    },
  );
});

describe('a task canceled because the job was canceled', () => {
  it('ends the job CANCELED once its TaskManager reports CANCELING and then CANCELED', async () => {
    const { jm, calls, statuses } = runningJob();
    const e = jm.graph.allExecutions()[0]!;

    expect(jm.cancel()).toBe(true);
    expect(jm.status).toBe('CANCELLING');
    expect(calls.filter((c) => c.method === 'CancelTask')).toEqual([
      { tm: e.taskManagerId, method: 'CancelTask', request: { executionId: e.executionId } },
    ]);
    report(jm, e, 'CANCELING');
    expect(jm.status).toBe('CANCELLING');
    report(jm, e, 'CANCELED');

    expect(await jm.whenTerminal()).toBe('CANCELED');
    expect(statuses).toEqual(['RUNNING', 'CANCELLING', 'CANCELED']);
    expect(jm.graph.exceptionHistory).toHaveLength(0);
    expect(jm.graph.attempt).toBe(0);
  });
});
