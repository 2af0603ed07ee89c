// The engine behind every harness: a pipeline built with the normal API on harness inputs, turned
// into the stream graph a job would have, and each of its operators built by the TaskManager's own
// factory, given state by the task's own setup (heap or level backend, restored from real snapshot
// files) and snapshotted by the task's own SubtaskCheckpointCoordinator. Operators call each other
// directly, as chained operators do; the harness feeds the inputs and records what comes out.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TaskCheckpointAck } from '../../common/checkpoint.js';
import { keyRefsOf, type JobVertex, type OperatorDescriptor } from '../../common/jobgraph.js';
import {
  assignToKeyGroup,
  keyGroupRangeFor,
  operatorIndexForKeyGroup,
  type KeyGroupRange,
} from '../../common/keygroups.js';
import { silentLogger } from '../../common/logging.js';
import { processAlive } from '../../common/process-alive.js';
import { createSourceReader, type SourceReader } from '../connectors/source-readers.js';
import { TwoInputStreamOperator, type Output, type StreamOperator, type TaskServices } from '../operators/operator.js';
import { LagTracker } from '../runtime/lag-tracker.js';
import { createStreamOperator, SourceOperatorHead } from '../runtime/operator-chain.js';
import { disposeOperatorState, setUpOperatorState } from '../runtime/operator-state-setup.js';
import { SubtaskCheckpointCoordinator, type OperatorStateHolder } from '../runtime/subtask-checkpoint.js';
import { MAX_WATERMARK } from '../runtime/timer-service.js';
import { StatusWatermarkValve } from '../runtime/watermark-valve.js';
import { keyGroupInRange, MAX_MAX_PARALLELISM } from '../state/key-group-check.js';
import type { DataStream } from '../../api/datastream.js';
import { DEFAULT_MAX_PARALLELISM, StreamExecutionEnvironment } from '../../api/environment.js';
import type { OutputTag } from '../../api/output-tag.js';
import { ListStateDescriptor, type ListState } from '../../api/state.js';
import { buildStreamGraph, type StreamEdge, type StreamNode } from '../../api/stream-graph.js';
import { planOf } from '../../api/transformation.js';
import { Watermark } from '../../api/watermark.js';
import type { HarnessSnapshot, OperatorSnapshotState } from './harness-snapshot.js';
import { TestProcessingTimeService } from './processing-time.js';
import { StreamRecord } from './stream-record.js';

export interface HarnessOptions {
  /** Keyed state backend: 'heap' (default) or 'level' (LevelDB in a temporary directory). */
  stateBackend?: 'heap' | 'level';
  /** Parallelism of the operator this harness stands for one subtask of (default 1). */
  parallelism?: number;
  /** Which subtask (default 0): it owns the key groups a job's subtask of that index owns. */
  subtaskIndex?: number;
  /** Number of key groups (default 128, as a job's). */
  maxParallelism?: number;
  /** Processing time when the harness starts (default 0). */
  initialProcessingTime?: number;
  /** getRuntimeContext().getAttemptNumber() (default 0). */
  attemptNumber?: number;
}

/** Output elements: records with their timestamps, and watermarks, in the order they were emitted. */
export type OutputElement<T> = StreamRecord<T> | Watermark;

/**
 * Snapshot files, level databases: one directory per process, named after it, removed when it
 * exits. A process killed by a signal (a test runner's workers are) runs no exit handler, so the
 * next process to make its directory removes those of processes that are gone.
 */
let rootDir: string | undefined;
const ROOT_PREFIX = 'weir-harness-';

function harnessRoot(): string {
  if (rootDir === undefined) {
    removeOrphanedRoots();
    const dir = mkdtempSync(join(tmpdir(), `${ROOT_PREFIX}${process.pid}-`));
    rootDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return rootDir;
}

function removeOrphanedRoots(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(ROOT_PREFIX) ? parseInt(name.slice(ROOT_PREFIX.length), 10) : NaN;
    if (!(pid > 0) || processAlive(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function checkIndex(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`harness option ${name} must be an integer between ${min} and ${max}, got ${String(value)}`);
  return value;
}

/** The subtask of `parallelism` that a job routes `key` to (Flink's KeyGroupRangeAssignment). */
export function subtaskIndexForKey(
  key: unknown,
  parallelism: number,
  maxParallelism = DEFAULT_MAX_PARALLELISM,
): number {
  return operatorIndexForKeyGroup(maxParallelism, parallelism, assignToKeyGroup(key, maxParallelism));
}

/** Where records and watermarks of one edge go. */
interface Target {
  record(value: unknown, timestamp: number | undefined): void;
  watermark(timestamp: number): void;
}

/** An operator's Output: main records to its main targets, side outputs recorded (and to their consumers), watermarks to all. */
class HarnessOperatorOutput implements Output {
  readonly main: Target[] = [];
  readonly side = new Map<string, Target[]>();
  all: Target[] = [];

  constructor(private readonly recordSide: (tag: string, value: unknown, timestamp: number | undefined) => void) {}

  collect(value: unknown, timestamp: number | undefined): void {
    for (const t of this.main) t.record(value, timestamp);
  }

  collectSide(tag: string, value: unknown, timestamp: number | undefined): void {
    this.recordSide(tag, value, timestamp);
    const targets = this.side.get(tag);
    if (targets) for (const t of targets) t.record(value, timestamp);
  }

  emitWatermark(timestamp: number): void {
    for (const t of this.all) t.watermark(timestamp);
  }
}

interface SourceHead {
  readonly operator: SourceOperatorHead;
  readonly reader: SourceReader;
  splits?: ListState<unknown>;
  ended: boolean;
}

/** Builds the harness's pipeline: `inputs` stand for the streams the harness feeds. */
export type PipelineBuilder = (
  env: StreamExecutionEnvironment,
  inputs: DataStream<unknown>[],
) => DataStream<unknown> | DataStream<unknown>[];

export class StreamHarness<OUT> {
  private readonly time: TestProcessingTimeService;
  private readonly services: TaskServices;
  private readonly parallelism: number;
  private readonly subtaskIndex: number;
  private readonly maxParallelism: number;
  private readonly keyGroupRange: KeyGroupRange;
  private readonly backendType: 'heap' | 'level';
  private readonly operators: StreamOperator[] = [];
  private readonly descriptors: OperatorDescriptor[] = [];
  private readonly inputTargets: Target[][] = [];
  private readonly sources: SourceHead[] = [];
  private readonly output: OutputElement<OUT>[] = [];
  private readonly sideOutputs = new Map<string, StreamRecord<unknown>[]>();
  private readonly dir: string;
  private holders: OperatorStateHolder[] | undefined;
  private coordinator: SubtaskCheckpointCoordinator | undefined;
  private readonly acks = new Map<number, { resolve(ack: TaskCheckpointAck): void; reject(e: Error): void }>();
  private lastCheckpointId = 0;
  private opened = false;
  private closed = false;

  /** `numInputs` placeholder streams are handed to `build`; what it returns is the harness's output. */
  protected constructor(build: PipelineBuilder, numInputs: number, options: HarnessOptions = {}) {
    this.maxParallelism = checkIndex(
      options.maxParallelism ?? DEFAULT_MAX_PARALLELISM,
      'maxParallelism',
      1,
      MAX_MAX_PARALLELISM,
    );
    this.parallelism = checkIndex(options.parallelism ?? 1, 'parallelism', 1, this.maxParallelism);
    this.subtaskIndex = checkIndex(options.subtaskIndex ?? 0, 'subtaskIndex', 0, this.parallelism - 1);
    this.keyGroupRange = keyGroupRangeFor(this.maxParallelism, this.parallelism, this.subtaskIndex);
    this.backendType = options.stateBackend ?? 'heap';
    if (this.backendType !== 'heap' && this.backendType !== 'level')
      throw new RangeError(`harness option stateBackend must be 'heap' or 'level', got ${String(this.backendType)}`);
    this.time = new TestProcessingTimeService(options.initialProcessingTime ?? 0);
    this.dir = join(harnessRoot(), randomBytes(8).toString('hex'));
    this.services = {
      jobId: '0'.repeat(32),
      subtaskIndex: this.subtaskIndex,
      parallelism: this.parallelism,
      maxParallelism: this.maxParallelism,
      taskName: 'Harness',
      attempt: options.attemptNumber ?? 0,
      log: silentLogger(),
      pending: undefined,
      sinkRecords: 0,
      sinkLag: new LagTracker(),
      async drainPending() {
        const p = this.pending;
        this.pending = undefined;
        await p;
      },
      processingTime: this.time,
      autoWatermarkInterval: 200,
      setIdle: () => {},
    };

    const env = new StreamExecutionEnvironment({ defaultParallelism: 1 });
    env.setMaxParallelism(this.maxParallelism);
    const inputs: DataStream<unknown>[] = [];
    for (let i = 0; i < numInputs; i++) inputs.push(env.fromElements<unknown>());
    const built = build(env, inputs);
    const results = Array.isArray(built) ? built : [built];
    if (results.length === 0 || results.some((r) => !r || typeof (r as { addSink?: unknown }).addSink !== 'function')) {
      throw new TypeError(
        'a harness pipeline must return the DataStream (or DataStreams) whose records the harness collects',
      );
    }
    // The harness's output is a sink only it knows; its records land in the output list.
    const marker = (): void => {};
    for (const r of results) r.addSink(marker);
    const graph = buildStreamGraph(planOf(env));
    const isInput = (n: StreamNode): boolean => n.t.index < numInputs;
    const isOutput = (n: StreamNode): boolean => graph.userCode.get(n.id) === marker;
    const nodeOperators = new Map<StreamNode, { op: StreamOperator; out: HarnessOperatorOutput }>();
    const recordSide = (tag: string, value: unknown, timestamp: number | undefined): void => {
      let list = this.sideOutputs.get(tag);
      if (!list) this.sideOutputs.set(tag, (list = []));
      list.push(new StreamRecord(value, timestamp));
    };
    for (const node of graph.nodes) {
      if (isInput(node) || isOutput(node)) continue;
      const descriptor: OperatorDescriptor = {
        id: node.id,
        name: node.name,
        ...node.operator,
        stateful: node.t.stateful,
        outputs: [],
      };
      if (node.t.uid !== undefined) descriptor.uid = node.t.uid;
      const keyRefs = keyRefsOf(node.operator);
      const selector = (ref: string | undefined): ((v: unknown) => unknown) | undefined =>
        ref ? (graph.userCode.get(ref) as (v: unknown) => unknown) : undefined;
      const out = new HarnessOperatorOutput(recordSide);
      const userCode = graph.userCode.get(node.id);
      const op = createStreamOperator({
        descriptor,
        userCode,
        keySelector: selector(keyRefs.keyRef1),
        keySelector2: selector(keyRefs.keyRef2),
        output: out,
        services: this.services,
      });
      if (op instanceof SourceOperatorHead) {
        this.sources.push({
          operator: op,
          reader: createSourceReader(descriptor, userCode, this.services, node.name),
          ended: false,
        });
      }
      this.operators.push(op);
      this.descriptors.push(descriptor);
      nodeOperators.set(node, { op, out });
    }
    if (this.operators.length === 0) throw new Error('a harness pipeline needs at least one operator');
    const directTarget = (e: StreamEdge): Target => {
      if (isOutput(e.target)) {
        return {
          record: (value, timestamp) => this.output.push(new StreamRecord(value as OUT, timestamp)),
          watermark: (timestamp) => this.output.push(new Watermark(timestamp)),
        };
      }
      const op = nodeOperators.get(e.target)!.op;
      return op instanceof TwoInputStreamOperator
        ? e.targetInput === 0
          ? { record: (v, t) => op.processElement1(v, t), watermark: (t) => op.processWatermark1(t) }
          : { record: (v, t) => op.processElement2(v, t), watermark: (t) => op.processWatermark2(t) }
        : { record: (v, t) => op.processElement(v, t), watermark: (t) => op.processWatermark(t) };
    };
    // An input fed by several edges (a union) sees the smallest of their watermarks, as through a task's valve.
    const valves = new Map<string, { valve: StatusWatermarkValve; channels: StreamEdge[] }>();
    for (const node of graph.nodes) {
      for (let input = 0; input < 2; input++) {
        const edges = node.inEdges.filter((e) => e.targetInput === input);
        if (edges.length < 2) continue;
        const forward = directTarget(edges[0]!).watermark;
        valves.set(`${node.id}/${input}`, {
          valve: new StatusWatermarkValve(edges.length, forward, () => {}),
          channels: edges,
        });
      }
    }
    const targetOf = (e: StreamEdge): Target => {
      const direct = directTarget(e);
      const v = valves.get(`${e.target.id}/${e.targetInput}`);
      const channel = v ? v.channels.indexOf(e) : -1;
      const target: Target = v
        ? { record: direct.record, watermark: (t) => v.valve.inputWatermark(channel, t) }
        : direct;
      const keyOf =
        e.partitioner === 'hash' && e.keyRef !== undefined && this.parallelism > 1
          ? (graph.userCode.get(e.keyRef) as (v: unknown) => unknown)
          : undefined;
      if (keyOf === undefined) return target;
      // The harness stands in for the hash partitioner upstream: a record of another subtask's key is a test's mistake.
      return {
        record: (value, t) => {
          keyGroupInRange(
            keyOf(value),
            this.maxParallelism,
            this.keyGroupRange,
            `subtask ${this.subtaskIndex} of ${this.parallelism}`,
          );
          target.record(value, t);
        },
        watermark: target.watermark,
      };
    };
    for (const node of graph.nodes) {
      if (isOutput(node)) continue;
      const targets = node.outEdges.map((e) => ({ e, target: targetOf(e) }));
      if (isInput(node)) {
        this.inputTargets.push(targets.map((t) => t.target));
        continue;
      }
      const out = nodeOperators.get(node)!.out;
      for (const { e, target } of targets) {
        if (e.tag === undefined) out.main.push(target);
        else out.side.set(e.tag, [...(out.side.get(e.tag) ?? []), target]);
      }
      out.all = targets.map((t) => t.target);
    }
  }

  // --- lifecycle ---

  /**
   * Gives every operator its state, restored from `snapshot` when given (Flink's
   * initializeState(OperatorSubtaskState)): keyed state of this subtask's key groups, operator
   * state split as a restore at this parallelism splits it, timers. Optional before open().
   */
  async initializeState(snapshot?: HarnessSnapshot): Promise<void> {
    if (this.holders) throw new Error('initializeState() was already called (open() calls it when it was not)');
    if (
      snapshot?.target &&
      (snapshot.target.parallelism !== this.parallelism || snapshot.target.subtaskIndex !== this.subtaskIndex)
    ) {
      throw new Error(
        `this snapshot was cut by repartition() for subtask ${snapshot.target.subtaskIndex} of ${snapshot.target.parallelism}, the harness is subtask ${this.subtaskIndex} of ${this.parallelism}`,
      );
    }
    if (snapshot && snapshot.maxParallelism !== this.maxParallelism) {
      throw new Error(
        `the snapshot was taken with maxParallelism ${snapshot.maxParallelism}, the harness has ${this.maxParallelism} (key groups cannot be remapped)`,
      );
    }
    const ids = new Set(this.descriptors.map((d) => d.id));
    if (snapshot) {
      for (const [id, op] of Object.entries(snapshot.operators)) {
        if (!ids.has(id) && op.subtasks.length > 0)
          throw new Error(
            `the snapshot holds state of operator ${id}, which this harness's pipeline does not have (was it built differently?)`,
          );
      }
    }
    const vertex: JobVertex = {
      id: this.descriptors[0]!.id,
      name: this.descriptors.map((d) => d.name).join(' -> '),
      parallelism: this.parallelism,
      maxParallelism: this.maxParallelism,
      operators: this.descriptors,
      numInputs: this.inputTargets.length,
    };
    const restore = snapshot
      ? {
          checkpointId: snapshot.checkpointId,
          dir: harnessRoot(),
          operators: Object.fromEntries(Object.entries(snapshot.operators).filter(([id]) => ids.has(id))) as Record<
            string,
            { parallelism: number; maxParallelism: number; subtasks: OperatorSnapshotState['subtasks'][number][] }
          >,
        }
      : undefined;
    this.holders = await setUpOperatorState({
      vertex,
      operators: this.operators,
      subtaskIndex: this.subtaskIndex,
      parallelism: this.parallelism,
      keyGroupRange: this.keyGroupRange,
      backendType: this.backendType,
      stateDir: join(this.dir, 'state'),
      restore,
    });
    // Sources keep their split positions as their head's list state, as in a task.
    for (const s of this.sources) {
      const holder = this.holders.find((h) => h.operator === s.operator)!;
      const d = new ListStateDescriptor<unknown>('_source-splits');
      s.splits = s.reader.unionSplitState
        ? holder.operatorState.getUnionListState(d)
        : holder.operatorState.getListState(d);
      if (restore?.operators[holder.operatorId]) s.reader.restoreSplits(s.splits.get());
    }
    this.coordinator = new SubtaskCheckpointCoordinator({
      jobId: this.services.jobId,
      executionId: randomBytes(16).toString('hex'),
      subtaskIndex: this.subtaskIndex,
      maxParallelism: this.maxParallelism,
      keyGroupRange: this.keyGroupRange,
      // Full snapshots only: a snapshot must restore on its own, in any later harness.
      settings: {
        periodic: true,
        jobDir: this.dir,
        mode: 'EXACTLY_ONCE',
        stateBackend: this.backendType,
        incremental: false,
      },
      holders: this.holders,
      writers: [],
      beforeSnapshot: (id) => {
        for (const s of this.sources) s.splits?.update(s.reader.snapshotSplits(id));
      },
      acknowledge: (ack) => this.acks.get(ack.checkpointId)?.resolve(ack),
      decline: (id, reason) => this.acks.get(id)?.reject(new Error(`snapshot ${id} failed: ${reason}`)),
      log: this.services.log,
    });
  }

  /** Opens the operators (their functions' open() with a RuntimeContext), after initializeState(). */
  async open(): Promise<void> {
    if (this.opened) throw new Error('the harness is already open');
    if (!this.holders) await this.initializeState();
    this.opened = true;
    for (let i = this.operators.length - 1; i >= 0; i--) await this.operators[i]!.open();
  }

  /** End of input, as a bounded source ends: the maximum watermark, then every operator's finish(). */
  async endInput(): Promise<void> {
    this.checkOpen();
    for (const targets of this.inputTargets) for (const t of targets) t.watermark(MAX_WATERMARK);
    for (const op of this.operators) await op.finish();
    await this.services.drainPending();
  }

  /** Closes the operators and releases their state (the level backend's directory). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.time.shutdown();
    let first: unknown;
    for (const s of this.sources) await s.reader.close?.();
    await this.coordinator?.close();
    if (this.opened) {
      for (const op of this.operators) {
        try {
          await op.close();
        } catch (e) {
          first ??= e;
        }
      }
    }
    if (this.holders) await disposeOperatorState(this.holders);
    // Snapshots stay (a new harness may restore them) until the process exits.
    rmSync(join(this.dir, 'state'), { recursive: true, force: true });
    if (first) throw first;
  }

  protected checkOpen(): void {
    if (!this.opened) throw new Error('open() the harness first');
    if (this.closed) throw new Error('the harness is closed');
  }

  // --- input ---

  protected input(index: number, value: unknown, timestamp: number | undefined): void {
    this.checkOpen();
    if (timestamp !== undefined && (typeof timestamp !== 'number' || Number.isNaN(timestamp)))
      throw new TypeError(`a record's timestamp must be a number, got ${String(timestamp)}`);
    for (const t of this.inputTargets[index]!) t.record(value, timestamp);
  }

  protected inputWatermark(index: number, mark: number | Watermark): void {
    this.checkOpen();
    const ts = mark instanceof Watermark ? mark.timestamp : mark;
    if (typeof ts !== 'number' || Number.isNaN(ts))
      throw new TypeError(`a watermark must be a number or a Watermark, got ${String(mark)}`);
    for (const t of this.inputTargets[index]!) t.watermark(ts);
  }

  /** Moves processing time to `time`: processing-time timers and windows due by then fire. */
  setProcessingTime(time: number): void {
    this.checkOpen();
    this.time.setCurrentTime(time);
  }

  getProcessingTime(): number {
    return this.time.now();
  }

  /** Runs the pipeline's own sources (addSource, fromElements, ...) until they end or `maxRecords` records were read. */
  protected async runSources(maxRecords = Infinity): Promise<number> {
    this.checkOpen();
    let read = 0;
    for (const s of this.sources) {
      while (!s.reader.finished && read < maxRecords) {
        const n = s.reader.emitBatch(Math.min(256, maxRecords - read), s.operator.sourceOutput);
        read += n;
        await this.services.drainPending();
        if (n === 0 && !s.reader.finished && s.reader.available) await s.reader.available();
      }
      if (s.reader.finished && !s.ended) {
        // As a task at the end of a source: the maximum watermark lets every event-time window fire.
        s.ended = true;
        s.operator.sourceOutput.emitWatermark(MAX_WATERMARK);
      }
    }
    return read;
  }

  // --- output ---

  /** Records (with timestamps) and watermarks emitted since the last extractOutput(); clears them. */
  extractOutput(): OutputElement<OUT>[] {
    return this.output.splice(0, this.output.length);
  }

  /** Everything emitted and not yet extracted, left in place. */
  getOutput(): readonly OutputElement<OUT>[] {
    return this.output;
  }

  /** The records of extractOutput(), without watermarks; clears the output. */
  extractOutputStreamRecords(): StreamRecord<OUT>[] {
    return this.extractOutput().filter((e): e is StreamRecord<OUT> => e instanceof StreamRecord);
  }

  /** The values of extractOutput()'s records; clears the output. */
  extractOutputValues(): OUT[] {
    return this.extractOutputStreamRecords().map((r) => r.value);
  }

  /** Every record emitted to side output `tag` (late data, say), with its timestamp. */
  getSideOutput<X>(tag: OutputTag<X>): StreamRecord<X>[] {
    return [...((this.sideOutputs.get(tag.id) ?? []) as StreamRecord<X>[])];
  }

  // --- state ---

  /**
   * A checkpoint of every operator, as a task takes it at a barrier: the synchronous part now, the
   * files written in the background; resolves once they are. Restore it with initializeState() on
   * a new harness built the same way.
   */
  async snapshot(checkpointId = this.lastCheckpointId + 1, timestamp = this.time.now()): Promise<HarnessSnapshot> {
    this.checkOpen();
    if (checkpointId <= this.lastCheckpointId)
      throw new RangeError(`checkpoint ids must grow: ${checkpointId} after ${this.lastCheckpointId}`);
    this.lastCheckpointId = checkpointId;
    const acked = new Promise<TaskCheckpointAck>((resolve, reject) => this.acks.set(checkpointId, { resolve, reject }));
    // A synchronous part that throws also declines: the throw is what the caller sees.
    acked.catch(() => {});
    try {
      await this.coordinator!.checkpoint({ checkpointId, timestamp }, 0);
      const ack = await acked;
      const chk = join(this.dir, `chk-${checkpointId}`);
      const operators: Record<string, OperatorSnapshotState> = {};
      for (const d of this.descriptors) {
        operators[d.id] = {
          parallelism: this.parallelism,
          maxParallelism: this.maxParallelism,
          // File names relative to the root, so snapshots of several harnesses combine.
          subtasks: ack.handles
            .filter((h) => h.operatorId === d.id)
            .map((h) => ({ ...h, file: relative(harnessRoot(), join(chk, h.file)) })),
        };
      }
      return { checkpointId, maxParallelism: this.maxParallelism, parallelism: this.parallelism, operators };
    } finally {
      this.acks.delete(checkpointId);
    }
  }

  /** Tells the operators checkpoint `checkpointId` completed (CheckpointListener.notifyCheckpointComplete). */
  async notifyOfCompletedCheckpoint(checkpointId: number): Promise<void> {
    this.checkOpen();
    await this.coordinator!.notifyComplete(checkpointId);
  }

  /** Entries in the operators' keyed state backends (values, list and map entries, window contents, trigger state). */
  numKeyedStateEntries(): number {
    let n = 0;
    for (const h of this.holders ?? []) n += h.keyed?.numEntries() ?? 0;
    return n;
  }

  private countTimers(domain: 'event' | 'processing'): number {
    let n = 0;
    for (const op of this.operators) {
      const raw = op.snapshotRawKeyedState();
      if (!raw) continue;
      const names = new Set(raw.states.filter((s) => s.name.endsWith(`/${domain}`)).map((s) => s.name));
      for (const e of raw.entries) if (names.has(e[0])) n++;
    }
    return n;
  }

  /** Event-time timers registered and not fired or deleted, over all operators (user timers, window timers). */
  numEventTimeTimers(): number {
    return this.countTimers('event');
  }

  numProcessingTimeTimers(): number {
    return this.countTimers('processing');
  }

  /** The key groups this subtask owns. */
  getKeyGroupRange(): KeyGroupRange {
    return { ...this.keyGroupRange };
  }

  /** Whether a job would route `key` to this subtask (records of other keys are refused by keyed state). */
  ownsKey(key: unknown): boolean {
    return subtaskIndexForKey(key, this.parallelism, this.maxParallelism) === this.subtaskIndex;
  }
}
