// One subtask's part in checkpoints (Flink's SubtaskCheckpointCoordinator): at a barrier it runs
// the synchronous part (operators copy in-flight work into state, backends freeze a view), sends
// the barrier on, and writes the state files asynchronously while the task keeps processing;
// then it acknowledges with the files' handles, or declines.
// Incremental checkpoints (level backend, state.backend.incremental): the keyed backend's state goes
// to <jobId>/shared/ as a chain per (operator, subtask): a full file, then deltas of what changed
// since the last checkpoint this task knows completed. A chain is only built on a confirmed
// checkpoint, whose files the JobManager keeps while a retained checkpoint refers to them; once the
// deltas outweigh the full file, the next checkpoint writes a new full file (bounding restore work
// and disk use). Savepoints stay full and canonical, with no shared files. After a failover the
// restored checkpoint's chain counts as confirmed (operator-state-setup.ts decides when it may), so
// the first checkpoint is a delta on it rather than the whole state again.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  DEFAULT_INCREMENTAL_CHECKPOINTS,
  FINAL_CHECKPOINT_ID,
  SHARED_STATE_DIR,
  type OperatorSubtaskStateHandle,
  type SharedStateFile,
  type TaskCheckpointAck,
  type TaskCheckpointSettings,
} from '../../common/checkpoint.js';
import {
  describeStorageFailure,
  makeCheckpointDirectory,
  storageFailureOf,
} from '../../common/checkpoint-storage-failure.js';
import type { KeyGroupRange } from '../../common/keygroups.js';
import type { Logger } from '../../common/logging.js';
import type { StreamOperator } from '../operators/operator.js';
import type { OperatorStateBackend } from '../state/operator-state.js';
import { LevelKeyedStateBackend } from '../state/level-backend.js';
import { writeSnapshotFile } from '../state/snapshot-file.js';
import type { KeyedStateBackend, KeyedStateSnapshot } from '../state/types.js';
import type { NetworkEvent } from '../network/types.js';
import type { BarrierInfo } from './checkpoint-barrier-handler.js';
import type { RecordWriter } from './operator-chain.js';

/** The state of one operator of the chain. */
export interface OperatorStateHolder {
  readonly operator: StreamOperator;
  readonly operatorId: string;
  readonly keyed: KeyedStateBackend | undefined;
  readonly operatorState: OperatorStateBackend;
  /** The restored incremental chain the keyed backend continues (set by setUpOperatorState). */
  restoredChain?: RestoredChain;
}

/** The shared files of a restored checkpoint's keyed state, in the order they apply. */
export interface RestoredChain {
  checkpointId: number;
  files: SharedStateFile[];
}

export interface SubtaskCheckpointOptions {
  jobId: string;
  executionId: string;
  subtaskIndex: number;
  maxParallelism: number;
  keyGroupRange: KeyGroupRange;
  settings: TaskCheckpointSettings;
  holders: OperatorStateHolder[];
  writers: RecordWriter[];
  /** Called in the synchronous part before the operators: sources store their split positions. */
  beforeSnapshot?: (checkpointId: number) => void;
  acknowledge(ack: TaskCheckpointAck): void;
  decline(checkpointId: number, reason: string): void;
  log: Logger;
}

interface Captured {
  holder: OperatorStateHolder;
  keyed: KeyedStateSnapshot | undefined;
  /** The keyed part goes to the shared folder: the whole state, or a delta on `base`. */
  incremental?: { delta: boolean; base: IncrementalChain | undefined };
  raw: ReturnType<StreamOperator['snapshotRawKeyedState']>;
  operatorStates: ReturnType<OperatorStateBackend['snapshot']>;
}

/** The shared files that hold one operator's keyed state at a checkpoint. */
interface IncrementalChain {
  checkpointId: number;
  files: SharedStateFile[];
  /** Size of the chain's full file and the sum of its deltas. */
  fullBytes: number;
  deltaBytes: number;
}

export class SubtaskCheckpointCoordinator {
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private readonly incremental: boolean;
  /** Per operator id: the chain of the newest checkpoint known to have completed. */
  private readonly confirmedChains = new Map<string, IncrementalChain>();
  /** Chains written for checkpoints not yet known to have completed. */
  private readonly pendingChains = new Map<number, Map<string, IncrementalChain>>();
  /** Checkpoints that wrote deltas: if one is aborted, the JobManager may have found its base gone. */
  private readonly deltaCheckpoints = new Set<number>();
  /** Highest checkpoint id snapshotted here: a task past its end may be triggered for one it already took. */
  private lastCheckpointId = 0;

  constructor(private readonly o: SubtaskCheckpointOptions) {
    this.incremental = o.settings.incremental ?? DEFAULT_INCREMENTAL_CHECKPOINTS;
    if (this.incremental)
      for (const h of o.holders) {
        const restored = h.restoredChain;
        if (restored === undefined) continue;
        const [full, ...deltas] = restored.files;
        this.confirmedChains.set(h.operatorId, {
          checkpointId: restored.checkpointId,
          files: restored.files,
          fullBytes: full!.size,
          deltaBytes: deltas.reduce((n, f) => n + f.size, 0),
        });
      }
  }

  /**
   * Synchronous part at barrier `barrier`; the files are written in the background. A task whose
   * outputs already ended (it reached the end of its input) sends no barrier on. False when this
   * task already took that checkpoint (its barrier aligned just before the JobManager, told of the
   * end of its input, triggered it directly too).
   */
  async checkpoint(barrier: BarrierInfo, alignmentDurationMs: number, outputsEnded = false): Promise<boolean> {
    const t0 = performance.now();
    const id = barrier.checkpointId;
    if (id <= this.lastCheckpointId) {
      this.o.log.debug({ checkpointId: id }, 'checkpoint already taken here; trigger ignored');
      return false;
    }
    this.lastCheckpointId = id;
    let captured: Captured[];
    try {
      captured = await this.capture(barrier);
    } catch (e) {
      // The barrier still goes on so downstream tasks do not wait for it in vain; the JobManager aborts the checkpoint.
      if (!outputsEnded) this.broadcast({ type: 'cancelBarrier', checkpointId: id });
      this.o.decline(id, `synchronous part failed: ${(e as Error).message}`);
      throw e;
    }
    const { savepoint, stop, drain } = barrier;
    if (!outputsEnded)
      this.broadcast({
        type: 'barrier',
        checkpointId: id,
        timestamp: barrier.timestamp,
        ...(savepoint ? { savepoint } : {}),
        ...(stop ? { stop } : {}),
        ...(drain ? { drain } : {}),
      });
    const syncDurationMs = performance.now() - t0;
    const p = this.writeAsync(id, captured, syncDurationMs, alignmentDurationMs, outputsEnded).finally(() =>
      this.inFlight.delete(p),
    );
    this.inFlight.add(p);
    return true;
  }

  /** End of input: operators prepare their last commit; the ack tells the JobManager this task is done. */
  async finalCheckpoint(): Promise<void> {
    for (const h of this.o.holders)
      await h.operator.snapshotState({ checkpointId: FINAL_CHECKPOINT_ID, timestamp: Date.now() });
    this.o.acknowledge({
      jobId: this.o.jobId,
      executionId: this.o.executionId,
      checkpointId: FINAL_CHECKPOINT_ID,
      handles: [],
      syncDurationMs: 0,
      asyncDurationMs: 0,
      alignmentDurationMs: 0,
    });
  }

  /** A checkpoint this task cannot complete (alignment overtaken or canceled upstream). */
  abort(checkpointId: number, reason: string): void {
    this.broadcast({ type: 'cancelBarrier', checkpointId });
    this.o.decline(checkpointId, reason);
  }

  async notifyComplete(checkpointId: number): Promise<void> {
    this.confirmIncremental(checkpointId);
    for (const h of this.o.holders) await h.operator.notifyCheckpointComplete(checkpointId);
  }

  async notifyAborted(checkpointId: number): Promise<void> {
    this.pendingChains.delete(checkpointId);
    if (this.deltaCheckpoints.delete(checkpointId)) {
      // The abort may say that a file of the base is gone (deleted as the base was subsumed before
      // this task heard it completed): start over with full files rather than build on it again.
      this.confirmedChains.clear();
    }
    for (const h of this.o.holders) await h.operator.notifyCheckpointAborted(checkpointId);
  }

  /** Chains this task wrote for `checkpointId` become the base of later deltas. */
  private confirmIncremental(checkpointId: number): void {
    const chains = this.pendingChains.get(checkpointId);
    // A savepoint's completion says nothing about the checkpoints before it.
    if (chains === undefined) return;
    for (const id of [...this.pendingChains.keys()]) if (id <= checkpointId) this.pendingChains.delete(id);
    for (const id of [...this.deltaCheckpoints]) if (id <= checkpointId) this.deltaCheckpoints.delete(id);
    for (const h of this.o.holders) {
      const chain = chains.get(h.operatorId);
      const current = this.confirmedChains.get(h.operatorId);
      if (chain === undefined || (current !== undefined && current.checkpointId >= checkpointId)) continue;
      this.confirmedChains.set(h.operatorId, chain);
      if (h.keyed instanceof LevelKeyedStateBackend) h.keyed.confirmCheckpoint(checkpointId);
    }
  }

  /** Stops accepting results of writes still running (the task ends); waits for them briefly. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  private broadcast(event: Extract<NetworkEvent, { type: 'barrier' | 'cancelBarrier' }>): void {
    for (const w of this.o.writers) w.broadcastEvent(event);
  }

  private async capture(barrier: BarrierInfo): Promise<Captured[]> {
    this.o.beforeSnapshot?.(barrier.checkpointId);
    const { savepoint, stop, drain } = barrier;
    const ctx = {
      checkpointId: barrier.checkpointId,
      timestamp: barrier.timestamp,
      options: { savepoint, stop, drain },
    };
    const out: Captured[] = [];
    for (const h of this.o.holders) h.operator.prepareSnapshotPreBarrier(barrier.checkpointId);
    for (const h of this.o.holders) {
      await h.operator.snapshotState(ctx);
      const raw = h.operator.snapshotRawKeyedState();
      const operatorStates = h.operatorState.snapshot();
      if (this.incremental && !savepoint && h.keyed instanceof LevelKeyedStateBackend) {
        const confirmed = this.confirmedChains.get(h.operatorId);
        // Deltas that outweigh their full file: write a new full file instead.
        const base = confirmed !== undefined && confirmed.deltaBytes <= confirmed.fullBytes ? confirmed : undefined;
        const snap = h.keyed.snapshotIncremental(barrier.checkpointId, base?.checkpointId);
        out.push({
          holder: h,
          keyed: snap.snapshot,
          incremental: { delta: snap.delta, base: snap.delta ? base : undefined },
          raw,
          operatorStates,
        });
      } else {
        out.push({ holder: h, keyed: h.keyed?.snapshot(), raw, operatorStates });
      }
    }
    return out;
  }

  /** `endOfInput`: taken after the task's outputs ended, the state it will finish with. */
  private async writeAsync(
    id: number,
    captured: Captured[],
    syncDurationMs: number,
    alignmentDurationMs: number,
    endOfInput: boolean,
  ): Promise<void> {
    const t0 = performance.now();
    const dir = join(this.o.settings.jobDir, `chk-${id}`);
    const handles: OperatorSubtaskStateHandle[] = [];
    try {
      for (const c of captured) {
        const hasRaw = c.raw !== undefined && c.raw.entries.length > 0;
        if (!c.keyed && !hasRaw && c.operatorStates.length === 0) continue;
        await makeCheckpointDirectory(dir);
        const file = `op-${c.holder.operatorId}-${this.o.subtaskIndex}.state`;
        const keyGroupRange = c.keyed || hasRaw ? this.o.keyGroupRange : null;
        const shared = c.incremental ? await this.writeShared(id, c, c.incremental) : undefined;
        const { size, sha256 } = await writeSnapshotFile(join(dir, file), {
          operatorId: c.holder.operatorId,
          subtaskIndex: this.o.subtaskIndex,
          maxParallelism: this.o.maxParallelism,
          keyGroupRange,
          operatorStates: c.operatorStates,
          keyed: shared ? undefined : c.keyed,
          extraKeyed: hasRaw ? c.raw : undefined,
        });
        handles.push({
          operatorId: c.holder.operatorId,
          subtaskIndex: this.o.subtaskIndex,
          file,
          size,
          sha256,
          keyGroupRange,
          operatorStates: c.operatorStates.map((s) => s.name),
          ...(shared ? { shared: shared.files } : {}),
        });
      }
      if (this.closed) return;
      this.o.acknowledge({
        jobId: this.o.jobId,
        executionId: this.o.executionId,
        checkpointId: id,
        handles,
        syncDurationMs: Math.round(syncDurationMs * 1000) / 1000,
        asyncDurationMs: Math.round((performance.now() - t0) * 1000) / 1000,
        alignmentDurationMs: Math.round(alignmentDurationMs * 1000) / 1000,
        ...(endOfInput ? { endOfInput } : {}),
      });
    } catch (e) {
      this.pendingChains.delete(id);
      this.o.log.warn({ err: (e as Error).message, checkpointId: id }, 'writing checkpoint state failed');
      // A full or read-only directory is said so, for the JobManager to keep the job running and alert.
      const storage = storageFailureOf(e, dir);
      if (!this.closed)
        this.o.decline(
          id,
          storage ? describeStorageFailure(storage) : `asynchronous part failed: ${(e as Error).message}`,
        );
    } finally {
      for (const c of captured) c.keyed?.release();
    }
  }

  /** Writes the keyed part of an incremental checkpoint to the shared folder; returns its chain. */
  private async writeShared(
    id: number,
    c: Captured,
    inc: NonNullable<Captured['incremental']>,
  ): Promise<IncrementalChain> {
    const sharedDir = join(this.o.settings.jobDir, SHARED_STATE_DIR);
    await makeCheckpointDirectory(sharedDir);
    const { operatorId } = c.holder;
    // The checkpoint id in the name lets the JobManager sweep files of checkpoints that never completed.
    const name = `${operatorId}-${this.o.subtaskIndex}-${id}-${randomBytes(4).toString('hex')}.${inc.delta ? 'delta' : 'full'}`;
    const { size, sha256 } = await writeSnapshotFile(join(sharedDir, name), {
      operatorId,
      subtaskIndex: this.o.subtaskIndex,
      maxParallelism: this.o.maxParallelism,
      keyGroupRange: this.o.keyGroupRange,
      operatorStates: [],
      keyed: c.keyed,
      delta: inc.delta,
    });
    const file: SharedStateFile = { name, size, sha256, delta: inc.delta, checkpointId: id };
    const base = inc.base;
    const chain: IncrementalChain = base
      ? {
          checkpointId: id,
          files: [...base.files, file],
          fullBytes: base.fullBytes,
          deltaBytes: base.deltaBytes + size,
        }
      : { checkpointId: id, files: [file], fullBytes: size, deltaBytes: 0 };
    let chains = this.pendingChains.get(id);
    if (chains === undefined) this.pendingChains.set(id, (chains = new Map()));
    chains.set(operatorId, chain);
    if (inc.delta) this.deltaCheckpoints.add(id);
    return chain;
  }
}
