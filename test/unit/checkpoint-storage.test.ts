import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckpointMetadata, OperatorSubtaskStateHandle } from '../../common/checkpoint.js';
import { silentLogger } from '../../common/logging.js';
import { CheckpointStorage, METADATA_FILE } from '../../jobmanager/checkpoint/checkpoint-storage.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function jobDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'weir-chk-'));
  made.push(root);
  return join(root, '0123456789abcdef0123456789abcdef');
}

function writeStateFile(dir: string, file: string, content: string): OperatorSubtaskStateHandle {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), content);
  const bytes = Buffer.from(content);
  return {
    operatorId: 'op',
    subtaskIndex: 0,
    file,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    keyGroupRange: { start: 0, end: 127 },
    operatorStates: [],
  };
}

function metadata(checkpointId: number, handles: OperatorSubtaskStateHandle[], savepoint = false): CheckpointMetadata {
  return {
    format: 'weir-checkpoint',
    version: 1,
    jobId: 'j',
    checkpointId,
    timestamp: 1000 * checkpointId,
    completedAt: 1000 * checkpointId + 5,
    savepoint,
    operators: [{ operatorId: 'op', name: 'Op', parallelism: 1, maxParallelism: 128, subtasks: handles }],
    stateSize: handles.reduce((s, h) => s + h.size, 0),
  };
}

async function writeCheckpoint(
  storage: CheckpointStorage,
  id: number,
  content = `state of ${id}`,
  savepoint = false,
): Promise<string> {
  const dir = await storage.checkpointDir(id);
  const h = writeStateFile(dir, 'op-0.state', content);
  return storage.writeMetadata(metadata(id, [h], savepoint));
}

/** A pino logger whose records land in an array. */
function capturingLogger(): { log: pino.Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    { write: (line: string) => records.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, records };
}

describe('CheckpointStorage', () => {
  it('writes _metadata atomically and loads a checkpoint back', async () => {
    const storage = new CheckpointStorage(jobDir(), 1, silentLogger());
    const dir = await writeCheckpoint(storage, 3);
    expect(dir).toBe(join(storage.jobDir, 'chk-3'));
    expect(readdirSync(dir).sort()).toEqual([METADATA_FILE, 'op-0.state']);
    const loaded = await storage.load(dir);
    expect(loaded.checkpointId).toBe(3);
    expect(loaded.operators[0]!.subtasks[0]!.file).toBe('op-0.state');
    expect(JSON.parse(readFileSync(join(dir, METADATA_FILE), 'utf8'))).toEqual(loaded);
  });

  it('lists completed checkpoints newest first and ignores unfinished ones', async () => {
    const storage = new CheckpointStorage(jobDir(), 5, silentLogger());
    expect(await storage.listCompleted()).toEqual([]);
    expect(await storage.highestCheckpointId()).toBe(0);
    await writeCheckpoint(storage, 2);
    await writeCheckpoint(storage, 10);
    await writeCheckpoint(storage, 7, 'x', true);
    await storage.checkpointDir(12); // triggered, never completed
    const listed = await storage.listCompleted();
    expect(listed.map((c) => [c.checkpointId, c.savepoint])).toEqual([
      [10, false],
      [7, true],
      [2, false],
    ]);
    expect(await storage.highestCheckpointId()).toBe(12);
  });

  it('retains the newest num-retained checkpoints and never deletes savepoints', async () => {
    const storage = new CheckpointStorage(jobDir(), 2, silentLogger());
    for (const id of [1, 2, 3, 4]) await writeCheckpoint(storage, id, `s${id}`, id === 2);
    const all = await storage.listCompleted();
    const kept = await storage.retain(all);
    expect(kept.map((c) => c.checkpointId)).toEqual([4, 3, 2]);
    expect(existsSync(storage.pathOf(1))).toBe(false);
    expect(existsSync(storage.pathOf(2))).toBe(true);
    expect((await storage.listCompleted()).map((c) => c.checkpointId)).toEqual([4, 3, 2]);
  });

  it('discards an aborted checkpoint and tolerates a missing one', async () => {
    const storage = new CheckpointStorage(jobDir(), 1, silentLogger());
    const dir = await storage.checkpointDir(5);
    writeStateFile(dir, 'a.state', 'partial');
    await storage.discard(5);
    expect(existsSync(dir)).toBe(false);
    await expect(storage.discard(6)).resolves.toBeUndefined();
  });

  it('names the checkpoint, the file and the problem when a checkpoint is damaged', async () => {
    const storage = new CheckpointStorage(jobDir(), 5, silentLogger());
    const truncated = await writeCheckpoint(storage, 1, '0123456789ab');
    writeFileSync(join(truncated, 'op-0.state'), '');
    await expect(storage.load(truncated)).rejects.toThrow(
      `checkpoint ${truncated}: op-0.state: has 0 bytes, _metadata records 12`,
    );

    const corrupt = await writeCheckpoint(storage, 2, 'abcdef');
    writeFileSync(join(corrupt, 'op-0.state'), 'abcdeF'); // same size, other bytes
    await expect(storage.load(corrupt)).rejects.toThrow(
      /chk-2: op-0.state: sha256 mismatch \(recorded [0-9a-f]{64}, file has [0-9a-f]{64}\)/,
    );

    const wrongFormat = await writeCheckpoint(storage, 3);
    writeFileSync(join(wrongFormat, METADATA_FILE), JSON.stringify({ ...metadata(3, []), version: 2 }));
    await expect(storage.load(wrongFormat)).rejects.toThrow(
      /chk-3: _metadata: has format 'weir-checkpoint' version 2, expected 'weir-checkpoint' version 1/,
    );

    const escaping = await storage.checkpointDir(4);
    await storage.writeMetadata(metadata(4, [{ ...writeStateFile(escaping, 'x', 'x'), file: '../chk-1/op-0.state' }]));
    await expect(storage.load(escaping)).rejects.toThrow(
      /chk-4: \.\.\/chk-1\/op-0\.state: state file path leaves the checkpoint directory/,
    );

    await expect(storage.load(join(storage.jobDir, 'chk-99'))).rejects.toThrow(/chk-99: _metadata: missing/);
  });

  it('falls back past damaged checkpoints to the newest valid one, logging each skipped one', async () => {
    const { log, records } = capturingLogger();
    const storage = new CheckpointStorage(jobDir(), 5, log);
    const valid = await writeCheckpoint(storage, 1, 'good');
    const missingFile = await writeCheckpoint(storage, 2);
    rmSync(join(missingFile, 'op-0.state'));
    const badChecksum = await writeCheckpoint(storage, 3, 'abc');
    writeFileSync(join(badChecksum, 'op-0.state'), 'abd');
    const corruptMeta = await writeCheckpoint(storage, 4);
    writeFileSync(join(corruptMeta, METADATA_FILE), '{"format": "weir-checkpoint", "vers');

    const found = await storage.latestValid();
    expect(found?.dir).toBe(valid);
    expect(found?.metadata.checkpointId).toBe(1);
    expect(found?.skipped.map((s) => s.dir)).toEqual([corruptMeta, badChecksum, missingFile]);
    expect(found?.skipped[0]!.reason).toMatch(/chk-4: _metadata: is not valid JSON/);
    expect(found?.skipped[1]!.reason).toMatch(/chk-3: op-0.state: sha256 mismatch/);
    expect(found?.skipped[2]!.reason).toMatch(/chk-2: op-0.state: state file of operator op subtask 0 is missing/);
    const warnings = records.filter((r) => r.level === 40 && r.msg === 'skipping a damaged checkpoint');
    expect(warnings.map((w) => w.dir)).toEqual([corruptMeta, badChecksum, missingFile]);
  });

  it('finds nothing in an empty or entirely damaged job directory', async () => {
    const storage = new CheckpointStorage(jobDir(), 1, silentLogger());
    expect(await storage.latestValid()).toBeUndefined();
    const dir = await writeCheckpoint(storage, 1);
    writeFileSync(join(dir, METADATA_FILE), 'null');
    expect(await storage.latestValid()).toBeUndefined();
    expect(() => new CheckpointStorage(storage.jobDir, 0, silentLogger())).toThrow(
      /num-retained must be a positive integer/,
    );
  });
});
