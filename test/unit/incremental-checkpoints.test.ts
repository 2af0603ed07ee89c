// Incremental checkpoints of the level backend, end to end inside one process: the tasks'
// SubtaskCheckpointCoordinators write chains into <jobId>/shared/, the JobManager's
// CheckpointCoordinator completes, retains and collects them, and setUpOperatorState restores them,
// at the same and at other parallelisms. State is compared with a plain reference map.
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type {
  CheckpointingSettings,
  CheckpointMetadata,
  SharedStateFile,
  TaskCheckpointAck,
  TaskCheckpointSettings,
  TaskRestoreDescriptor,
} from '../../common/checkpoint.js';
import type { JobVertex } from '../../common/jobgraph.js';
import { assignToKeyGroup, keyGroupRangeFor } from '../../common/keygroups.js';
import { silentLogger } from '../../common/logging.js';
import { CheckpointCoordinator, type TaskRef } from '../../jobmanager/checkpoint/checkpoint-coordinator.js';
import { CheckpointStorage, loadCheckpointMetadata } from '../../jobmanager/checkpoint/checkpoint-storage.js';
import { loadExternalRestore } from '../../jobmanager/checkpoint/savepoint-restore.js';
import type { StreamOperator } from '../../taskmanager/operators/operator.js';
import { disposeOperatorState, setUpOperatorState } from '../../taskmanager/runtime/operator-state-setup.js';
import {
  SubtaskCheckpointCoordinator,
  type OperatorStateHolder,
} from '../../taskmanager/runtime/subtask-checkpoint.js';
import { readSnapshotFile } from '../../taskmanager/state/snapshot-file.js';
import type { KeyedEntry, KeyedStateBackend, StateMeta } from '../../taskmanager/state/types.js';
import { mulberry32 } from '../reference/random.js';

const JOB = 'abcdefabcdefabcdefabcdefabcdef01';
const MAX_P = 128;
const OP = 'op-1';
const VALUE: StateMeta = { name: 'value', kind: 'value' };
const LIST: StateMeta = { name: 'list', kind: 'list' };
const TIMERS: StateMeta = { name: '_timer-event', kind: 'raw' };

const roots: string[] = [];
afterEach(() => {
  while (roots.length) rmSync(roots.pop()!, { recursive: true, force: true });
});
function tempRoot(): string {
  const d = mkdtempSync(join(tmpdir(), 'weir-incr-'));
  roots.push(d);
  return d;
}

/** A keyed operator whose state the test sets directly; its timers are raw keyed state, as the timer service's. */
class FakeKeyedOperator {
  keyed: KeyedStateBackend | undefined;
  readonly timers = new Map<number, number>();
  async initializeState(ctx: { keyedStateBackend: KeyedStateBackend | undefined }): Promise<void> {
    this.keyed = ctx.keyedStateBackend;
  }
  prepareSnapshotPreBarrier(): void {}
  async snapshotState(): Promise<void> {}
  snapshotRawKeyedState(): { states: StateMeta[]; entries: KeyedEntry[] } | undefined {
    return { states: [TIMERS], entries: [...this.timers].map(([k, t]): KeyedEntry => ['_timer-event', k, t, null]) };
  }
  restoreRawKeyedState(_meta: StateMeta, entry: KeyedEntry): void {
    this.timers.set(entry[1] as number, entry[2] as number);
  }
  async notifyCheckpointComplete(): Promise<void> {}
  async notifyCheckpointAborted(): Promise<void> {}
}

const vertex = (parallelism: number): JobVertex =>
  ({
    id: OP,
    name: 'Keyed',
    parallelism,
    maxParallelism: MAX_P,
    numInputs: 1,
    operators: [{ id: OP, name: 'Keyed', kind: 'process', config: { keyRef: 'key' } }],
  }) as unknown as JobVertex;

interface Subtask {
  ref: TaskRef;
  op: FakeKeyedOperator;
  holders: OperatorStateHolder[];
  coordinator: SubtaskCheckpointCoordinator;
  range: { start: number; end: number };
}

/** One attempt of a job with one keyed vertex at `parallelism`, its tasks in this process. */
class Job {
  readonly subtasks: Subtask[] = [];
  coordinator!: CheckpointCoordinator;
  readonly notifications: Array<{ id: number; complete: boolean }> = [];
  /** Drop completion notifications (a task that has not heard yet). */
  muteNotifications = false;

  private constructor(
    readonly root: string,
    readonly parallelism: number,
    readonly numRetained: number,
  ) {}

  get jobDir(): string {
    return join(this.root, 'checkpoints', JOB);
  }

  static async start(
    root: string,
    parallelism: number,
    opts: { restore?: { metadata: CheckpointMetadata; dir: string }; numRetained?: number; incremental?: boolean } = {},
  ): Promise<Job> {
    const job = new Job(root, parallelism, opts.numRetained ?? 1);
    const settings: CheckpointingSettings = {
      interval: 1000,
      mode: 'EXACTLY_ONCE',
      timeout: 60_000,
      minPauseBetweenCheckpoints: 0,
      tolerableCheckpointFailureNumber: 0,
      maxConcurrentCheckpoints: 1,
      numRetained: job.numRetained,
    };
    const storage = new CheckpointStorage(job.jobDir, job.numRetained, silentLogger());
    job.coordinator = new CheckpointCoordinator({
      jobId: JOB,
      settings,
      storage,
      log: silentLogger(),
      periodic: false,
      tasks: () => ({ trigger: job.subtasks.map((s) => s.ref), ackFrom: job.subtasks.map((s) => s.ref) }),
      operators: () => [{ operatorId: OP, name: 'Keyed', parallelism, maxParallelism: MAX_P }],
      gateway: {
        trigger: async (task, checkpointId, timestamp, options) => {
          const s = job.subtasks.find((x) => x.ref.executionId === task.executionId)!;
          await s.coordinator.checkpoint({ checkpointId, timestamp, ...options }, 0, true);
        },
        notify: (tasks, checkpointId, complete) => {
          job.notifications.push({ id: checkpointId, complete });
          if (job.muteNotifications) return;
          for (const t of tasks) {
            const s = job.subtasks.find((x) => x.ref.executionId === t.executionId)!;
            void (complete ? s.coordinator.notifyComplete(checkpointId) : s.coordinator.notifyAborted(checkpointId));
          }
        },
      },
      onFailureThresholdExceeded: () => undefined,
    });
    if (opts.restore) job.coordinator.recordExternalRestore(opts.restore.metadata, opts.restore.dir);
    await job.deploy(opts.restore, opts.incremental);
    return job;
  }

  /**
   * Failover within the job, as the JobMaster does it: the tasks are gone, the JobManager picks the
   * latest completed checkpoint (restoreLatest) and deploys new tasks from it. Returns what it restored.
   */
  async failover(): Promise<{ metadata: CheckpointMetadata; dir: string }> {
    for (const s of this.subtasks.splice(0)) {
      await s.coordinator.close();
      await disposeOperatorState(s.holders);
    }
    const latest = await this.coordinator.restoreLatest();
    if (!latest) throw new Error('no checkpoint to fail over to');
    await this.deploy(latest, undefined);
    return latest;
  }

  private async deploy(
    from: { metadata: CheckpointMetadata; dir: string } | undefined,
    incremental: boolean | undefined,
  ): Promise<void> {
    const { parallelism, root } = this;
    const taskSettings: TaskCheckpointSettings = {
      periodic: true,
      jobDir: this.jobDir,
      mode: 'EXACTLY_ONCE',
      stateBackend: 'level',
      ...(incremental === undefined ? {} : { incremental }),
    };
    for (let i = 0; i < parallelism; i++) {
      const range = keyGroupRangeFor(MAX_P, parallelism, i);
      const op = new FakeKeyedOperator();
      const ref: TaskRef = {
        executionId: `e-${parallelism}-${i}-${Math.random()}`,
        taskManagerId: 'tm',
        taskName: `Keyed (${i + 1}/${parallelism})`,
      };
      let restore: TaskRestoreDescriptor | undefined;
      if (from) {
        const m = from.metadata.operators.find((o) => o.operatorId === OP)!;
        restore = {
          checkpointId: from.metadata.checkpointId,
          dir: from.dir,
          operators: { [OP]: { parallelism: m.parallelism, maxParallelism: m.maxParallelism, subtasks: m.subtasks } },
        };
      }
      const holders = await setUpOperatorState({
        vertex: vertex(parallelism),
        operators: [op as unknown as StreamOperator],
        subtaskIndex: i,
        parallelism,
        keyGroupRange: range,
        backendType: 'level',
        stateDir: join(root, 'tm', `${ref.executionId}`),
        restore,
        checkpointing: taskSettings,
      });
      const coordinator = new SubtaskCheckpointCoordinator({
        jobId: JOB,
        executionId: ref.executionId,
        subtaskIndex: i,
        maxParallelism: MAX_P,
        keyGroupRange: range,
        settings: taskSettings,
        holders,
        writers: [],
        acknowledge: (ack: TaskCheckpointAck) => this.coordinator.receiveAcknowledge(ack),
        decline: (id, reason) => this.coordinator.receiveDecline(ref.executionId, id, reason),
        log: silentLogger(),
      });
      this.subtasks.push({ ref, op, holders, coordinator, range });
    }
  }

  private owner(key: number): Subtask {
    // Every subtask's backend knows its key groups; the first that accepts the key owns it.
    for (const s of this.subtasks) {
      const kg = keyGroupOf(key);
      if (kg >= s.range.start && kg <= s.range.end) return s;
    }
    throw new Error(`no subtask for key ${key}`);
  }

  put(key: number, value: unknown, list?: unknown[]): void {
    const b = this.owner(key).op.keyed!;
    b.setCurrentKey(key);
    b.getTable(VALUE).put('', value);
    if (list) b.getTable(LIST).put(`ns-${key % 3}`, list);
  }

  remove(key: number): void {
    const b = this.owner(key).op.keyed!;
    b.setCurrentKey(key);
    b.getTable(VALUE).remove('');
    b.getTable(LIST).remove(`ns-${key % 3}`);
  }

  setTimer(key: number, time: number | undefined): void {
    const op = this.owner(key).op;
    if (time === undefined) op.timers.delete(key);
    else op.timers.set(key, time);
  }

  checkpoint(savepoint?: string): ReturnType<CheckpointCoordinator['triggerCheckpoint']> {
    return this.coordinator.triggerCheckpoint(savepoint ? { savepoint: true, targetDirectory: savepoint } : {});
  }

  /** Everything the backends and timer maps hold, as the reference map's entries. */
  async contents(): Promise<{ values: Map<string, unknown>; timers: Map<number, number> }> {
    const values = new Map<string, unknown>();
    const timers = new Map<number, number>();
    for (const s of this.subtasks) {
      const snap = s.op.keyed!.snapshot();
      for await (const c of snap.chunks())
        for (const e of c.entries) values.set(`${e[0]}|${JSON.stringify(e[1])}|${String(e[2])}`, e[3]);
      snap.release();
      for (const [k, t] of s.op.timers) timers.set(k, t);
    }
    return { values, timers };
  }

  async stop(): Promise<void> {
    for (const s of this.subtasks) {
      await s.coordinator.close();
      await disposeOperatorState(s.holders);
    }
    this.coordinator.dispose();
  }
}

const keyGroupOf = (key: number): number => assignToKeyGroup(key, MAX_P);

/** The plain reference: what the job's state must be. */
class Reference {
  readonly values = new Map<string, unknown>();
  readonly timers = new Map<number, number>();
  put(key: number, value: unknown, list?: unknown[]): void {
    this.values.set(`value|${key}|`, value);
    if (list) this.values.set(`list|${key}|ns-${key % 3}`, list);
  }
  remove(key: number): void {
    this.values.delete(`value|${key}|`);
    this.values.delete(`list|${key}|ns-${key % 3}`);
  }
}

/** Random puts, overwrites, deletes and timer changes, applied to the job and the reference alike. */
function mutate(job: Job, ref: Reference, rnd: () => number, changes: number, keys: number, round: number): void {
  for (let i = 0; i < changes; i++) {
    const key = Math.floor(rnd() * keys);
    const r = rnd();
    if (r < 0.2) {
      job.remove(key);
      ref.remove(key);
    } else if (r < 0.3) {
      const t = rnd() < 0.5 ? undefined : round * 1000 + i;
      job.setTimer(key, t);
      if (t === undefined) ref.timers.delete(key);
      else ref.timers.set(key, t);
    } else {
      const list = rnd() < 0.5 ? [round, i, 'x'.repeat(Math.floor(rnd() * 20))] : undefined;
      const value = { round, i, s: 'v'.repeat(Math.floor(rnd() * 50)) };
      job.put(key, value, list);
      ref.put(key, value, list);
    }
  }
}

/** The start of a chain: a full checkpoint after `fullChanges` random writes, then a delta of `deltaChanges`. */
async function fullThenDelta(
  job: Job,
  ref: Reference,
  rnd: () => number,
  fullChanges: number,
  deltaChanges: number,
  keys: number,
): ReturnType<Job['checkpoint']> {
  mutate(job, ref, rnd, fullChanges, keys, 0);
  await job.checkpoint();
  mutate(job, ref, rnd, deltaChanges, keys, 1);
  return job.checkpoint();
}

/** A job's chain to restore from: starts the job, writes its full checkpoint and a delta, stops it. */
async function chainOfStoppedJob(
  root: string,
  parallelism: number,
  ref: Reference,
  rnd: () => number,
  fullChanges: number,
  deltaChanges: number,
  keys: number,
): Promise<string> {
  const job = await Job.start(root, parallelism);
  try {
    return (await fullThenDelta(job, ref, rnd, fullChanges, deltaChanges, keys)).dir;
  } finally {
    await job.stop();
  }
}

async function expectSame(job: Job, ref: Reference): Promise<void> {
  const got = await job.contents();
  expect(got.values.size).toBe(ref.values.size);
  expect(Object.fromEntries(got.values)).toEqual(Object.fromEntries(ref.values));
  expect(Object.fromEntries(got.timers)).toEqual(Object.fromEntries(ref.timers));
}

const sharedFiles = (job: Job): string[] =>
  existsSync(join(job.jobDir, 'shared')) ? readdirSync(join(job.jobDir, 'shared')).sort() : [];

describe('incremental checkpoints of the level backend', () => {
  it('writes a full file, then deltas; a chain with puts, deletes and timers restores at the same and other parallelisms', async () => {
    const root = tempRoot();
    const rnd = mulberry32(13);
    const ref = new Reference();
    const job = await Job.start(root, 2, { numRetained: 2 });
    const infos = [];
    try {
      mutate(job, ref, rnd, 3000, 1000, 0);
      for (let round = 1; round <= 6; round++) {
        const info = await job.checkpoint();
        infos.push(info);
        mutate(job, ref, rnd, 150, 1000, round);
      }
      // The state after the last mutation is not in a checkpoint: take one more and compare with that.
      infos.push(await job.checkpoint());
    } finally {
      await job.stop();
    }
    const last = infos[infos.length - 1]!;
    const meta = await loadCheckpointMetadata(last.dir);
    for (const h of meta.operators[0]!.subtasks) {
      const chain = h.shared!;
      expect(chain[0]!.delta).toBe(false);
      expect(chain.slice(1).every((f) => f.delta)).toBe(true);
      expect(chain.length).toBeGreaterThan(1);
    }
    // After the first (full) checkpoint, each writes a fraction of the state.
    expect(infos[0]!.stateSize).toBeGreaterThan(0);
    expect(meta.checkpointedSize!).toBeLessThan(meta.stateSize / 3);

    for (const parallelism of [2, 3, 1]) {
      const restored = await Job.start(root, parallelism, { restore: { metadata: meta, dir: last.dir } });
      try {
        await expectSame(restored, ref);
      } finally {
        await restored.stop();
      }
    }
  });

  it('a restored job and a job at another parallelism go on checkpointing incrementally on their own files', async () => {
    const root = tempRoot();
    const rnd = mulberry32(7);
    const ref = new Reference();
    let job = await Job.start(root, 2);
    mutate(job, ref, rnd, 2000, 800, 0);
    await job.checkpoint();
    mutate(job, ref, rnd, 100, 800, 1);
    let info = await job.checkpoint();
    await job.stop();
    for (const parallelism of [3, 2]) {
      job = await Job.start(root, parallelism, {
        restore: { metadata: await loadCheckpointMetadata(info.dir), dir: info.dir },
      });
      try {
        await expectSame(job, ref);
        for (let round = 0; round < 3; round++) {
          mutate(job, ref, rnd, 100, 800, 10 + round);
          info = await job.checkpoint();
        }
      } finally {
        await job.stop();
      }
    }
    const restored = await Job.start(root, 1, {
      restore: { metadata: await loadCheckpointMetadata(info.dir), dir: info.dir },
    });
    try {
      await expectSame(restored, ref);
    } finally {
      await restored.stop();
    }
  });

  it('deletes shared files once no retained checkpoint refers to them, and all of them when the job ends', async () => {
    const root = tempRoot();
    const rnd = mulberry32(3);
    const ref = new Reference();
    const job = await Job.start(root, 2, { numRetained: 2 });
    try {
      mutate(job, ref, rnd, 1500, 500, 0);
      const first = await job.checkpoint();
      const firstFiles = new Set(
        (await loadCheckpointMetadata(first.dir)).operators[0]!.subtasks.flatMap((h) => h.shared!.map((f) => f.name)),
      );
      expect(firstFiles.size).toBe(2);
      // Enough rounds that the deltas outweigh the full files and a new full file starts each chain.
      let sawRebase = false;
      for (let round = 1; round <= 12; round++) {
        mutate(job, ref, rnd, 400, 500, round);
        const info = await job.checkpoint();
        const meta = await loadCheckpointMetadata(info.dir);
        // Exactly the files the retained checkpoints refer to are on disk.
        const retained = readdirSync(job.jobDir).filter((n) => n.startsWith('chk-'));
        expect(retained.length).toBeLessThanOrEqual(2);
        const referenced = new Set<string>();
        for (const d of retained)
          for (const h of (await loadCheckpointMetadata(join(job.jobDir, d))).operators[0]!.subtasks)
            for (const f of h.shared!) referenced.add(f.name);
        expect(sharedFiles(job)).toEqual([...referenced].sort());
        if (meta.operators[0]!.subtasks.every((h) => h.shared!.length === 1) && round > 1) sawRebase = true;
      }
      expect(sawRebase).toBe(true);
      // The first full files were replaced by newer ones and deleted.
      for (const f of firstFiles) expect(sharedFiles(job)).not.toContain(f);
      const last = await job.checkpoint();
      await expectSameAfterRestore(root, last.dir, ref);
      await job.coordinator.shutdown('CANCELED');
      expect(existsSync(job.jobDir)).toBe(false);
    } finally {
      await job.stop();
    }
  });

  it('a savepoint of a job with incremental checkpoints is self-contained', async () => {
    const root = tempRoot();
    const rnd = mulberry32(5);
    const ref = new Reference();
    const job = await Job.start(root, 2);
    const atSavepoint = new Reference();
    let savepointDir: string;
    try {
      await fullThenDelta(job, ref, rnd, 1500, 100, 600);
      mutate(job, ref, rnd, 100, 600, 2);
      atSavepoint.values.clear();
      for (const [k, v] of ref.values) atSavepoint.values.set(k, v);
      for (const [k, v] of ref.timers) atSavepoint.timers.set(k, v);
      const sp = await job.checkpoint(join(root, 'savepoints'));
      savepointDir = sp.dir;
      const meta = await loadCheckpointMetadata(sp.dir);
      expect(meta.savepoint).toBe(true);
      expect(meta.operators[0]!.subtasks.every((h) => h.shared === undefined)).toBe(true);
      // Checkpoints after the savepoint still build on the chain.
      mutate(job, ref, rnd, 50, 600, 3);
      const after = await loadCheckpointMetadata((await job.checkpoint()).dir);
      expect(after.operators[0]!.subtasks.every((h) => h.shared!.length > 1)).toBe(true);
    } finally {
      await job.stop();
    }
    // Delete every checkpoint of the job: the savepoint restores on its own.
    rmSync(join(root, 'checkpoints'), { recursive: true, force: true });
    const external = await loadExternalRestore(savepointDir);
    const restored = await Job.start(join(root, 'again'), 3, { restore: external });
    try {
      await expectSame(restored, atSavepoint);
    } finally {
      await restored.stop();
    }
  });

  it('a missing or damaged shared file is reported clearly', async () => {
    const root = tempRoot();
    const rnd = mulberry32(9);
    const ref = new Reference();
    const dir = await chainOfStoppedJob(root, 1, ref, rnd, 500, 50, 300);
    const meta = await loadCheckpointMetadata(dir);
    const [full, delta] = meta.operators[0]!.subtasks[0]!.shared!;
    // The job's shared folder, beside its chk-<n> folders.
    const shared = join(dirname(dir), 'shared');
    truncateSync(join(shared, delta!.name), 10);
    await expect(loadCheckpointMetadata(dir)).rejects.toThrow(
      new RegExp(`shared/${delta!.name}: has 10 bytes, _metadata records ${delta!.size}`),
    );
    rmSync(join(shared, full!.name));
    await expect(loadCheckpointMetadata(dir)).rejects.toThrow(
      /shared\/.*\.full: incremental state file of operator op-1 subtask 0 \(written by checkpoint \d+\) is missing/,
    );
    await expect(loadExternalRestore(dir)).rejects.toThrow(/cannot restore from .*is missing/);
    // The task side says as much when handed the chain directly.
    writeFileSync(join(shared, full!.name), 'not msgpack at all');
    await expect(Job.start(join(root, 'x'), 1, { restore: { metadata: meta, dir } })).rejects.toThrow(
      /state file .*\.full is damaged|sha256/,
    );
  });

  it('a checkpoint whose base was deleted before it completed is aborted without failing the job, and the next one is full', async () => {
    const root = tempRoot();
    const rnd = mulberry32(11);
    const ref = new Reference();
    const job = await Job.start(root, 1);
    try {
      mutate(job, ref, rnd, 500, 300, 0);
      const first = await job.checkpoint();
      // As if checkpoint 1 had been subsumed and its files deleted before the task heard of it.
      const base = (await loadCheckpointMetadata(first.dir)).operators[0]!.subtasks[0]!.shared![0]!;
      rmSync(join(job.jobDir, 'shared', base.name));
      mutate(job, ref, rnd, 50, 300, 1);
      await expect(job.checkpoint()).rejects.toThrow(/Incremental state it builds on was deleted/);
      expect(job.coordinator.stats().counts.failed).toBe(1);
      const next = await job.checkpoint();
      const meta = await loadCheckpointMetadata(next.dir);
      expect(meta.operators[0]!.subtasks[0]!.shared!.map((f) => f.delta)).toEqual([false]);
      await expectSameAfterRestore(root, next.dir, ref);
    } finally {
      await job.stop();
    }
  });

  it('when every live entry changed since the last checkpoint, the changes are written as a new full file', async () => {
    const root = tempRoot();
    const rnd = mulberry32(21);
    const ref = new Reference();
    const job = await Job.start(root, 2);
    let dir: string;
    try {
      const second = await loadCheckpointMetadata((await fullThenDelta(job, ref, rnd, 800, 40, 300)).dir);
      expect(second.operators[0]!.subtasks.every((h) => h.shared!.length === 2)).toBe(true);
      // Rewrite every live entry (values and lists), and delete a few keys.
      const keys = new Set([...ref.values.keys()].map((k) => Number(k.split('|')[1])));
      for (const k of keys) {
        const list = ref.values.get(`list|${k}|ns-${k % 3}`) as unknown[] | undefined;
        const value = { hot: k };
        job.put(k, value, list ? [...list, 'again'] : undefined);
        ref.put(k, value, list ? [...list, 'again'] : undefined);
      }
      for (const k of [...keys].slice(0, 5)) {
        job.remove(k);
        ref.remove(k);
      }
      dir = (await job.checkpoint()).dir;
      const third = await loadCheckpointMetadata(dir);
      expect(third.operators[0]!.subtasks.every((h) => h.shared!.length === 1 && !h.shared![0]!.delta)).toBe(true);
    } finally {
      await job.stop();
    }
    await expectSameAfterRestore(root, dir, ref);
  });

  it('a delta is refused when read as a state file of its own', async () => {
    const root = tempRoot();
    const job = await Job.start(root, 1);
    let dir: string;
    try {
      mutate(job, new Reference(), mulberry32(2), 200, 100, 0);
      await job.checkpoint();
      mutate(job, new Reference(), mulberry32(4), 20, 100, 1);
      dir = (await job.checkpoint()).dir;
    } finally {
      await job.stop();
    }
    const delta = (await loadCheckpointMetadata(dir)).operators[0]!.subtasks[0]!.shared!.find((f) => f.delta)!;
    await expect(readSnapshotFile(join(job.jobDir, 'shared', delta.name))).rejects.toThrow(
      /is a delta of an incremental checkpoint, readable only with the files before it in its chain/,
    );
    const read = await readSnapshotFile(join(job.jobDir, 'shared', delta.name), { allowDelta: true });
    let removed = 0;
    for await (const c of read.chunks()) removed += c.removed?.length ?? 0;
    expect(removed).toBeGreaterThan(0);
  });

  it('state.backend.incremental false writes full canonical files into chk-<n> as before', async () => {
    const root = tempRoot();
    const ref = new Reference();
    const job = await Job.start(root, 2, { incremental: false });
    try {
      mutate(job, ref, mulberry32(1), 300, 200, 0);
      const info = await job.checkpoint();
      const meta = await loadCheckpointMetadata(info.dir);
      expect(meta.operators[0]!.subtasks.every((h) => h.shared === undefined)).toBe(true);
      expect(sharedFiles(job)).toEqual([]);
      await expectSameAfterRestore(root, info.dir, ref);
    } finally {
      await job.stop();
    }
  });
});

/** Per subtask index: the shared files of the operator's keyed state in a checkpoint. */
async function chainsOf(dir: string): Promise<Map<number, SharedStateFile[]>> {
  const meta = await loadCheckpointMetadata(dir);
  return new Map(meta.operators[0]!.subtasks.map((h) => [h.subtaskIndex, h.shared!]));
}

/** The names of the shared files the job's completed checkpoints on disk refer to. */
async function referencedFiles(job: Job): Promise<string[]> {
  const names = new Set<string>();
  for (const d of readdirSync(job.jobDir).filter((n) => n.startsWith('chk-')))
    for (const h of (await loadCheckpointMetadata(join(job.jobDir, d))).operators[0]!.subtasks)
      for (const f of h.shared ?? []) names.add(f.name);
  return [...names].sort();
}

const deltaBytesOf = (chain: SharedStateFile[]): number => chain.slice(1).reduce((n, f) => n + f.size, 0);

describe('incremental checkpoints after a failover restore', () => {
  const KEYS = 20_000;

  it('the first checkpoint after a failover is a delta on the restored chain, and the new chain restores exactly', async () => {
    const root = tempRoot();
    const rnd = mulberry32(17);
    const ref = new Reference();
    const job = await Job.start(root, 2, { numRetained: 1 });
    try {
      const second = await fullThenDelta(job, ref, rnd, 2 * KEYS, KEYS / 100, KEYS);
      const restoredChains = await chainsOf(second.dir);
      expect([...restoredChains.values()].every((c) => c.length === 2 && c[1]!.delta)).toBe(true);

      const restored = await job.failover();
      expect(restored.metadata.checkpointId).toBe(second.checkpointId);
      await expectSame(job, ref);
      mutate(job, ref, rnd, KEYS / 100, KEYS, 2);
      const third = await job.checkpoint();
      const meta = await loadCheckpointMetadata(third.dir);
      for (const [subtask, chain] of await chainsOf(third.dir)) {
        const before = restoredChains.get(subtask)!;
        // The restored files are shared by reference; only the post-restore writes are new.
        expect(chain.slice(0, -1)).toEqual(before);
        const delta = chain[chain.length - 1]!;
        expect(delta).toMatchObject({ delta: true, checkpointId: third.checkpointId });
        expect(delta.name).toMatch(/\.delta$/);
        expect(delta.size).toBeLessThan(chain[0]!.size / 20);
      }
      expect(meta.checkpointedSize!).toBeLessThan(meta.stateSize / 10);
      // num-retained 1: the restored checkpoint is gone, the files its chain shares with the new one are not.
      expect(existsSync(second.dir)).toBe(false);
      expect(sharedFiles(job)).toEqual(await referencedFiles(job));
      for (const chain of restoredChains.values()) for (const f of chain) expect(sharedFiles(job)).toContain(f.name);
      // Full file, the old delta and the new one: exactly the reference.
      await expectSameAfterRestore(root, third.dir, ref);
    } finally {
      await job.stop();
    }
  });

  it('after each failover the chain goes on until its deltas outweigh the full file; unused files are deleted', async () => {
    const root = tempRoot();
    const rnd = mulberry32(23);
    const ref = new Reference();
    const job = await Job.start(root, 2, { numRetained: 2 });
    let continued = 0;
    let rebased = 0;
    let last: string;
    try {
      mutate(job, ref, rnd, KEYS, KEYS / 4, 0);
      last = (await job.checkpoint()).dir;
      const firstFull = [...(await chainsOf(last)).values()].map((c) => c[0]!.name);
      for (let round = 1; round <= 10; round++) {
        const restored = await job.failover();
        expect(restored.dir).toBe(last);
        const before = await chainsOf(restored.dir);
        mutate(job, ref, rnd, KEYS / 20, KEYS / 4, round);
        const info = await job.checkpoint();
        for (const [subtask, chain] of await chainsOf(info.dir)) {
          const base = before.get(subtask)!;
          if (deltaBytesOf(base) <= base[0]!.size) {
            expect(chain).toEqual([...base, expect.objectContaining({ delta: true, checkpointId: info.checkpointId })]);
            continued++;
          } else {
            // Too long a chain: a new full file, as without a failover.
            expect(chain).toEqual([expect.objectContaining({ delta: false, checkpointId: info.checkpointId })]);
            rebased++;
          }
        }
        // Exactly the files the retained checkpoints refer to are on disk.
        expect(sharedFiles(job)).toEqual(await referencedFiles(job));
        last = info.dir;
      }
      expect(continued).toBeGreaterThan(0);
      expect(rebased).toBeGreaterThan(0);
      for (const f of firstFull) expect(sharedFiles(job)).not.toContain(f);
    } finally {
      await job.stop();
    }
    await expectSameAfterRestore(root, last, ref);
  });

  it('an aborted first delta after a failover makes the next checkpoint full', async () => {
    const root = tempRoot();
    const rnd = mulberry32(29);
    const ref = new Reference();
    const job = await Job.start(root, 2);
    try {
      await fullThenDelta(job, ref, rnd, KEYS / 4, 100, KEYS / 4);
      const restored = await job.failover();
      // As if the restored checkpoint's delta had been deleted under the tasks.
      const gone = (await chainsOf(restored.dir)).get(0)![1]!;
      rmSync(join(job.jobDir, 'shared', gone.name));
      mutate(job, ref, rnd, 100, KEYS / 4, 2);
      await expect(job.checkpoint()).rejects.toThrow(/Incremental state it builds on was deleted/);
      await vi.waitFor(() => expect(job.notifications.some((n) => !n.complete)).toBe(true));
      const next = await job.checkpoint();
      for (const chain of (await chainsOf(next.dir)).values())
        expect(chain.map((f) => [f.delta, f.checkpointId])).toEqual([[false, next.checkpointId]]);
      await expectSameAfterRestore(root, next.dir, ref);
    } finally {
      await job.stop();
    }
  });

  it("a restore into another job (-s) or at another parallelism writes a full first checkpoint (Flink's NO_CLAIM)", async () => {
    const root = tempRoot();
    const rnd = mulberry32(31);
    const ref = new Reference();
    const dir = await chainOfStoppedJob(root, 2, ref, rnd, KEYS / 4, 100, KEYS / 4);
    const atDir = new Reference();
    for (const [k, v] of ref.values) atDir.values.set(k, v);
    for (const [k, t] of ref.timers) atDir.timers.set(k, t);
    const old = await chainsOf(dir);
    const other = join(root, 'other');
    // Same parallelism, same key groups, but the chain is in another job's folder.
    let job = await Job.start(other, 2, { restore: await loadExternalRestore(dir) });
    try {
      await expectSame(job, ref);
      mutate(job, ref, rnd, 100, KEYS / 4, 2);
      const first = await job.checkpoint();
      for (const chain of (await chainsOf(first.dir)).values())
        expect(chain.map((f) => [f.delta, f.checkpointId])).toEqual([[false, first.checkpointId]]);
      const names = new Set([...old.values()].flat().map((f) => f.name));
      expect(sharedFiles(job).some((n) => names.has(n))).toBe(false);
    } finally {
      await job.stop();
    }
    // The job's own checkpoint, at parallelism 3: each subtask restores parts of two chains.
    job = await Job.start(root, 3, { restore: { metadata: await loadCheckpointMetadata(dir), dir } });
    try {
      await expectSame(job, atDir);
      const first = await job.checkpoint();
      for (const chain of (await chainsOf(first.dir)).values()) expect(chain.map((f) => f.delta)).toEqual([false]);
    } finally {
      await job.stop();
    }
  });
});

async function expectSameAfterRestore(root: string, dir: string, ref: Reference): Promise<void> {
  const restored = await Job.start(join(root, `restore-${Math.random()}`), 2, {
    restore: { metadata: await loadCheckpointMetadata(dir), dir },
  });
  try {
    await expectSame(restored, ref);
  } finally {
    await restored.stop();
  }
}
