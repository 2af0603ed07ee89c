// Gives an operator its state the way a task does (keyed backend for keyed operators, operator
// state, then initializeState()), and takes it through a snapshot file and back, so tests can stop
// an operator half way and go on in a fresh one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamOperator } from '../../taskmanager/operators/operator.js';
import { createKeyedStateBackend, restoreKeyedState } from '../../taskmanager/state/backend-factory.js';
import { OperatorStateBackend } from '../../taskmanager/state/operator-state.js';
import { readSnapshotFile, writeSnapshotFile } from '../../taskmanager/state/snapshot-file.js';
import type { KeyedStateBackend } from '../../taskmanager/state/types.js';

export type BackendType = 'heap' | 'level';

const MAX_PARALLELISM = 128;
const FULL_RANGE = { start: 0, end: MAX_PARALLELISM - 1 };

/** The state one operator runs with in a test; dispose() when done (the level backend keeps a directory). */
export interface OperatorStateFixture {
  readonly keyed: KeyedStateBackend | undefined;
  readonly operatorState: OperatorStateBackend;
  dispose(): Promise<void>;
}

export interface InitializeOptions {
  /** Whether the operator gets a keyed backend (operators on keyed streams and windows do). Default true. */
  keyed?: boolean;
  backend?: BackendType;
  /** A snapshot file (takeSnapshot(...).write(path)) to restore from. */
  restoreFrom?: { path: string; sha256: string };
}

/** Creates the operator's state (restored when asked), then calls its initializeState(), as the task does before open(). */
export async function initializeOperator(
  op: StreamOperator,
  opts: InitializeOptions = {},
): Promise<OperatorStateFixture> {
  const type = opts.backend ?? 'heap';
  // Only the level backend keeps files.
  const dir = type === 'level' && opts.keyed !== false ? mkdtempSync(join(tmpdir(), 'weir-opstate-')) : undefined;
  const keyed =
    opts.keyed === false
      ? undefined
      : await createKeyedStateBackend(type, {
          maxParallelism: MAX_PARALLELISM,
          keyGroupRange: FULL_RANGE,
          dir: dir ?? '',
        });
  const operatorState = new OperatorStateBackend();
  const fixture: OperatorStateFixture = {
    keyed,
    operatorState,
    dispose: async () => {
      await keyed?.dispose();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    if (opts.restoreFrom) {
      if (keyed)
        await restoreKeyedState(keyed, [opts.restoreFrom], (meta, entry) => op.restoreRawKeyedState(meta, entry));
      operatorState.restore((await readSnapshotFile(opts.restoreFrom.path, {})).operatorStates);
    }
    await op.initializeState({
      isRestored: () => opts.restoreFrom !== undefined,
      getOperatorStateStore: () => operatorState,
      keyedStateBackend: keyed,
      getBroadcastState: (name) => operatorState.getBroadcastMap(name),
    });
  } catch (e) {
    await fixture.dispose();
    throw e;
  }
  return fixture;
}

/** The synchronous part of a checkpoint, taken; write() puts it into a file (the asynchronous part). */
export interface TakenSnapshot {
  write(path: string): Promise<{ path: string; sha256: string }>;
}

/**
 * Takes a checkpoint of the operator as the task does at a barrier: snapshotState(), then the
 * backend's frozen view, the raw keyed state (timers) and the operator state. The operator may go
 * on processing before write(): the file holds the state as of this call.
 */
export async function takeSnapshot(
  op: StreamOperator,
  fixture: OperatorStateFixture,
  checkpointId = 1,
): Promise<TakenSnapshot> {
  await op.snapshotState({ checkpointId, timestamp: 1_000 + checkpointId });
  const keyed = fixture.keyed?.snapshot();
  const raw = op.snapshotRawKeyedState();
  const operatorStates = fixture.operatorState.snapshot();
  return {
    write: async (path) => {
      try {
        const { sha256 } = await writeSnapshotFile(path, {
          operatorId: 'f'.repeat(32),
          subtaskIndex: 0,
          maxParallelism: MAX_PARALLELISM,
          keyGroupRange: keyed || raw ? FULL_RANGE : null,
          operatorStates,
          keyed,
          extraKeyed: raw && raw.entries.length > 0 ? raw : undefined,
        });
        return { path, sha256 };
      } finally {
        keyed?.release();
      }
    },
  };
}

/** A temporary directory for snapshot files; remove() it when done. */
export function snapshotDir(): { file(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'weir-snap-'));
  return { file: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
