import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  FINAL_CHECKPOINT_ID,
  type CheckpointingSettings,
  type CheckpointOptions,
  type OperatorSubtaskStateHandle,
  type TaskCheckpointAck,
} from '../../common/checkpoint.js';
import { silentLogger } from '../../common/logging.js';
import {
  CheckpointCoordinator,
  type CheckpointGateway,
  type TaskRef,
} from '../../jobmanager/checkpoint/checkpoint-coordinator.js';
import { CheckpointStorage, METADATA_FILE } from '../../jobmanager/checkpoint/checkpoint-storage.js';
import { loadExternalRestore } from '../../jobmanager/checkpoint/savepoint-restore.js';
import { checkpointSettings } from '../helpers/checkpoint-settings.js';

const JOB = '0123456789abcdef0123456789abcdef';
const SRC: TaskRef = { executionId: 'e-src', taskManagerId: 'tm-1', taskName: 'Source (1/1)' };
const SINK: TaskRef = { executionId: 'e-sink', taskManagerId: 'tm-2', taskName: 'Sink (1/1)' };

/** Records what the coordinator asks of the tasks; waitFor() resolves once a condition holds. */
class FakeGateway implements CheckpointGateway {
  triggers: Array<{ executionId: string; checkpointId: number; savepoint: boolean }> = [];
  notifications: Array<{ executionIds: string[]; checkpointId: number; complete: boolean }> = [];
  failTrigger: string | undefined;
  private waiters: Array<{ done: () => boolean; resolve: () => void }> = [];

  async trigger(task: TaskRef, checkpointId: number, _timestamp: number, options: CheckpointOptions): Promise<void> {
    this.triggers.push({ executionId: task.executionId, checkpointId, savepoint: options.savepoint === true });
    this.wake();
    if (this.failTrigger) throw new Error(this.failTrigger);
  }

  notify(tasks: TaskRef[], checkpointId: number, complete: boolean): void {
    this.notifications.push({ executionIds: tasks.map((t) => t.executionId), checkpointId, complete });
    this.wake();
  }

  waitFor(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done, resolve }));
  }

  triggered(id: number): Promise<void> {
    return this.waitFor(() => this.triggers.some((t) => t.checkpointId === id));
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => (w.done() ? (w.resolve(), false) : true));
  }
}

interface Harness {
  coordinator: CheckpointCoordinator;
  gateway: FakeGateway;
  storage: CheckpointStorage;
  thresholdReasons: string[];
  setRunning(running: boolean): void;
}

function harness(
  s: Partial<CheckpointingSettings> = {},
  numRetained = 1,
  historySize = 10,
  existing?: CheckpointStorage,
  coordinatorStates?: () => Record<string, unknown>,
): Harness {
  const storage = existing ?? new CheckpointStorage(join(tempRoot(), JOB), numRetained, silentLogger());
  const gateway = new FakeGateway();
  const thresholdReasons: string[] = [];
  let running = true;
  const coordinator = new CheckpointCoordinator({
    jobId: JOB,
    settings: checkpointSettings(s),
    storage,
    log: silentLogger(),
    tasks: () => (running ? { trigger: [SRC], ackFrom: [SRC, SINK] } : null),
    operators: () => [
      { operatorId: 'src', name: 'Source', parallelism: 1, maxParallelism: 128 },
      { operatorId: 'agg', uid: 'counts', name: 'Agg', parallelism: 1, maxParallelism: 128 },
    ],
    gateway,
    onFailureThresholdExceeded: (reason) => thresholdReasons.push(reason),
    now: () => Date.now(),
    historySize,
    stateBackend: 'level',
    describeJob: () => ({ jobName: 'Counts', bundleHash: 'b'.repeat(64), engineVersion: '0.1.0' }),
    ...(coordinatorStates ? { coordinatorStates } : {}),
  });
  return { coordinator, gateway, storage, thresholdReasons, setRunning: (r) => (running = r) };
}

/** What a task does: write its state file into chk-<id> and acknowledge with its handle. */
function ack(
  storage: CheckpointStorage,
  task: TaskRef,
  checkpointId: number,
  operatorId: string,
  content: string,
  extra: Partial<TaskCheckpointAck> = {},
): TaskCheckpointAck {
  const dir = storage.pathOf(checkpointId);
  mkdirSync(dir, { recursive: true });
  const file = `${operatorId}-0.state`;
  writeFileSync(join(dir, file), content);
  const bytes = Buffer.from(content);
  const handle: OperatorSubtaskStateHandle = {
    operatorId,
    subtaskIndex: 0,
    file,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    keyGroupRange: operatorId === 'agg' ? { start: 0, end: 127 } : null,
    operatorStates: [],
  };
  return {
    jobId: JOB,
    executionId: task.executionId,
    checkpointId,
    handles: [handle],
    syncDurationMs: 1,
    asyncDurationMs: 2,
    alignmentDurationMs: 0,
    ...extra,
  };
}

async function completeOne(h: Harness, content = 'state', savepoint = false) {
  const done = h.coordinator.triggerCheckpoint({ savepoint });
  const id = h.coordinator.stats().history[0]!.id;
  await h.gateway.triggered(id);
  h.coordinator.receiveAcknowledge(ack(h.storage, SRC, id, 'src', `${content}-src`));
  h.coordinator.receiveAcknowledge(ack(h.storage, SINK, id, 'agg', `${content}-agg`));
  return done;
}

/** Polls a condition on real I/O (setImmediate is not faked). */
async function eventually(cond: () => boolean): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > 5000) throw new Error('condition not met within 5 s');
    await new Promise((r) => setImmediate(r));
  }
}

const roots: string[] = [];
function tempRoot(): string {
  const d = mkdtempSync(join(tmpdir(), 'weir-coord-'));
  roots.push(d);
  return d;
}

afterEach(() => {
  vi.useRealTimers();
});

afterAll(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

describe('CheckpointCoordinator: completion', () => {
  it("takes the operator coordinators' states in the turn it triggers the sources, into _metadata", async () => {
    const events: string[] = [];
    let next = 0;
    const h = harness({}, 1, 10, undefined, () => {
      events.push('snapshot');
      queueMicrotask(() => events.push('a later turn'));
      return { src: { next: (next += 100) } };
    });
    const trigger = h.gateway.trigger.bind(h.gateway);
    h.gateway.trigger = (task, ...rest) => {
      events.push(`trigger ${task.executionId}`);
      return trigger(task, ...rest);
    };
    const info = await completeOne(h);
    expect(events.slice(0, 3)).toEqual(['snapshot', 'trigger e-src', 'a later turn']);
    const meta = JSON.parse(readFileSync(join(info.dir, METADATA_FILE), 'utf8'));
    const byId = new Map(meta.operators.map((o: { operatorId: string }) => [o.operatorId, o]));
    expect(byId.get('src')).toMatchObject({ coordinatorState: { next: 100 } });
    expect(byId.get('agg')).not.toHaveProperty('coordinatorState');
  });

  it('completes when every task acknowledged: _metadata holds the handles, tasks are notified', async () => {
    const h = harness();
    const info = await completeOne(h, 'hello');
    expect(info).toMatchObject({
      checkpointId: 1,
      savepoint: false,
      dir: h.storage.pathOf(1),
      stateSize: 'hello-src'.length + 'hello-agg'.length,
    });
    expect(h.gateway.triggers).toEqual([{ executionId: 'e-src', checkpointId: 1, savepoint: false }]);
    const meta = JSON.parse(readFileSync(join(info.dir, METADATA_FILE), 'utf8'));
    expect(meta).toMatchObject({
      format: 'weir-checkpoint',
      version: 1,
      jobId: JOB,
      checkpointId: 1,
      savepoint: false,
      stateSize: info.stateSize,
    });
    expect(
      meta.operators.map((o: { operatorId: string; uid?: string; subtasks: OperatorSubtaskStateHandle[] }) => [
        o.operatorId,
        o.uid,
        o.subtasks.map((s) => s.file),
      ]),
    ).toEqual([
      ['src', undefined, ['src-0.state']],
      ['agg', 'counts', ['agg-0.state']],
    ]);
    await expect(h.storage.load(info.dir)).resolves.toMatchObject({ checkpointId: 1 });
    expect(h.gateway.notifications).toEqual([{ executionIds: ['e-src', 'e-sink'], checkpointId: 1, complete: true }]);
    expect(h.coordinator.numPendingCheckpoints).toBe(0);
  });

  it('keeps state.checkpoints.num-retained checkpoints, never deleting savepoints', async () => {
    const h = harness({}, 2);
    await completeOne(h);
    await completeOne(h, 'sp', true);
    await completeOne(h);
    await completeOne(h);
    expect([1, 2, 3, 4].map((id) => existsSync(h.storage.pathOf(id)))).toEqual([false, true, true, true]);
    await completeOne(h);
    expect([1, 2, 3, 4, 5].map((id) => existsSync(h.storage.pathOf(id)))).toEqual([false, true, false, true, true]);
    const history = h.coordinator.stats().history;
    expect(history.map((e) => [e.id, e.discarded])).toEqual([
      [5, false],
      [4, false],
      [3, true],
      [2, false],
      [1, true],
    ]);
  });

  it('ignores duplicate acks, acks from unknown tasks and acks of unknown checkpoints', async () => {
    const h = harness();
    const done = h.coordinator.triggerCheckpoint();
    await h.gateway.triggered(1);
    h.coordinator.receiveAcknowledge(ack(h.storage, SRC, 1, 'src', 'a'));
    h.coordinator.receiveAcknowledge(ack(h.storage, SRC, 1, 'src', 'a'));
    h.coordinator.receiveAcknowledge(ack(h.storage, { ...SINK, executionId: 'stranger' }, 1, 'agg', 'b'));
    h.coordinator.receiveAcknowledge(ack(h.storage, SINK, 7, 'agg', 'b'));
    h.coordinator.receiveAcknowledge({
      ...ack(h.storage, SINK, 1, 'agg', 'b'),
      jobId: 'ffffffffffffffffffffffffffffffff',
    });
    expect(h.coordinator.stats().history[0]).toMatchObject({ status: 'IN_PROGRESS', num_acknowledged_subtasks: 1 });
    h.coordinator.receiveAcknowledge(ack(h.storage, SINK, 1, 'agg', 'b'));
    await expect(done).resolves.toMatchObject({ checkpointId: 1 });
  });

  it('fails a checkpoint whose state belongs to no operator of the job', async () => {
    const h = harness({ tolerableCheckpointFailureNumber: 5 });
    const done = h.coordinator.triggerCheckpoint();
    await h.gateway.triggered(1);
    h.coordinator.receiveAcknowledge(ack(h.storage, SRC, 1, 'src', 'a'));
    h.coordinator.receiveAcknowledge(ack(h.storage, SINK, 1, 'ghost', 'b'));
    await expect(done).rejects.toThrow(
      /Failure to finalize the checkpoint: state acknowledged for operator ghost, which is not part of the job/,
    );
  });
});

describe('CheckpointCoordinator: failures', () => {
  it('aborts a checkpoint at its timeout, counts it, discards its files and tells the tasks', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const h = harness({ timeout: 1000, tolerableCheckpointFailureNumber: 5 });
    const done = h.coordinator.triggerCheckpoint();
    const failed = expect(done).rejects.toThrow(
      `Checkpoint 1 of job ${JOB} failed: Checkpoint expired before completing.`,
    );
    await h.gateway.triggered(1);
    h.coordinator.receiveAcknowledge(ack(h.storage, SRC, 1, 'src', 'a'));
    await vi.advanceTimersByTimeAsync(999);
    expect(h.coordinator.numPendingCheckpoints).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await failed;
    expect(h.gateway.notifications).toEqual([{ executionIds: ['e-src', 'e-sink'], checkpointId: 1, complete: false }]);
    await eventually(() => !existsSync(h.storage.pathOf(1)));
    const stats = h.coordinator.stats();
    expect(stats.counts).toMatchObject({ total: 1, failed: 1, in_progress: 0 });
    expect(stats.latest.failed).toMatchObject({
      id: 1,
      failure_message: 'Checkpoint expired before completing.',
      end_to_end_duration: 1000,
      num_acknowledged_subtasks: 1,
    });
  });

  it('counts declines and fails the job over once more than the tolerable number failed in a row', async () => {
    const h = harness({ tolerableCheckpointFailureNumber: 1 });
    const declineNext = async () => {
      const done = h.coordinator.triggerCheckpoint();
      const id = h.coordinator.stats().history[0]!.id;
      await h.gateway.triggered(id);
      h.coordinator.receiveDecline(SINK.executionId, id, 'disk full');
      await expect(done).rejects.toThrow(`Checkpoint was declined by task Sink (1/1) (e-sink): disk full`);
    };
    await declineNext();
    expect(h.thresholdReasons).toEqual([]);
    await completeOne(h); // a completion resets the count
    await declineNext();
    expect(h.thresholdReasons).toEqual([]);
    await declineNext();
    expect(h.thresholdReasons).toHaveLength(1);
    expect(h.thresholdReasons[0]).toMatch(
      /^2 checkpoint\(s\) failed in a row, 1 tolerated .*the latest failed due to: Checkpoint was declined by task Sink/,
    );
    await declineNext(); // the count started over when the threshold fired
    expect(h.thresholdReasons).toHaveLength(1);
  });

  it('does not count trigger failures, task-finished aborts, savepoint failures or aborts by stop()', async () => {
    const h = harness({ tolerableCheckpointFailureNumber: 0 });
    h.gateway.failTrigger = 'connection refused';
    await expect(h.coordinator.triggerCheckpoint()).rejects.toThrow(
      /Trigger of the checkpoint failed at task Source \(1\/1\) \(e-src\) on TaskManager tm-1: connection refused/,
    );
    h.gateway.failTrigger = undefined;

    const finished = h.coordinator.triggerCheckpoint();
    await h.gateway.triggered(2);
    h.coordinator.onTaskFinished(SINK.executionId);
    await expect(finished).rejects.toThrow(/Task Sink \(1\/1\) finished before the checkpoint completed/);

    const savepoint = h.coordinator.triggerCheckpoint({ savepoint: true });
    await h.gateway.triggered(3);
    h.coordinator.receiveDecline(SRC.executionId, 3, 'no');
    await expect(savepoint).rejects.toThrow(/^Savepoint 3 of job .* failed: Checkpoint was declined/);

    const stopped = h.coordinator.triggerCheckpoint();
    await h.gateway.triggered(4);
    h.coordinator.stop('the job is failing over');
    await expect(stopped).rejects.toThrow(/Checkpoint Coordinator is suspending: the job is failing over/);

    expect(h.thresholdReasons).toEqual([]);
    expect(h.coordinator.stats().counts).toMatchObject({ total: 4, failed: 4, completed: 0 });
  });

  it('refuses to trigger while not all tasks are running, without using an id', async () => {
    const h = harness();
    h.setRunning(false);
    await expect(h.coordinator.triggerCheckpoint()).rejects.toThrow(
      `Checkpoint triggering failed for job ${JOB}: not all tasks are running`,
    );
    h.setRunning(true);
    await expect(completeOne(h)).resolves.toMatchObject({ checkpointId: 1 });
    expect(h.coordinator.stats().counts.total).toBe(1);
  });

  it('discards the files of a late acknowledgement of an aborted checkpoint', async () => {
    const h = harness({ tolerableCheckpointFailureNumber: 5 });
    const done = h.coordinator.triggerCheckpoint();
    await h.gateway.triggered(1);
    h.coordinator.receiveDecline(SRC.executionId, 1, 'cannot snapshot');
    await expect(done).rejects.toThrow(/declined/);
    await eventually(() => !existsSync(h.storage.pathOf(1)));
    // The sink finishes writing after the abort and acknowledges.
    const late = ack(h.storage, SINK, 1, 'agg', 'late');
    expect(existsSync(join(h.storage.pathOf(1), 'agg-0.state'))).toBe(true);
    h.coordinator.receiveAcknowledge(late);
    await eventually(() => !existsSync(h.storage.pathOf(1)));
    expect(h.coordinator.stats().counts).toMatchObject({ completed: 0, failed: 1 });
  });
});

describe('CheckpointCoordinator: periodic triggering', () => {
  it('never has two checkpoints in flight and triggers the next as soon as one ends', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const h = harness({ interval: 100 });
    h.coordinator.start();
    h.coordinator.start(); // idempotent
    await vi.advanceTimersByTimeAsync(99);
    expect(h.coordinator.stats().counts.total).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.coordinator.stats().counts.total).toBe(1);
    await h.gateway.triggered(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.coordinator.stats().counts.total).toBe(1);
    h.coordinator.receiveAcknowledge(ack(h.storage, SRC, 1, 'src', 'a'));
    h.coordinator.receiveAcknowledge(ack(h.storage, SINK, 1, 'agg', 'b'));
    await h.gateway.waitFor(() => h.gateway.notifications.length === 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.coordinator.stats().counts.total).toBe(2);
    h.coordinator.stop('test over');
    h.coordinator.stop('test over'); // idempotent
  });

  it('a newer periodic checkpoint subsumes an older periodic one, never a manual one', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const h = harness({ interval: 100, maxConcurrentCheckpoints: 3 });
    const manual = h.coordinator.triggerCheckpoint();
    await h.gateway.triggered(1);
    h.coordinator.start();
    await vi.advanceTimersByTimeAsync(100);
    await h.gateway.triggered(2);
    await vi.advanceTimersByTimeAsync(100);
    await h.gateway.triggered(3);
    // Periodic 3 completes first: periodic 2 is subsumed, the manual 1 goes on.
    h.coordinator.receiveAcknowledge(ack(h.storage, SRC, 3, 'src', 'a'));
    h.coordinator.receiveAcknowledge(ack(h.storage, SINK, 3, 'agg', 'b'));
    await h.gateway.waitFor(() => h.gateway.notifications.some((n) => n.checkpointId === 3));
    h.coordinator.receiveAcknowledge(ack(h.storage, SRC, 1, 'src', 'a'));
    h.coordinator.receiveAcknowledge(ack(h.storage, SINK, 1, 'agg', 'b'));
    expect((await manual).checkpointId).toBe(1);
    const history = h.coordinator.stats().history;
    expect(history.find((c) => c.id === 2)?.status).toBe('FAILED');
    h.coordinator.stop('test over');
  });

  it('waits min pause after the end of the last checkpoint', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const h = harness({ interval: 100, minPauseBetweenCheckpoints: 300 });
    h.coordinator.start();
    await vi.advanceTimersByTimeAsync(100);
    await h.gateway.triggered(1);
    await vi.advanceTimersByTimeAsync(150); // t = 250: the tick at 200 found checkpoint 1 pending
    h.coordinator.receiveAcknowledge(ack(h.storage, SRC, 1, 'src', 'a'));
    h.coordinator.receiveAcknowledge(ack(h.storage, SINK, 1, 'agg', 'b'));
    await h.gateway.waitFor(() => h.gateway.notifications.length === 1);
    expect(h.coordinator.stats().history[0]!.end_to_end_duration).toBe(150);
    await vi.advanceTimersByTimeAsync(299);
    expect(h.coordinator.stats().counts.total).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.coordinator.stats().counts.total).toBe(2);
    h.coordinator.stop('test over');
  });

  it('skips periodic triggers while tasks are not running, and starts again after stop()', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const h = harness({ interval: 100 });
    h.setRunning(false);
    h.coordinator.start();
    await vi.advanceTimersByTimeAsync(350);
    expect(h.coordinator.stats().counts.total).toBe(0);
    h.coordinator.stop('failover');
    expect(h.coordinator.isRunning).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    h.setRunning(true);
    h.coordinator.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(h.coordinator.stats().counts.total).toBe(1);
    h.coordinator.stop('test over');
  });
});

describe('CheckpointCoordinator: end of input', () => {
  it('notifies the final checkpoint once every task acknowledged it, and again after a failover', () => {
    const h = harness();
    expect(h.coordinator.acknowledgeFinal(SRC.executionId, [SRC, SINK])).toBe(false);
    expect(h.coordinator.acknowledgeFinal(SRC.executionId, [SRC, SINK])).toBe(false);
    expect(h.gateway.notifications).toEqual([]);
    expect(h.coordinator.acknowledgeFinal(SINK.executionId, [SRC, SINK])).toBe(true);
    expect(h.coordinator.acknowledgeFinal(SINK.executionId, [SRC, SINK])).toBe(false);
    expect(h.gateway.notifications).toEqual([
      { executionIds: ['e-src', 'e-sink'], checkpointId: FINAL_CHECKPOINT_ID, complete: true },
    ]);
    h.coordinator.stop('failover');
    expect(h.coordinator.acknowledgeFinal(SINK.executionId, [SRC, SINK])).toBe(false);
    expect(h.coordinator.acknowledgeFinal(SRC.executionId, [SRC, SINK])).toBe(true);
    expect(h.gateway.notifications).toHaveLength(2);
  });
});

describe('CheckpointCoordinator: statistics', () => {
  it('reports Flink-shaped counts, summary, latest and history after completed and failed checkpoints', async () => {
    const h = harness({ tolerableCheckpointFailureNumber: -1 }, 5, 3);
    // 1: completed, with alignment figures.
    const first = h.coordinator.triggerCheckpoint();
    await h.gateway.triggered(1);
    h.coordinator.receiveAcknowledge(ack(h.storage, SRC, 1, 'src', 'aaaa', { syncDurationMs: 3, asyncDurationMs: 9 }));
    h.coordinator.receiveAcknowledge(
      ack(h.storage, SINK, 1, 'agg', 'bbbbbb', {
        alignmentDurationMs: 7,
        processedDuringAlignment: 512,
        asyncDurationMs: 4,
      }),
    );
    const c1 = await first;
    // 2: declined.
    const second = h.coordinator.triggerCheckpoint();
    await h.gateway.triggered(2);
    h.coordinator.receiveDecline(SINK.executionId, 2, 'boom');
    await expect(second).rejects.toThrow(/boom/);
    // 3: a savepoint; 4: still in progress.
    await completeOne(h, 'savepoint-state', true);
    const fourth = h.coordinator.triggerCheckpoint();
    await h.gateway.triggered(4);
    h.coordinator.receiveAcknowledge(ack(h.storage, SRC, 4, 'src', 'x'));

    const stats = h.coordinator.stats();
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
    expect(stats.counts).toEqual({ restored: 0, total: 4, in_progress: 1, completed: 2, failed: 1 });
    expect(stats.history.map((e) => [e.id, e.status, e.className])).toEqual([
      [4, 'IN_PROGRESS', 'in_progress'],
      [3, 'COMPLETED', 'completed'],
      [2, 'FAILED', 'failed'],
    ]);
    expect(stats.latest.completed).toMatchObject({
      id: 1,
      status: 'COMPLETED',
      is_savepoint: false,
      checkpoint_type: 'CHECKPOINT',
      external_path: c1.dir,
      discarded: false,
      trigger_timestamp: c1.timestamp,
      end_to_end_duration: c1.completedAt - c1.timestamp,
      state_size: 10,
      checkpointed_size: 10,
      processed_data: 512,
      persisted_data: 0,
      alignment_buffered: 0,
      num_subtasks: 2,
      num_acknowledged_subtasks: 2,
      alignment_duration: 7,
      sync_duration: 3,
      async_duration: 9,
      tasks: {},
    });
    expect(stats.latest.savepoint).toMatchObject({
      id: 3,
      is_savepoint: true,
      checkpoint_type: 'SAVEPOINT',
      savepointFormat: 'CANONICAL',
      state_size: 2 * 'savepoint-state-src'.length,
    });
    expect(stats.latest.failed).toMatchObject({
      id: 2,
      status: 'FAILED',
      failure_message: 'Checkpoint was declined by task Sink (1/1) (e-sink): boom',
    });
    expect(typeof stats.latest.failed!.failure_timestamp).toBe('number');
    expect(stats.latest.restored).toBeNull();
    expect(stats.history[0]).toMatchObject({ num_acknowledged_subtasks: 1, state_size: 1 });
    expect(stats.history[0]).not.toHaveProperty('external_path');
    expect(stats.summary.state_size).toEqual({
      min: 10,
      max: 38,
      avg: 24,
      p50: 24,
      p90: 38,
      p95: 38,
      p99: 38,
      p999: 38,
    });
    expect(stats.summary.processed_data).toMatchObject({ min: 0, max: 512, avg: 256 });
    expect(Object.keys(stats.summary)).toEqual(
      expect.arrayContaining([
        'checkpointed_size',
        'state_size',
        'end_to_end_duration',
        'alignment_buffered',
        'processed_data',
        'persisted_data',
      ]),
    );
    h.coordinator.stop('test over');
    await expect(fourth).rejects.toThrow(/suspending/);
  });

  it('describes its configuration as Flink does', () => {
    const h = harness({
      mode: 'AT_LEAST_ONCE',
      interval: 5000,
      timeout: 9000,
      minPauseBetweenCheckpoints: 100,
      tolerableCheckpointFailureNumber: 3,
      maxConcurrentCheckpoints: 2,
      numRetained: 4,
    });
    expect(h.coordinator.configJson()).toMatchObject({
      mode: 'at_least_once',
      interval: 5000,
      timeout: 9000,
      min_pause: 100,
      max_concurrent: 2,
      externalization: { enabled: false, delete_on_cancellation: true },
      state_backend: 'level',
      checkpoint_storage: 'filesystem',
      tolerable_failed_checkpoints: 3,
      unaligned_checkpoints: false,
      num_retained: 4,
      checkpoint_dir: h.storage.jobDir,
    });
  });
});

describe('CheckpointCoordinator: restore', () => {
  it('restores the newest valid checkpoint, skipping damaged ones, and never reuses an id', async () => {
    const h = harness({}, 10);
    for (let i = 0; i < 5; i++) await completeOne(h, `round${i}`);
    rmSync(join(h.storage.pathOf(2), 'agg-0.state'));
    writeFileSync(join(h.storage.pathOf(3), 'src-0.state'), 'round2-srX');
    writeFileSync(join(h.storage.pathOf(4), METADATA_FILE), '{ not json');
    rmSync(join(h.storage.pathOf(5), METADATA_FILE)); // written but never completed
    mkdirSync(h.storage.pathOf(6)); // triggered, never acknowledged

    // A new coordinator over the same directory, as after a JobManager-side restart of the job.
    const restoring = harness({}, 10, 10, h.storage).coordinator;
    const restored = await restoring.restoreLatest();
    expect(restored?.dir).toBe(h.storage.pathOf(1));
    expect(restored?.metadata.checkpointId).toBe(1);
    const skipped = (await h.storage.latestValid())!.skipped.map((s) => s.reason);
    expect(skipped[0]).toMatch(/chk-4: _metadata: is not valid JSON/);
    expect(skipped[1]).toMatch(/chk-3: src-0.state: sha256 mismatch/);
    expect(skipped[2]).toMatch(/chk-2: agg-0.state: state file of operator agg subtask 0 is missing/);

    const stats = restoring.stats();
    expect(stats.counts.restored).toBe(1);
    expect(stats.latest.restored).toMatchObject({ id: 1, is_savepoint: false, external_path: h.storage.pathOf(1) });
    void restoring.triggerCheckpoint().catch(() => undefined);
    expect(restoring.stats().history[0]!.id).toBe(7);
    restoring.stop('test over');
  });

  it('refuses to start from nothing when every retained checkpoint is damaged', async () => {
    const h = harness({}, 10);
    for (let i = 0; i < 2; i++) await completeOne(h, `round${i}`);
    writeFileSync(join(h.storage.pathOf(1), METADATA_FILE), '{ not json');
    rmSync(join(h.storage.pathOf(2), 'agg-0.state'));
    const restoring = harness({}, 10, 10, h.storage).coordinator;
    await expect(restoring.restoreLatest()).rejects.toThrow(
      /none of the 2 retained checkpoint\(s\) .* can be restored/,
    );
  });

  it('restores nothing from an empty directory', async () => {
    const h = harness();
    await expect(h.coordinator.restoreLatest()).resolves.toBeUndefined();
    expect(h.coordinator.stats().counts.restored).toBe(0);
  });
});

describe('CheckpointCoordinator: savepoints', () => {
  it('writes a savepoint into its own relocatable folder under the target directory', async () => {
    const h = harness();
    const target = join(tempRoot(), 'savepoints');
    const done = h.coordinator.triggerCheckpoint({ savepoint: true, targetDirectory: target });
    const id = h.coordinator.stats().history[0]!.id;
    await h.gateway.triggered(id);
    h.coordinator.receiveAcknowledge(ack(h.storage, SRC, id, 'src', 'sp-src'));
    h.coordinator.receiveAcknowledge(ack(h.storage, SINK, id, 'agg', 'sp-agg'));
    const info = await done;
    expect(info.savepoint).toBe(true);
    expect(info.dir).toMatch(new RegExp(`^${target}/savepoint-${JOB.slice(0, 6)}-[0-9a-f]{12}$`));
    // Nothing is left in the job's checkpoint folder, and retention never sees it.
    expect(existsSync(h.storage.pathOf(id))).toBe(false);
    const meta = JSON.parse(readFileSync(join(info.dir, METADATA_FILE), 'utf8'));
    expect(meta).toMatchObject({
      savepoint: true,
      jobId: JOB,
      jobName: 'Counts',
      bundleHash: 'b'.repeat(64),
      engineVersion: '0.1.0',
    });
    expect(
      meta.operators.map((o: { operatorId: string; uid?: string; maxParallelism: number }) => [
        o.operatorId,
        o.uid,
        o.maxParallelism,
      ]),
    ).toEqual([
      ['src', undefined, 128],
      ['agg', 'counts', 128],
    ]);
    // No absolute path inside: the folder restores from anywhere.
    expect(JSON.stringify(meta)).not.toContain(target);
    expect(JSON.stringify(meta)).not.toContain(h.storage.jobDir);
    const moved = join(tempRoot(), 'elsewhere');
    renameSync(info.dir, moved);
    const restored = await loadExternalRestore(moved);
    expect(restored.metadata.checkpointId).toBe(id);
    expect(h.coordinator.stats().latest.savepoint).toMatchObject({ id, is_savepoint: true, external_path: info.dir });
  });

  it('takes savepoints and manual checkpoints without periodic checkpoints', async () => {
    const storage = new CheckpointStorage(join(tempRoot(), JOB), 1, silentLogger());
    const gateway = new FakeGateway();
    const c = new CheckpointCoordinator({
      jobId: JOB,
      settings: checkpointSettings({ interval: 0 }),
      periodic: false,
      storage,
      log: silentLogger(),
      tasks: () => ({ trigger: [SRC], ackFrom: [SRC] }),
      operators: () => [{ operatorId: 'src', name: 'Source', parallelism: 1, maxParallelism: 128 }],
      gateway,
      onFailureThresholdExceeded: () => undefined,
    });
    c.start();
    expect(c.isRunning).toBe(false);
    const done = c.triggerCheckpoint();
    await gateway.triggered(1);
    c.receiveAcknowledge(ack(storage, SRC, 1, 'src', 'x'));
    expect((await done).checkpointId).toBe(1);
    expect(c.isPeriodic).toBe(false);
  });
});
