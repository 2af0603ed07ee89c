// Checkpoints after tasks finished (FLIP-147) and checkpoint storage that cannot be written, at the
// CheckpointCoordinator with real checkpoint directories: finished subtasks in `_metadata`, tasks
// that finish while a checkpoint is pending, restores that deploy finished tasks as finished, and
// storage failures that decline checkpoints without failing the job over.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  CheckpointingSettings,
  CheckpointMetadata,
  CheckpointMetadataOperator,
  CheckpointOptions,
  TaskCheckpointAck,
} from '../../common/checkpoint.js';
import {
  describeStorageFailure,
  parseStorageFailure,
  storageFailureOf,
  type CheckpointStorageFailure,
} from '../../common/checkpoint-storage-failure.js';
import type { JobGraph, JobVertex } from '../../common/jobgraph.js';
import { silentLogger } from '../../common/logging.js';
import {
  CheckpointCoordinator,
  type CheckpointGateway,
  type CheckpointPlan,
  type TaskRef,
} from '../../jobmanager/checkpoint/checkpoint-coordinator.js';
import { CheckpointStorage, METADATA_FILE } from '../../jobmanager/checkpoint/checkpoint-storage.js';
import { finishedStateProblem, restoresAsFinished } from '../../jobmanager/checkpoint/finished-state.js';
import { checkStateMapping, SavepointRestoreError } from '../../jobmanager/checkpoint/savepoint-restore.js';
import { checkpointSettings } from '../helpers/checkpoint-settings.js';

const JOB = 'fedcba9876543210fedcba9876543210';
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Reference data (2 subtasks) and events (1) unioned into a keyed counter (1). */
const BOUNDED = (i: number): TaskRef => ({
  executionId: `e-ref-${i}`,
  taskManagerId: 'tm-1',
  taskName: `Reference (${i + 1}/2)`,
  chain: { subtaskIndex: i, operatorIds: ['ref'], executionId: `e-ref-${i}` },
});
const EVENTS: TaskRef = { executionId: 'e-events', taskManagerId: 'tm-1', taskName: 'Events (1/1)' };
const COUNTER: TaskRef = { executionId: 'e-counter', taskManagerId: 'tm-2', taskName: 'Counter (1/1)' };

class Gateway implements CheckpointGateway {
  triggers: Array<{ executionId: string; checkpointId: number }> = [];
  notifications: Array<{ checkpointId: number; complete: boolean }> = [];
  failing = new Set<string>();

  async trigger(task: TaskRef, checkpointId: number, _timestamp: number, _options: CheckpointOptions): Promise<void> {
    this.triggers.push({ executionId: task.executionId, checkpointId });
    if (this.failing.has(task.executionId)) throw new Error(`no task ${task.executionId}`);
  }

  notify(_tasks: TaskRef[], checkpointId: number, complete: boolean): void {
    this.notifications.push({ checkpointId, complete });
  }
}

interface Harness {
  coordinator: CheckpointCoordinator;
  gateway: Gateway;
  storage: CheckpointStorage;
  thresholdReasons: string[];
  storageFailures: CheckpointStorageFailure[];
  plan: CheckpointPlan;
}

function harness(overrides: Partial<CheckpointingSettings> = {}): Harness {
  const root = mkdtempSync(join(tmpdir(), 'weir-finished-'));
  roots.push(root);
  const storage = new CheckpointStorage(join(root, JOB), 1, silentLogger());
  const gateway = new Gateway();
  const h: Harness = {
    gateway,
    storage,
    thresholdReasons: [],
    storageFailures: [],
    plan: {
      trigger: [BOUNDED(0), BOUNDED(1), EVENTS],
      ackFrom: [BOUNDED(0), BOUNDED(1), EVENTS, COUNTER],
      finished: [],
    },
    coordinator: undefined as unknown as CheckpointCoordinator,
  };
  h.coordinator = new CheckpointCoordinator({
    jobId: JOB,
    settings: checkpointSettings(overrides),
    storage,
    log: silentLogger(),
    tasks: () => h.plan,
    operators: () => [
      { operatorId: 'ref', uid: 'reference', name: 'Reference', parallelism: 2, maxParallelism: 128 },
      { operatorId: 'events', name: 'Events', parallelism: 1, maxParallelism: 128 },
      { operatorId: 'counter', name: 'Counter', parallelism: 1, maxParallelism: 128 },
    ],
    gateway,
    onFailureThresholdExceeded: (reason) => h.thresholdReasons.push(reason),
    onStorageFailure: (f) => h.storageFailures.push(f),
  });
  return h;
}

function ackOf(
  h: Harness,
  task: TaskRef,
  checkpointId: number,
  operatorId: string,
  subtaskIndex = 0,
): TaskCheckpointAck {
  const dir = h.storage.pathOf(checkpointId);
  mkdirSync(dir, { recursive: true });
  const file = `${operatorId}-${subtaskIndex}.state`;
  const bytes = Buffer.from(`${operatorId}@${checkpointId}`);
  writeFileSync(join(dir, file), bytes);
  return {
    jobId: JOB,
    executionId: task.executionId,
    checkpointId,
    syncDurationMs: 0,
    asyncDurationMs: 0,
    alignmentDurationMs: 0,
    handles: [
      {
        operatorId,
        subtaskIndex,
        file,
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        keyGroupRange: null,
        operatorStates: ['s'],
      },
    ],
  };
}

async function until(cond: () => boolean): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > 5000) throw new Error('condition not met within 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function metadataOf(dir: string): CheckpointMetadata {
  return JSON.parse(readFileSync(join(dir, METADATA_FILE), 'utf8')) as CheckpointMetadata;
}

function opOf(m: CheckpointMetadata, id: string): CheckpointMetadataOperator {
  return m.operators.find((o) => o.operatorId === id)!;
}

describe('checkpoints after tasks finished', () => {
  it('records finished subtasks in _metadata, partially and then fully finished operators, and counts them as acknowledged', async () => {
    const h = harness();
    // Subtask 0 of the reference data finished; subtask 1 runs on.
    h.plan = {
      trigger: [BOUNDED(1), EVENTS],
      ackFrom: [BOUNDED(1), EVENTS, COUNTER],
      finished: [{ subtaskIndex: 0, operatorIds: ['ref'] }],
    };
    const first = h.coordinator.triggerCheckpoint();
    await until(() => h.gateway.triggers.length === 2);
    expect(h.gateway.triggers.map((t) => t.executionId).sort()).toEqual(['e-events', 'e-ref-1']);
    h.coordinator.receiveAcknowledge(ackOf(h, BOUNDED(1), 1, 'ref', 1));
    h.coordinator.receiveAcknowledge(ackOf(h, EVENTS, 1, 'events'));
    h.coordinator.receiveAcknowledge(ackOf(h, COUNTER, 1, 'counter'));
    const info = await first;
    const m1 = metadataOf(info.dir);
    expect(opOf(m1, 'ref')).toMatchObject({ finishedSubtasks: [0], subtasks: [{ subtaskIndex: 1 }] });
    expect(opOf(m1, 'ref').fullyFinished).toBeUndefined();
    expect(opOf(m1, 'counter').finishedSubtasks).toBeUndefined();
    expect(h.coordinator.stats().latest.completed).toMatchObject({ num_subtasks: 4, num_acknowledged_subtasks: 4 });

    // Both finished: Flink's FullyFinishedOperatorState, with no handles.
    h.plan = {
      trigger: [EVENTS],
      ackFrom: [EVENTS, COUNTER],
      finished: [
        { subtaskIndex: 0, operatorIds: ['ref'] },
        { subtaskIndex: 1, operatorIds: ['ref'] },
      ],
    };
    const second = h.coordinator.triggerCheckpoint();
    await until(() => h.gateway.triggers.length === 3);
    h.coordinator.receiveAcknowledge(ackOf(h, EVENTS, 2, 'events'));
    h.coordinator.receiveAcknowledge(ackOf(h, COUNTER, 2, 'counter'));
    const m2 = metadataOf((await second).dir);
    expect(opOf(m2, 'ref')).toMatchObject({ finishedSubtasks: [0, 1], fullyFinished: true, subtasks: [] });
    expect(opOf(m2, 'ref').uid).toBe('reference');
  });

  it('carries the state a subtask finished with into later checkpoints while its operator runs elsewhere', async () => {
    const h = harness();
    const one = h.coordinator.triggerCheckpoint();
    await until(() => h.gateway.triggers.length === 3);
    // Subtask 0 of the reference data snapshots past the end of its input, then finishes.
    h.coordinator.receiveAcknowledge({ ...ackOf(h, BOUNDED(0), 1, 'ref', 0), endOfInput: true });
    h.coordinator.receiveAcknowledge(ackOf(h, BOUNDED(1), 1, 'ref', 1));
    h.coordinator.receiveAcknowledge(ackOf(h, EVENTS, 1, 'events'));
    h.coordinator.receiveAcknowledge(ackOf(h, COUNTER, 1, 'counter'));
    const first = await one;
    const endState = readFileSync(join(first.dir, 'ref-0.state'));
    h.plan = { trigger: [BOUNDED(1), EVENTS], ackFrom: [BOUNDED(1), EVENTS, COUNTER], finished: [BOUNDED(0).chain!] };
    for (const id of [2, 3]) {
      const p = h.coordinator.triggerCheckpoint();
      await until(() => h.gateway.triggers.filter((t) => t.checkpointId === id).length === 2);
      h.coordinator.receiveAcknowledge(ackOf(h, BOUNDED(1), id, 'ref', 1));
      h.coordinator.receiveAcknowledge(ackOf(h, EVENTS, id, 'events'));
      h.coordinator.receiveAcknowledge(ackOf(h, COUNTER, id, 'counter'));
      const info = await p;
      const ref = opOf(metadataOf(info.dir), 'ref');
      expect(ref.finishedSubtasks).toEqual([0]);
      expect(ref.subtasks.map((s) => [s.subtaskIndex, s.file])).toEqual([
        [0, 'finished-ref-0.state'],
        [1, 'ref-1.state'],
      ]);
      // Its own copy: the checkpoint it came from goes with retention.
      expect(readFileSync(join(info.dir, 'finished-ref-0.state'))).toEqual(endState);
    }
    await until(
      () => h.storage.pathOf(2) !== h.storage.pathOf(3) && !existsSync(join(h.storage.pathOf(2), METADATA_FILE)),
    );
    // A restore finds every file it names.
    const restored = await h.coordinator.restoreLatest();
    expect(restored?.metadata.checkpointId).toBe(3);
  });

  it('counts a task past its end that finishes during a checkpoint as finished; a task not past its end aborts it, uncounted', async () => {
    const h = harness();
    h.plan = {
      trigger: [BOUNDED(0), BOUNDED(1), EVENTS],
      ackFrom: [BOUNDED(0), BOUNDED(1), EVENTS, COUNTER],
      finished: [],
    };
    const done = h.coordinator.triggerCheckpoint();
    await until(() => h.gateway.triggers.length === 3);
    h.coordinator.receiveAcknowledge(ackOf(h, BOUNDED(0), 1, 'ref', 0));
    h.coordinator.onTaskFinished(BOUNDED(1).executionId);
    h.coordinator.receiveAcknowledge(ackOf(h, EVENTS, 1, 'events'));
    h.coordinator.receiveAcknowledge(ackOf(h, COUNTER, 1, 'counter'));
    const m = metadataOf((await done).dir);
    expect(opOf(m, 'ref')).toMatchObject({ finishedSubtasks: [1], subtasks: [{ subtaskIndex: 0 }] });

    // The events task had not reported the end of its input: its snapshot may still be on its way.
    const next = h.coordinator.triggerCheckpoint();
    await until(() => h.gateway.triggers.length === 6);
    h.coordinator.onTaskFinished(EVENTS.executionId);
    await expect(next).rejects.toThrow(/Task Events \(1\/1\) finished before the checkpoint completed/);
    expect(h.thresholdReasons).toEqual([]);
  });

  it('waits for the FINISHED report of a task past its end that could not be triggered any more', async () => {
    const h = harness();
    h.gateway.failing.add(BOUNDED(0).executionId);
    const done = h.coordinator.triggerCheckpoint();
    await until(() => h.gateway.triggers.length === 3);
    // Still pending is a non-event: the failed trigger settles within a few turns, long before 50 ms.
    await new Promise((r) => setTimeout(r, 50));
    expect(h.coordinator.numPendingCheckpoints).toBe(1);
    h.coordinator.onTaskFinished(BOUNDED(0).executionId);
    h.coordinator.receiveAcknowledge(ackOf(h, BOUNDED(1), 1, 'ref', 1));
    h.coordinator.receiveAcknowledge(ackOf(h, EVENTS, 1, 'events'));
    h.coordinator.receiveAcknowledge(ackOf(h, COUNTER, 1, 'counter'));
    expect(opOf(metadataOf((await done).dir), 'ref').finishedSubtasks).toEqual([0]);
  });

  it('takes the checkpoint that lets tasks past their end finish at once, after the one in flight', async () => {
    const h = harness();
    h.coordinator.start();
    try {
      const inFlight = h.coordinator.triggerCheckpoint();
      await until(() => h.gateway.triggers.length === 3);
      // Every running task reported its end while checkpoint 1 (with snapshots from before it) was pending.
      h.coordinator.triggerFinalCheckpoint();
      expect(h.coordinator.numPendingCheckpoints).toBe(1);
      h.coordinator.receiveAcknowledge(ackOf(h, BOUNDED(0), 1, 'ref', 0));
      h.coordinator.receiveAcknowledge(ackOf(h, BOUNDED(1), 1, 'ref', 1));
      h.coordinator.receiveAcknowledge(ackOf(h, EVENTS, 1, 'events'));
      h.coordinator.receiveAcknowledge(ackOf(h, COUNTER, 1, 'counter'));
      await inFlight;
      await until(() => h.gateway.triggers.some((t) => t.checkpointId === 2));
    } finally {
      h.coordinator.stop('test over');
    }
  });

  it('reports checkpoints_after_tasks_finish as configured', () => {
    expect(harness().coordinator.configJson().checkpoints_after_tasks_finish).toBe(true);
    expect(
      harness({ checkpointsAfterTasksFinish: false }).coordinator.configJson().checkpoints_after_tasks_finish,
    ).toBe(false);
  });
});

describe('checkpoint storage that cannot be written', () => {
  it('recognizes full, read-only and forbidden directories, and carries them through a decline reason', () => {
    const full = Object.assign(new Error("ENOSPC: no space left on device, write '/cp/job/chk-4/op-a-0.state.tmp'"), {
      code: 'ENOSPC',
      syscall: 'write',
      path: '/cp/job/chk-4/op-a-0.state.tmp',
    });
    const f = storageFailureOf(full, '/cp/job/chk-4')!;
    expect(f).toEqual({ code: 'ENOSPC', directory: '/cp/job/chk-4', message: full.message });
    expect(parseStorageFailure(describeStorageFailure(f))).toEqual(f);
    const readOnly = Object.assign(new Error("EROFS: read-only file system, mkdir '/cp/job/chk-5'"), {
      code: 'EROFS',
      syscall: 'mkdir',
      path: '/cp/job/chk-5',
    });
    expect(storageFailureOf(readOnly, '/cp/job')?.directory).toBe('/cp/job/chk-5');
    expect(storageFailureOf(Object.assign(new Error('boom'), { code: 'EINVAL' }), '/cp')).toBeUndefined();
    expect(storageFailureOf(new Error('synchronous part failed'), '/cp')).toBeUndefined();
    expect(parseStorageFailure('asynchronous part failed: ENOSPC')).toBeUndefined();
  });

  it('declines without counting toward tolerable failures, and reports once until a checkpoint completes', async () => {
    const h = harness();
    h.plan = { trigger: [EVENTS], ackFrom: [EVENTS, COUNTER] };
    const failure = {
      code: 'ENOSPC',
      directory: h.storage.pathOf(1),
      message: 'ENOSPC: no space left on device, write',
    };
    for (const id of [1, 2]) {
      const p = h.coordinator.triggerCheckpoint();
      await until(() => h.gateway.triggers.length === id);
      h.coordinator.receiveDecline(
        COUNTER.executionId,
        id,
        describeStorageFailure({ ...failure, directory: h.storage.pathOf(id) }),
      );
      await expect(p).rejects.toThrow(/checkpoint storage failure \[ENOSPC\] in .*chk-\d/);
    }
    expect(h.thresholdReasons).toEqual([]);
    expect(h.storageFailures).toEqual([failure]);
    expect(h.coordinator.stats().counts.failed).toBe(2);

    const ok = h.coordinator.triggerCheckpoint();
    await until(() => h.gateway.triggers.length === 3);
    h.coordinator.receiveAcknowledge(ackOf(h, EVENTS, 3, 'events'));
    h.coordinator.receiveAcknowledge(ackOf(h, COUNTER, 3, 'counter'));
    await ok;
    const again = h.coordinator.triggerCheckpoint();
    await until(() => h.gateway.triggers.length === 4);
    h.coordinator.receiveDecline(
      COUNTER.executionId,
      4,
      describeStorageFailure({ ...failure, directory: h.storage.pathOf(4) }),
    );
    await expect(again).rejects.toThrow();
    expect(h.storageFailures).toHaveLength(2);
    // Any other decline still counts.
    const other = h.coordinator.triggerCheckpoint();
    await until(() => h.gateway.triggers.length === 5);
    h.coordinator.receiveDecline(COUNTER.executionId, 5, 'synchronous part failed: boom');
    await expect(other).rejects.toThrow();
    expect(h.thresholdReasons).toHaveLength(1);
  });

  it('reports a checkpoint directory the JobManager cannot create, uncounted', async () => {
    const h = harness();
    // A file where the job's checkpoint directory belongs: mkdir fails with ENOTDIR, as root too.
    mkdirSync(join(h.storage.jobDir, '..'), { recursive: true });
    writeFileSync(h.storage.jobDir, 'not a directory');
    await expect(h.coordinator.triggerCheckpoint()).rejects.toThrow(/Cannot create the checkpoint directory/);
    expect(h.storageFailures.map((f) => f.code)).toEqual(['ENOTDIR']);
    expect(h.thresholdReasons).toEqual([]);
  });
});

function vertex(id: string, parallelism: number, ops: string[], numInputs: number): JobVertex {
  return {
    id,
    name: id,
    parallelism,
    maxParallelism: 128,
    numInputs,
    operators: ops.map((o) => ({ id: o, name: o, kind: 'map', config: {}, stateful: true, outputs: [] })),
  };
}

function graphOf(vertices: JobVertex[], edges: Array<[string, string]>): JobGraph {
  return {
    name: 'g',
    maxParallelism: 128,
    warnings: [],
    config: {},
    vertices,
    edges: edges.map(([source, target], index) => ({ index, source, target, partitioner: 'hash', targetInput: 0 })),
  };
}

function metadata(operators: Array<Partial<CheckpointMetadataOperator> & { operatorId: string }>): CheckpointMetadata {
  return {
    format: 'weir-checkpoint',
    version: 1,
    jobId: JOB,
    checkpointId: 7,
    timestamp: 0,
    completedAt: 0,
    savepoint: true,
    stateSize: 0,
    operators: operators.map((o) => ({ name: o.operatorId, parallelism: 2, maxParallelism: 128, subtasks: [], ...o })),
  };
}

describe('restoring finished operators', () => {
  const g = graphOf(
    [vertex('ref', 2, ['ref'], 0), vertex('events', 2, ['events'], 0), vertex('counter', 2, ['counter', 'sink'], 1)],
    [
      ['ref', 'counter'],
      ['events', 'counter'],
    ],
  );

  it('deploys a task as finished only when every operator of its chain fully finished', () => {
    const full = { fullyFinished: true, finishedSubtasks: [0, 1] };
    const partial = metadata([
      { operatorId: 'ref', finishedSubtasks: [1] },
      { operatorId: 'counter', ...full },
    ]);
    // Subtask 1 of the reference data runs again from the state it finished with.
    expect(restoresAsFinished(g.vertices[0]!, partial)).toBe(false);
    // The sink chained to the counter had not finished.
    expect(restoresAsFinished(g.vertices[2]!, partial)).toBe(false);
    expect(restoresAsFinished(g.vertices[0]!, metadata([{ operatorId: 'ref', ...full }]))).toBe(true);
    expect(finishedStateProblem(metadata([{ operatorId: 'ref', ...full }]), g)).toBeUndefined();
  });

  it("refuses graphs that cannot start from the finished operators (Flink's VertexFinishedStateChecker)", () => {
    const full = { fullyFinished: true, finishedSubtasks: [0, 1] };
    // A chain that mixes a finished operator with one that runs.
    expect(finishedStateProblem(metadata([{ operatorId: 'counter', ...full }]), g)).toMatch(
      /chains operator 'counter', which had finished, with operator 'sink'/,
    );
    // A finished task fed by one that runs.
    const both = metadata([
      { operatorId: 'counter', ...full },
      { operatorId: 'sink', ...full },
      { operatorId: 'ref', ...full },
    ]);
    expect(finishedStateProblem(both, g)).toMatch(/'counter' had finished, but it reads from 'events'/);
    expect(() => checkStateMapping({ metadata: both, dir: '/sp/x' }, g, false)).toThrow(SavepointRestoreError);
    // A partially finished operator may change its parallelism: its finished subtasks' state is in the snapshot.
    const rescaled = graphOf([vertex('ref', 3, ['ref'], 0)], []);
    expect(finishedStateProblem(metadata([{ operatorId: 'ref', finishedSubtasks: [0] }]), rescaled)).toBeUndefined();
    // Fully finished operators take any parallelism.
    expect(finishedStateProblem(metadata([{ operatorId: 'ref', ...full }]), rescaled)).toBeUndefined();
  });
});
