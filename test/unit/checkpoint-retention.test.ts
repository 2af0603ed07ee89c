// What happens to a job's checkpoints when it ends (Flink's externalized checkpoint retention), and
// the sweep of aborted checkpoints whose files a dead or canceled task left behind.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  ExternalizedCheckpointRetention,
  OperatorSubtaskStateHandle,
  TaskCheckpointAck,
} from '../../common/checkpoint.js';
import { Configuration } from '../../common/config.js';
import { silentLogger } from '../../common/logging.js';
import {
  CheckpointCoordinator,
  type CheckpointGateway,
  type TaskRef,
} from '../../jobmanager/checkpoint/checkpoint-coordinator.js';
import {
  discardsOnJobEnd,
  externalizationJson,
  type TerminalJobStatus,
} from '../../jobmanager/checkpoint/checkpoint-retention.js';
import { SampleWindow } from '../../jobmanager/checkpoint/checkpoint-stats.js';
import { CheckpointStorage, METADATA_FILE } from '../../jobmanager/checkpoint/checkpoint-storage.js';
import { jobCheckpointSettings } from '../../jobmanager/checkpoint/checkpointing-settings.js';
import { checkpointSettings } from '../helpers/checkpoint-settings.js';

const JOB = 'fedcba9876543210fedcba9876543210';
const SRC: TaskRef = { executionId: 'e-src', taskManagerId: 'tm-1', taskName: 'Source (1/1)' };

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
function tempRoot(): string {
  const r = mkdtempSync(join(tmpdir(), 'weir-retention-'));
  roots.push(r);
  return r;
}

class Gateway implements CheckpointGateway {
  readonly triggered = new Set<number>();
  async trigger(_t: TaskRef, id: number): Promise<void> {
    this.triggered.add(id);
  }
  notify(): void {}
}

function coordinatorFor(retention: ExternalizedCheckpointRetention | undefined, numRetained = 2) {
  const root = tempRoot();
  const storage = new CheckpointStorage(join(root, 'checkpoints', JOB), numRetained, silentLogger());
  const gateway = new Gateway();
  let running = true;
  const settings = checkpointSettings({
    numRetained,
    ...(retention ? { externalizedCheckpointRetention: retention } : {}),
  });
  const coordinator = new CheckpointCoordinator({
    jobId: JOB,
    settings,
    storage,
    log: silentLogger(),
    tasks: () => (running ? { trigger: [SRC], ackFrom: [SRC] } : null),
    operators: () => [{ operatorId: 'src', name: 'Source', parallelism: 1, maxParallelism: 128 }],
    gateway,
    onFailureThresholdExceeded: () => undefined,
    lateSweepDelayMs: 50,
  });
  return { root, storage, gateway, coordinator, stopTasks: () => (running = false) };
}

function ack(storage: CheckpointStorage, checkpointId: number, content: string): TaskCheckpointAck {
  const dir = storage.pathOf(checkpointId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'src-0.state'), content);
  const bytes = Buffer.from(content);
  const handle: OperatorSubtaskStateHandle = {
    operatorId: 'src',
    subtaskIndex: 0,
    file: 'src-0.state',
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    keyGroupRange: null,
    operatorStates: [],
  };
  return {
    jobId: JOB,
    executionId: SRC.executionId,
    checkpointId,
    handles: [handle],
    syncDurationMs: 1,
    asyncDurationMs: 1,
    alignmentDurationMs: 0,
  };
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Completes `n` checkpoints; returns their directories. */
async function complete(h: ReturnType<typeof coordinatorFor>, n: number): Promise<string[]> {
  const dirs: string[] = [];
  for (let i = 0; i < n; i++) {
    const done = h.coordinator.triggerCheckpoint();
    const id = h.coordinator.stats().history[0]!.id;
    await until(() => h.gateway.triggered.has(id));
    h.coordinator.receiveAcknowledge(ack(h.storage, id, `state-${id}`));
    dirs.push((await done).dir);
  }
  return dirs;
}

describe('externalized checkpoint retention: which job ends delete the retained checkpoints (as Flink)', () => {
  const table: Array<[ExternalizedCheckpointRetention, TerminalJobStatus, boolean]> = [
    ['NO_EXTERNALIZED_CHECKPOINTS', 'FINISHED', true],
    ['NO_EXTERNALIZED_CHECKPOINTS', 'CANCELED', true],
    ['NO_EXTERNALIZED_CHECKPOINTS', 'FAILED', true],
    ['DELETE_ON_CANCELLATION', 'FINISHED', true],
    ['DELETE_ON_CANCELLATION', 'CANCELED', true],
    ['DELETE_ON_CANCELLATION', 'FAILED', false],
    ['RETAIN_ON_CANCELLATION', 'FINISHED', true],
    ['RETAIN_ON_CANCELLATION', 'CANCELED', false],
    ['RETAIN_ON_CANCELLATION', 'FAILED', false],
  ];
  it.each(table)('%s, job %s: deleted %s', (retention, status, deleted) => {
    expect(discardsOnJobEnd(retention, status)).toBe(deleted);
  });

  it("reports Flink's externalization fields", () => {
    expect(externalizationJson('NO_EXTERNALIZED_CHECKPOINTS')).toEqual({
      enabled: false,
      delete_on_cancellation: true,
    });
    expect(externalizationJson('DELETE_ON_CANCELLATION')).toEqual({ enabled: true, delete_on_cancellation: true });
    expect(externalizationJson('RETAIN_ON_CANCELLATION')).toEqual({ enabled: true, delete_on_cancellation: false });
  });

  it('takes the cluster key (case-insensitive, as Flink enums) unless the job sets one; the default is NO_EXTERNALIZED_CHECKPOINTS', () => {
    const key = 'execution.checkpointing.externalized-checkpoint-retention';
    expect(jobCheckpointSettings(undefined, new Configuration()).externalizedCheckpointRetention).toBeUndefined();
    expect(coordinatorFor(undefined).coordinator.configJson()).toMatchObject({
      externalization: { enabled: false, delete_on_cancellation: true },
      externalized_checkpoint_retention: 'NO_EXTERNALIZED_CHECKPOINTS',
    });
    expect(
      jobCheckpointSettings(undefined, new Configuration({ [key]: 'retain_on_cancellation' }))
        .externalizedCheckpointRetention,
    ).toBe('RETAIN_ON_CANCELLATION');
    expect(
      jobCheckpointSettings(
        { externalizedCheckpointRetention: 'DELETE_ON_CANCELLATION' },
        new Configuration({ [key]: 'RETAIN_ON_CANCELLATION' }),
      ).externalizedCheckpointRetention,
    ).toBe('DELETE_ON_CANCELLATION');
    expect(new Configuration({ [key]: 'KEEP_THEM' }).validate()).toEqual([expect.stringContaining(key)]);
  });
});

describe('CheckpointCoordinator.shutdown', () => {
  it('deletes the retained checkpoints of a canceled job under DELETE_ON_CANCELLATION, never a savepoint, and says so in the statistics at once', async () => {
    const h = coordinatorFor('DELETE_ON_CANCELLATION');
    const dirs = await complete(h, 3);
    expect(existsSync(dirs[0]!)).toBe(false); // subsumed (num-retained 2)
    expect(dirs.slice(1).every((d) => existsSync(join(d, METADATA_FILE)))).toBe(true);
    // A savepoint lives elsewhere and stays.
    const spDir = join(h.root, 'savepoints');
    const sp = h.coordinator.triggerCheckpoint({ savepoint: true, targetDirectory: spDir });
    const spId = h.coordinator.stats().history[0]!.id;
    await until(() => h.gateway.triggered.has(spId));
    h.coordinator.receiveAcknowledge(ack(h.storage, spId, 'sp'));
    const savepoint = (await sp).dir;
    expect(h.coordinator.configJson()).toMatchObject({
      externalization: { enabled: true, delete_on_cancellation: true },
    });

    const cleanup = h.coordinator.shutdown('CANCELED');
    const stats = h.coordinator.stats();
    expect(stats.latest.completed).toMatchObject({ external_path: dirs[2], discarded: true });
    expect(stats.latest.savepoint).toMatchObject({ external_path: savepoint, discarded: false });
    await cleanup;
    expect(dirs.some((d) => existsSync(d))).toBe(false);
    expect(existsSync(h.storage.jobDir)).toBe(false);
    expect(existsSync(join(savepoint, METADATA_FILE))).toBe(true);
    // An ended job takes no more checkpoints.
    await expect(h.coordinator.triggerCheckpoint()).rejects.toThrow(/not all tasks are running/);
  });

  it('keeps the latest checkpoint of a canceled job under RETAIN_ON_CANCELLATION (it can be resumed with -s)', async () => {
    const h = coordinatorFor('RETAIN_ON_CANCELLATION');
    const dirs = await complete(h, 2);
    await h.coordinator.shutdown('CANCELED');
    expect(dirs.every((d) => existsSync(join(d, METADATA_FILE)))).toBe(true);
    expect(h.coordinator.stats().latest.completed).toMatchObject({ external_path: dirs[1], discarded: false });
    expect(h.coordinator.configJson()).toMatchObject({
      externalization: { enabled: true, delete_on_cancellation: false },
    });
  });

  it('keeps a failed job’s checkpoints under DELETE_ON_CANCELLATION and deletes them under the default', async () => {
    const keep = coordinatorFor('DELETE_ON_CANCELLATION');
    const kept = await complete(keep, 1);
    await keep.coordinator.shutdown('FAILED');
    expect(existsSync(join(kept[0]!, METADATA_FILE))).toBe(true);

    const drop = coordinatorFor(undefined);
    const dropped = await complete(drop, 1);
    await drop.coordinator.shutdown('FAILED');
    expect(existsSync(dropped[0]!)).toBe(false);
  });

  it("deletes a finished job's checkpoints whatever the retention", async () => {
    const h = coordinatorFor('RETAIN_ON_CANCELLATION');
    const dirs = await complete(h, 1);
    await h.coordinator.shutdown('FINISHED');
    expect(existsSync(dirs[0]!)).toBe(false);
    expect(h.coordinator.stats().latest.completed).toMatchObject({ discarded: true });
  });
});

describe('sweep of aborted checkpoints', () => {
  it('removes chk-<n> without _metadata that no pending checkpoint uses, never a completed one', async () => {
    const storage = new CheckpointStorage(join(tempRoot(), JOB), 1, silentLogger());
    mkdirSync(storage.pathOf(1), { recursive: true });
    writeFileSync(join(storage.pathOf(1), METADATA_FILE), '{}');
    mkdirSync(storage.pathOf(2));
    writeFileSync(join(storage.pathOf(2), 'op-a-0.state'), 'orphan');
    mkdirSync(storage.pathOf(3));
    writeFileSync(join(storage.pathOf(3), 'op-a-0.state'), 'pending');
    mkdirSync(join(storage.jobDir, 'not-a-checkpoint'));
    expect(await storage.removeIncomplete((id) => id === 3)).toEqual([2]);
    expect(readdirSync(storage.jobDir).sort()).toEqual(['chk-1', 'chk-3', 'not-a-checkpoint']);
  });

  it('cleans up after a task that wrote its files after the abort and died without acknowledging: at restart, at the end, and once more later', async () => {
    const h = coordinatorFor('RETAIN_ON_CANCELLATION');
    const [kept] = await complete(h, 1);
    // Checkpoint 2 is triggered, then aborted (the job fails over); its discard runs at once.
    const second = h.coordinator.triggerCheckpoint().catch((e: Error) => e);
    await until(() => h.gateway.triggered.has(2));
    h.coordinator.stop('the job is failing over');
    expect(String(await second)).toMatch(/suspending/);
    // The dying task still writes into chk-2, after the discard, and never acknowledges.
    await new Promise((r) => setTimeout(r, 20));
    mkdirSync(h.storage.pathOf(2), { recursive: true });
    writeFileSync(join(h.storage.pathOf(2), 'src-0.state'), 'late');
    // The restart sweeps it and restores the completed one.
    const restored = await h.coordinator.restoreLatest();
    expect(restored?.dir).toBe(kept);
    expect(existsSync(h.storage.pathOf(2))).toBe(false);

    // Checkpoint 3 of the new attempt is aborted when the job is canceled; a canceled task writes late.
    h.coordinator.start();
    const third = h.coordinator.triggerCheckpoint().catch((e: Error) => e);
    const id = h.coordinator.stats().history[0]!.id;
    await until(() => h.gateway.triggered.has(id));
    mkdirSync(h.storage.pathOf(id), { recursive: true });
    writeFileSync(join(h.storage.pathOf(id), 'src-0.state'), 'partial');
    h.stopTasks();
    await h.coordinator.shutdown('CANCELED');
    expect(String(await third)).toMatch(/suspending/);
    expect(existsSync(h.storage.pathOf(id))).toBe(false);
    // ... and writes once more after the end: the late sweep removes that too.
    mkdirSync(h.storage.pathOf(id), { recursive: true });
    writeFileSync(join(h.storage.pathOf(id), 'src-0.state'), 'later');
    await until(() => !existsSync(h.storage.pathOf(id)));
    // The retained (completed) checkpoint is untouched throughout.
    expect(existsSync(join(kept!, METADATA_FILE))).toBe(true);
  });
});

describe('checkpoint summary samples', () => {
  it('keep the latest values in a fixed-size ring', () => {
    const w = new SampleWindow(3);
    for (const v of [1, 2, 3, 4, 5]) w.add(v);
    expect(w.size).toBe(3);
    expect(w.toArray().sort()).toEqual([3, 4, 5]);
  });
});
