// One subtask's part in checkpoints (Flink's SubtaskCheckpointCoordinator): at a barrier it runs
// the synchronous part (operators copy in-flight work into state, backends freeze a view), sends
// the barrier on, and writes the state files asynchronously while the task keeps processing;
// then it acknowledges with the files' handles, or declines.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FINAL_CHECKPOINT_ID, type OperatorSubtaskStateHandle, type TaskCheckpointAck, type TaskCheckpointSettings } from '../../common/checkpoint.js';
import type { KeyGroupRange } from '../../common/keygroups.js';
import type { Logger } from '../../common/logging.js';
import type { StreamOperator } from '../operators/operator.js';
import type { OperatorStateBackend } from '../state/operator-state.js';
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
  beforeSnapshot?: () => void;
  acknowledge(ack: TaskCheckpointAck): void;
  decline(checkpointId: number, reason: string): void;
  log: Logger;
}

interface Captured {
  holder: OperatorStateHolder;
  keyed: KeyedStateSnapshot | undefined;
  raw: ReturnType<StreamOperator['snapshotRawKeyedState']>;
  operatorStates: ReturnType<OperatorStateBackend['snapshot']>;
}

export class SubtaskCheckpointCoordinator {
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly o: SubtaskCheckpointOptions) {}

  /**
   * Synchronous part at barrier `barrier`; the files are written in the background. A task whose
   * outputs already ended (it reached the end of its input) sends no barrier on.
   */
  async checkpoint(barrier: BarrierInfo, alignmentDurationMs: number, outputsEnded = false): Promise<void> {
    const t0 = performance.now();
    const id = barrier.checkpointId;
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
    if (!outputsEnded) this.broadcast({ type: 'barrier', checkpointId: id, timestamp: barrier.timestamp, ...(savepoint ? { savepoint } : {}), ...(stop ? { stop } : {}), ...(drain ? { drain } : {}) });
    const syncDurationMs = performance.now() - t0;
    const p = this.writeAsync(id, captured, syncDurationMs, alignmentDurationMs).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** End of input: operators prepare their last commit; the ack tells the JobManager this task is done. */
  async finalCheckpoint(): Promise<void> {
    for (const h of this.o.holders) await h.operator.snapshotState({ checkpointId: FINAL_CHECKPOINT_ID, timestamp: Date.now() });
    this.o.acknowledge({ jobId: this.o.jobId, executionId: this.o.executionId, checkpointId: FINAL_CHECKPOINT_ID, handles: [], syncDurationMs: 0, asyncDurationMs: 0, alignmentDurationMs: 0 });
  }

  /** A checkpoint this task cannot complete (alignment overtaken or canceled upstream). */
  abort(checkpointId: number, reason: string): void {
    this.broadcast({ type: 'cancelBarrier', checkpointId });
    this.o.decline(checkpointId, reason);
  }

  async notifyComplete(checkpointId: number): Promise<void> {
    for (const h of this.o.holders) await h.operator.notifyCheckpointComplete(checkpointId);
  }

  async notifyAborted(checkpointId: number): Promise<void> {
    for (const h of this.o.holders) await h.operator.notifyCheckpointAborted(checkpointId);
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
    this.o.beforeSnapshot?.();
    const { savepoint, stop, drain } = barrier;
    const ctx = { checkpointId: barrier.checkpointId, timestamp: barrier.timestamp, options: { savepoint, stop, drain } };
    const out: Captured[] = [];
    for (const h of this.o.holders) {
      await h.operator.snapshotState(ctx);
      out.push({ holder: h, keyed: h.keyed?.snapshot(), raw: h.operator.snapshotRawKeyedState(), operatorStates: h.operatorState.snapshot() });
    }
    return out;
  }

  private async writeAsync(id: number, captured: Captured[], syncDurationMs: number, alignmentDurationMs: number): Promise<void> {
    const t0 = performance.now();
    const dir = join(this.o.settings.jobDir, `chk-${id}`);
    const handles: OperatorSubtaskStateHandle[] = [];
    try {
      for (const c of captured) {
        const hasRaw = c.raw !== undefined && c.raw.entries.length > 0;
        if (!c.keyed && !hasRaw && c.operatorStates.length === 0) continue;
        await mkdir(dir, { recursive: true });
        const file = `op-${c.holder.operatorId}-${this.o.subtaskIndex}.state`;
        const keyGroupRange = c.keyed || hasRaw ? this.o.keyGroupRange : null;
        const { size, sha256 } = await writeSnapshotFile(join(dir, file), {
          operatorId: c.holder.operatorId,
          subtaskIndex: this.o.subtaskIndex,
          maxParallelism: this.o.maxParallelism,
          keyGroupRange,
          operatorStates: c.operatorStates,
          keyed: c.keyed,
          extraKeyed: hasRaw ? c.raw : undefined,
        });
        handles.push({ operatorId: c.holder.operatorId, subtaskIndex: this.o.subtaskIndex, file, size, sha256, keyGroupRange, operatorStates: c.operatorStates.map((s) => s.name) });
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
      });
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message, checkpointId: id }, 'writing checkpoint state failed');
      if (!this.closed) this.o.decline(id, `asynchronous part failed: ${(e as Error).message}`);
    } finally {
      for (const c of captured) c.keyed?.release();
    }
  }
}
