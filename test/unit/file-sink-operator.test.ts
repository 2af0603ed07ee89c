import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DefaultRollingPolicy, FileSink } from '../../api/file-sink.js';
import type { ListState, ListStateDescriptor, OperatorStateStore } from '../../api/state.js';
import { FINAL_CHECKPOINT_ID, type TaskCheckpointSettings } from '../../common/checkpoint.js';
import { FILE_SINK_STATE_NAME, FileSinkOperator } from '../../taskmanager/operators/file-sink-operator.js';
import type { Output, StateInitializationContext } from '../../taskmanager/operators/operator.js';
import { fakeTaskServices } from '../helpers/task-services.js';
import { ManualTime } from '../helpers/manual-time.js';
import { readCommittedLines } from '../helpers/output.js';

// ---------------------------------------------------------------------------------------------
// Operator state as a checkpoint keeps it: named lists, split or union, copied at the snapshot.

type Mode = 'split' | 'union';
/** What one subtask's operator state looks like in a checkpoint. */
type StateSnapshot = Map<string, { mode: Mode; items: unknown[] }>;

class MemoryListState<T> implements ListState<T> {
  constructor(private readonly items: unknown[]) {}
  get(): T[] {
    return [...this.items] as T[];
  }
  add(value: T): void {
    this.items.push(value);
  }
  addAll(values: T[]): void {
    this.items.push(...values);
  }
  update(values: T[]): void {
    this.items.length = 0;
    this.items.push(...values);
  }
  clear(): void {
    this.items.length = 0;
  }
}

class MemoryOperatorStateStore implements OperatorStateStore {
  private readonly lists: StateSnapshot;

  constructor(restored: StateSnapshot = new Map()) {
    this.lists = restored;
  }

  getListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    return this.list(d.name, 'split');
  }

  getUnionListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    return this.list(d.name, 'union');
  }

  private list<T>(name: string, mode: Mode): ListState<T> {
    let l = this.lists.get(name);
    if (!l) this.lists.set(name, (l = { mode, items: [] }));
    if (l.mode !== mode) throw new Error(`state '${name}' is ${l.mode} list state, not ${mode}`);
    return new MemoryListState<T>(l.items);
  }

  /** A deep copy, as written to a checkpoint. */
  snapshot(): StateSnapshot {
    return structuredClone(this.lists);
  }

  /** The state subtask `index` of `parallelism` restores from the snapshots of all former subtasks. */
  static restore(former: StateSnapshot[], index: number, parallelism: number): MemoryOperatorStateStore {
    const names = new Set(former.flatMap((s) => [...s.keys()]));
    const lists: StateSnapshot = new Map();
    for (const name of names) {
      const mode = former.find((s) => s.has(name))!.get(name)!.mode;
      const all = structuredClone(former.flatMap((s) => s.get(name)?.items ?? []));
      const start = Math.floor((index * all.length) / parallelism);
      const end = Math.floor(((index + 1) * all.length) / parallelism);
      lists.set(name, { mode, items: mode === 'union' ? all : all.slice(start, end) });
    }
    return new MemoryOperatorStateStore(lists);
  }
}

// ---------------------------------------------------------------------------------------------
// Harness: one sink subtask driven as its task would drive it.

const checkpointing: TaskCheckpointSettings = { jobDir: '/unused', mode: 'EXACTLY_ONCE', stateBackend: 'heap', periodic: true };
const noOutput: Output = { collect: () => {}, collectSide: () => {}, emitWatermark: () => {} };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-file-sink-op-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface SinkOptions {
  subtaskIndex?: number;
  parallelism?: number;
  checkpointing?: boolean;
  /** Snapshots of the former subtasks to restore from. */
  restoreFrom?: StateSnapshot[];
  maxPartSize?: number;
}

async function startSink(o: SinkOptions = {}) {
  let builder = FileSink.forRowFormat<string>(dir);
  if (o.maxPartSize !== undefined) builder = builder.withRollingPolicy(DefaultRollingPolicy.builder().withMaxPartSize(o.maxPartSize).build());
  const subtaskIndex = o.subtaskIndex ?? 0;
  const parallelism = o.parallelism ?? 1;
  const services = fakeTaskServices({ processingTime: new ManualTime(), subtaskIndex, parallelism, checkpointing: o.checkpointing === false ? undefined : checkpointing });
  const op = new FileSinkOperator({
    descriptor: { id: 'f'.repeat(32), name: 'FileSink', kind: 'sink', config: { sinkKind: 'file', dir }, stateful: false, outputs: [] },
    userCode: builder.build(),
    output: noOutput,
    services,
  });
  const store = o.restoreFrom ? MemoryOperatorStateStore.restore(o.restoreFrom, subtaskIndex, parallelism) : new MemoryOperatorStateStore();
  const ctx: StateInitializationContext = {
    isRestored: () => o.restoreFrom !== undefined,
    getOperatorStateStore: () => store,
    keyedStateBackend: undefined,
    getBroadcastState: () => new Map(),
  };
  await op.initializeState(ctx);
  await op.open();
  return {
    op,
    write(...values: string[]) {
      for (const v of values) op.processElement(v, undefined);
    },
    /** The synchronous part of checkpoint `id`; returns the state the checkpoint stores. */
    async checkpoint(id: number): Promise<StateSnapshot> {
      await op.snapshotState({ checkpointId: id, timestamp: 0 });
      return store.snapshot();
    },
  };
}

function files(): string[] {
  return readdirSync(dir).sort();
}

function visible(): string[] {
  return readCommittedLines(dir);
}

// ---------------------------------------------------------------------------------------------

describe('FileSinkOperator with checkpointing (two-phase commit)', () => {
  it('publishes the records of a checkpoint only when it completes', async () => {
    const s = await startSink();
    s.write('a', 'b');
    expect(files()).toEqual(['.part-0-0.inprogress']);
    const state = await s.checkpoint(1);
    expect(visible()).toEqual([]);
    expect(state.get(FILE_SINK_STATE_NAME)).toEqual({ mode: 'union', items: [{ dir, subtaskIndex: 0, pending: [{ name: 'part-0-0', size: 4, checkpointId: 1 }] }] });
    s.write('c'); // after the barrier: not part of checkpoint 1
    await s.op.notifyCheckpointComplete(1);
    expect(files()).toEqual(['.part-0-1.inprogress', 'part-0-0']);
    expect(visible()).toEqual(['a', 'b']);
    await s.checkpoint(2);
    await s.op.notifyCheckpointComplete(2);
    expect(visible()).toEqual(['a', 'b', 'c']);
    await s.op.close();
  });

  it('commits every earlier checkpoint with a later one, and nothing after it', async () => {
    const s = await startSink();
    s.write('1');
    await s.checkpoint(1);
    s.write('2');
    await s.checkpoint(2);
    await s.checkpoint(3); // nothing written in between: no empty part
    s.write('4');
    await s.checkpoint(4);
    s.write('5');
    expect(visible()).toEqual([]);
    await s.op.notifyCheckpointComplete(3);
    expect(visible()).toEqual(['1', '2']);
    expect(files()).toEqual(['.part-0-2.inprogress', '.part-0-3.inprogress', 'part-0-0', 'part-0-1']);
    await s.op.notifyCheckpointComplete(4);
    expect(visible()).toEqual(['1', '2', '4']);
    await s.op.close();
  });

  it('after an aborted checkpoint, the next completed one commits both', async () => {
    const s = await startSink();
    s.write('a');
    await s.checkpoint(1);
    await s.op.notifyCheckpointAborted(1);
    expect(visible()).toEqual([]);
    s.write('b');
    const state = await s.checkpoint(2);
    expect((state.get(FILE_SINK_STATE_NAME)!.items[0] as { pending: unknown[] }).pending).toEqual([
      { name: 'part-0-0', size: 2, checkpointId: 1 },
      { name: 'part-0-1', size: 2, checkpointId: 2 },
    ]);
    await s.op.notifyCheckpointComplete(2);
    expect(visible()).toEqual(['a', 'b']);
    await s.op.close();
  });

  it('a part rolled by size waits for the next checkpoint', async () => {
    const s = await startSink({ maxPartSize: 8 });
    s.write('rec-1', 'rec-2', 'rec-3'); // 6 bytes each: the second one rolls the part
    expect(files()).toEqual(['.part-0-0.inprogress', '.part-0-1.inprogress']);
    expect(visible()).toEqual([]);
    await s.checkpoint(1);
    await s.op.notifyCheckpointComplete(1);
    expect(files()).toEqual(['part-0-0', 'part-0-1']);
    expect(visible()).toEqual(['rec-1', 'rec-2', 'rec-3']);
    await s.op.close();
  });

  it('end of input: nothing visible until the final checkpoint completes', async () => {
    const s = await startSink();
    s.write('a');
    await s.checkpoint(1);
    s.write('b');
    await s.op.finish();
    await s.checkpoint(FINAL_CHECKPOINT_ID);
    expect(visible()).toEqual([]);
    // Checkpoint 1 completing late publishes its records only.
    await s.op.notifyCheckpointComplete(1);
    expect(visible()).toEqual(['a']);
    await s.op.notifyCheckpointComplete(FINAL_CHECKPOINT_ID);
    expect(visible()).toEqual(['a', 'b']);
    await s.op.close();
    expect(files()).toEqual(['part-0-0', 'part-0-1']);
  });

  it('close after a failure leaves hidden files only', async () => {
    const s = await startSink();
    s.write('a');
    await s.checkpoint(1);
    s.write('b');
    await s.op.close();
    expect(visible()).toEqual([]);
    expect(files()).toEqual(['.part-0-0.inprogress', '.part-0-1.inprogress']);
  });
});

describe('FileSinkOperator restore', () => {
  /** A run that took checkpoint `id` (not committed), wrote more and failed. */
  async function failedRun(opts: SinkOptions, before: string[], after: string[], id: number): Promise<StateSnapshot> {
    const s = await startSink(opts);
    s.write(...before);
    const state = await s.checkpoint(id);
    s.write(...after);
    await s.checkpoint(id + 1); // pending for a checkpoint that never completes
    s.write(...after.map((v) => `${v}'`));
    await s.op.close();
    return state;
  }

  it('commits the pending files, deletes what came after the checkpoint and numbers on', async () => {
    const first = await startSink();
    first.write('old');
    await first.checkpoint(1);
    await first.op.notifyCheckpointComplete(1);
    await first.op.close();
    const state = await failedRun({}, ['a', 'b'], ['late'], 2);
    expect(files()).toEqual(['.part-0-1.inprogress', '.part-0-2.inprogress', '.part-0-3.inprogress', 'part-0-0']);

    const s = await startSink({ restoreFrom: [state] });
    expect(files()).toEqual(['part-0-0', 'part-0-1']);
    expect(visible()).toEqual(['old', 'a', 'b']);
    s.write('c');
    expect(files()).toEqual(['.part-0-2.inprogress', 'part-0-0', 'part-0-1']);
    const next = await s.checkpoint(3);
    expect((next.get(FILE_SINK_STATE_NAME)!.items as { pending: unknown[] }[]).map((e) => e.pending)).toEqual([[{ name: 'part-0-2', size: 2, checkpointId: 3 }]]);
    await s.op.notifyCheckpointComplete(3);
    expect(visible()).toEqual(['old', 'a', 'b', 'c']);
    await s.op.close();
  });

  it('restoring the same checkpoint twice gives the same output', async () => {
    const state = await failedRun({}, ['a'], ['late'], 5);
    const again = await startSink({ restoreFrom: [state] });
    again.write('x');
    await again.checkpoint(6); // never completes: this run fails too
    again.write('y');
    await again.op.close();
    expect(files()).toEqual(['.part-0-1.inprogress', '.part-0-2.inprogress', 'part-0-0']);

    const s = await startSink({ restoreFrom: [state] });
    expect(files()).toEqual(['part-0-0']);
    s.write('b');
    await s.checkpoint(6);
    await s.op.notifyCheckpointComplete(6);
    expect(visible()).toEqual(['a', 'b']);
    expect(files()).toEqual(['part-0-0', 'part-0-1']);
    await s.op.close();
  });

  it('rescale: one subtask restores the state of two former ones', async () => {
    const s0 = await failedRun({ subtaskIndex: 0, parallelism: 2 }, ['a0', 'b0'], ['late0'], 4);
    const s1 = await failedRun({ subtaskIndex: 1, parallelism: 2 }, ['a1'], ['late1'], 4);
    expect(files().filter((f) => f.startsWith('.'))).toHaveLength(6);

    const s = await startSink({ subtaskIndex: 0, parallelism: 1, restoreFrom: [s0, s1] });
    expect(files()).toEqual(['part-0-0', 'part-1-0']);
    expect(visible().sort()).toEqual(['a0', 'a1', 'b0']);
    s.write('c');
    const next = await s.checkpoint(5);
    // Only this subtask's own entry goes on: former subtask 1 is settled.
    expect((next.get(FILE_SINK_STATE_NAME)!.items as { subtaskIndex: number }[]).map((e) => e.subtaskIndex)).toEqual([0]);
    await s.op.notifyCheckpointComplete(5);
    expect(files()).toEqual(['part-0-0', 'part-0-1', 'part-1-0']);
    await s.op.close();
  });

  it('rescale up: the new subtask starts clean next to the restored one', async () => {
    const state = await failedRun({}, ['a'], ['late'], 1);
    const s0 = await startSink({ subtaskIndex: 0, parallelism: 2, restoreFrom: [state] });
    const s1 = await startSink({ subtaskIndex: 1, parallelism: 2, restoreFrom: [state] });
    s0.write('b');
    s1.write('c');
    const c0 = await s0.checkpoint(2);
    const c1 = await s1.checkpoint(2);
    await s0.op.notifyCheckpointComplete(2);
    await s1.op.notifyCheckpointComplete(2);
    expect(files()).toEqual(['part-0-0', 'part-0-1', 'part-1-0']);
    expect(visible()).toEqual(['a', 'b', 'c']);
    expect([c0, c1].map((c) => (c.get(FILE_SINK_STATE_NAME)!.items[0] as { subtaskIndex: number }).subtaskIndex)).toEqual([0, 1]);
    await s0.op.close();
    await s1.op.close();
  });

  it('a pending file that vanished is a clear error', async () => {
    const state = await failedRun({}, ['a'], [], 1);
    rmSync(join(dir, '.part-0-0.inprogress'));
    await expect(startSink({ restoreFrom: [state] })).rejects.toThrow(/part-0-0 of checkpoint 1 is gone/);
  });

  it('a pending file that grew after the checkpoint is cut back to it', async () => {
    const state = await failedRun({}, ['a'], [], 1);
    writeFileSync(join(dir, '.part-0-0.inprogress'), 'a\nnot covered\n');
    const s = await startSink({ restoreFrom: [state] });
    expect(readFileSync(join(dir, 'part-0-0'), 'utf8')).toBe('a\n');
    await s.op.close();
  });
});

describe('FileSinkOperator without checkpointing', () => {
  it('publishes a part when it rolls and at the end of input', async () => {
    const s = await startSink({ checkpointing: false, maxPartSize: 8 });
    s.write('rec-1', 'rec-2', 'rec-3');
    expect(files()).toEqual(['.part-0-1.inprogress', 'part-0-0']);
    expect(visible()).toEqual(['rec-1', 'rec-2']);
    await s.op.finish();
    expect(visible()).toEqual(['rec-1', 'rec-2', 'rec-3']);
    await s.op.close();
    expect(files()).toEqual(['part-0-0', 'part-0-1']);
  });

  it('a canceled run publishes nothing of its open part, and the next run numbers on', async () => {
    const s = await startSink({ checkpointing: false });
    s.write('a');
    await s.op.close();
    expect(files()).toEqual(['.part-0-0.inprogress']);
    const next = await startSink({ checkpointing: false });
    next.write('b');
    await next.op.finish();
    await next.op.close();
    expect(files()).toEqual(['.part-0-0.inprogress', 'part-0-1']);
    expect(visible()).toEqual(['b']);
  });

  it('writes records as JSON when the sink has no encoder, strings as they are', async () => {
    const s = await startSink({ checkpointing: false });
    s.op.processElement({ k: 1 }, undefined);
    s.op.processElement('plain', undefined);
    await s.op.finish();
    await s.op.close();
    expect(visible()).toEqual(['{"k":1}', 'plain']);
  });
});

describe('FileSink builder', () => {
  it('takes the part size from a DefaultRollingPolicy and checks it', () => {
    const policy = DefaultRollingPolicy.builder().withMaxPartSize({ getBytes: () => 1024 }).build();
    expect(FileSink.forRowFormat<string>('/out').withRollingPolicy(policy).build().maxPartSize).toBe(1024);
    expect(FileSink.forRowFormat<string>('/out').build().maxPartSize).toBe(128 * 1024 * 1024);
    expect(() => DefaultRollingPolicy.builder().withMaxPartSize(0)).toThrow(/positive number of bytes/);
    expect(() => FileSink.forRowFormat<string>('/out').withRollingPolicy({ maxPartSize: 1 } as DefaultRollingPolicy)).toThrow(/needs a DefaultRollingPolicy/);
  });
});
