// Driving FileSink operator subtasks directly, as their tasks would: operator state kept the way a
// checkpoint keeps it (split or union lists, copied at the snapshot, redistributed on restore),
// processing time under the test's control, and the committed output read as a reader would.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSink, type FileSinkBuilder } from '../../api/file-sink.js';
import type { ListState, ListStateDescriptor, OperatorStateStore } from '../../api/state.js';
import type { CheckpointOptions, TaskCheckpointSettings } from '../../common/checkpoint.js';
import { FileSinkOperator } from '../../taskmanager/operators/file-sink-operator.js';
import type { Output, StateInitializationContext } from '../../taskmanager/operators/operator.js';
import { ManualTime } from './manual-time.js';
import { fakeTaskServices } from './task-services.js';

type Mode = 'split' | 'union';
/** What one subtask's operator state looks like in a checkpoint. */
export type StateSnapshot = Map<string, { mode: Mode; items: unknown[] }>;

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

export class MemoryOperatorStateStore implements OperatorStateStore {
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

const periodic: TaskCheckpointSettings = {
  jobDir: '/unused',
  mode: 'EXACTLY_ONCE',
  stateBackend: 'heap',
  periodic: true,
};
const noOutput: Output = { collect: () => {}, collectSide: () => {}, emitWatermark: () => {} };

export interface SinkOptions {
  subtaskIndex?: number;
  parallelism?: number;
  /** False: a job that does not checkpoint periodically (commit on roll). */
  checkpointing?: boolean;
  /** Snapshots of the former subtasks to restore from. */
  restoreFrom?: StateSnapshot[];
  /** Configures the sink beyond forRowFormat(dir). */
  configure?: (b: FileSinkBuilder<string>) => FileSinkBuilder<string>;
  /** Processing time, shared by the subtasks of one test. */
  time?: ManualTime;
}

export type SinkHarness = Awaited<ReturnType<typeof startSink>>;

/** One FileSink subtask writing into `dir`, initialized and opened. */
export async function startSink(dir: string, o: SinkOptions = {}) {
  let builder = FileSink.forRowFormat<string>(dir);
  if (o.configure) builder = o.configure(builder);
  const subtaskIndex = o.subtaskIndex ?? 0;
  const parallelism = o.parallelism ?? 1;
  const time = o.time ?? new ManualTime();
  const services = fakeTaskServices({
    processingTime: time,
    subtaskIndex,
    parallelism,
    checkpointing: o.checkpointing === false ? undefined : periodic,
  });
  const op = new FileSinkOperator({
    descriptor: {
      id: 'f'.repeat(32),
      name: 'FileSink',
      kind: 'sink',
      config: { sinkKind: 'file', dir },
      stateful: false,
      outputs: [],
    },
    userCode: builder.build(),
    output: noOutput,
    services,
  });
  const store = o.restoreFrom
    ? MemoryOperatorStateStore.restore(o.restoreFrom, subtaskIndex, parallelism)
    : new MemoryOperatorStateStore();
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
    time,
    subtaskIndex,
    write(...values: string[]) {
      for (const v of values) op.processElement(v, undefined);
    },
    /** The synchronous part of checkpoint `id`; returns the state the checkpoint stores. */
    async checkpoint(id: number, options?: CheckpointOptions): Promise<StateSnapshot> {
      await op.snapshotState({ checkpointId: id, timestamp: time.now(), options });
      return store.snapshot();
    },
  };
}

/** Every file below `dir` (relative paths, '/'-separated, sorted), hidden ones included. */
export function filesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return out.sort();
}

/** Committed (visible) part files below `dir`: files whose name does not start with '.'. */
export function committedFiles(dir: string): string[] {
  return filesBelow(dir).filter((f) => !f.split('/').pop()!.startsWith('.'));
}

/** Lines of every committed part file below `dir`, bucket directories included, in path order. */
export function readCommittedTree(dir: string): string[] {
  const lines: string[] = [];
  for (const f of committedFiles(dir))
    for (const l of readFileSync(join(dir, f), 'utf8').split('\n')) if (l) lines.push(l);
  return lines;
}
