// Barrier handling of a task with inputs (Flink's CheckpointBarrierHandler). EXACTLY_ONCE aligns:
// a channel that delivered barrier n is held until every open channel has, so the snapshot sees
// exactly the records before barrier n on every input. AT_LEAST_ONCE only counts barriers (Flink's
// CheckpointBarrierTracker): records after a barrier may already be in the snapshot's state and are
// replayed after a restore.
import type { CheckpointingMode, CheckpointOptions } from '../../common/checkpoint.js';

export interface BarrierInfo extends CheckpointOptions {
  checkpointId: number;
  timestamp: number;
}

export interface BarrierHandlerActions {
  /** Holds back / releases one channel (by its index over all of the task's inputs). */
  blockChannel(channel: number): void;
  resumeChannel(channel: number): void;
  /** Every open channel delivered the barrier: snapshot now, before the next record is processed. */
  triggerCheckpoint(barrier: BarrierInfo, alignmentDurationMs: number): Promise<void>;
  /** The checkpoint cannot complete here (a newer barrier overtook it, or upstream canceled it). */
  abortCheckpoint(checkpointId: number, reason: string): void;
}

export class CheckpointBarrierHandler {
  private readonly finished: Uint8Array;
  private numOpen: number;
  /** Highest checkpoint id seen: barriers of older ones are late and ignored. */
  private currentId = -1;
  private readonly received: Uint8Array;
  private readonly blocked: Uint8Array;
  private numReceived = 0;
  private alignmentStart = 0;
  private pendingBarrier: BarrierInfo | undefined;
  /** AT_LEAST_ONCE: barrier counts per checkpoint id in flight. */
  private readonly counts = new Map<number, { barrier: BarrierInfo; n: number; start: number }>();

  constructor(
    readonly numChannels: number,
    private readonly mode: CheckpointingMode,
    private readonly actions: BarrierHandlerActions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.finished = new Uint8Array(numChannels);
    this.received = new Uint8Array(numChannels);
    this.blocked = new Uint8Array(numChannels);
    this.numOpen = numChannels;
  }

  /** A checkpoint is being aligned (some channels are held). */
  get isAligning(): boolean {
    return this.pendingBarrier !== undefined;
  }

  async processBarrier(channel: number, barrier: BarrierInfo): Promise<void> {
    if (this.mode === 'AT_LEAST_ONCE') return this.trackBarrier(barrier);
    const id = barrier.checkpointId;
    if (id < this.currentId || (id === this.currentId && this.pendingBarrier === undefined)) return;
    if (id > this.currentId) {
      if (this.pendingBarrier)
        this.abortAlignment(`barrier of checkpoint ${id} arrived before checkpoint ${this.currentId} was aligned`);
      this.currentId = id;
      this.pendingBarrier = barrier;
      this.alignmentStart = this.now();
    }
    if (this.received[channel]) return;
    this.received[channel] = 1;
    this.numReceived++;
    if (this.numReceived < this.numOpen) {
      this.blocked[channel] = 1;
      this.actions.blockChannel(channel);
      return;
    }
    await this.completeAlignment();
  }

  /** Upstream gave up on checkpoint `checkpointId` (its CancelCheckpointMarker). */
  processCancelBarrier(checkpointId: number): void {
    if (this.mode === 'AT_LEAST_ONCE') {
      for (const id of [...this.counts.keys()]) if (id <= checkpointId) this.counts.delete(id);
      if (checkpointId > this.currentId) this.currentId = checkpointId;
      this.actions.abortCheckpoint(checkpointId, 'canceled upstream');
      return;
    }
    if (checkpointId < this.currentId) return;
    if (checkpointId === this.currentId && !this.pendingBarrier) return;
    if (this.pendingBarrier) this.abortAlignment('canceled upstream');
    this.currentId = checkpointId;
    this.actions.abortCheckpoint(checkpointId, 'canceled upstream');
  }

  /** A channel ended: it no longer takes part in alignment. */
  async processEndOfPartition(channel: number): Promise<void> {
    if (this.finished[channel]) return;
    this.finished[channel] = 1;
    this.numOpen--;
    if (this.mode === 'AT_LEAST_ONCE') {
      for (const [id, c] of this.counts) if (c.n >= this.numOpen) await this.fireTracked(id);
      return;
    }
    if (!this.pendingBarrier) return;
    if (this.received[channel]) {
      this.received[channel] = 0;
      this.numReceived--;
    }
    if (this.blocked[channel]) {
      this.blocked[channel] = 0;
      this.actions.resumeChannel(channel);
    }
    if (this.numReceived >= this.numOpen) await this.completeAlignment();
  }

  private async completeAlignment(): Promise<void> {
    const barrier = this.pendingBarrier!;
    const alignment = this.now() - this.alignmentStart;
    this.releaseAll();
    await this.actions.triggerCheckpoint(barrier, alignment);
  }

  private abortAlignment(reason: string): void {
    const id = this.currentId;
    this.releaseAll();
    this.actions.abortCheckpoint(id, reason);
  }

  private releaseAll(): void {
    for (let c = 0; c < this.numChannels; c++) {
      this.received[c] = 0;
      if (this.blocked[c]) {
        this.blocked[c] = 0;
        this.actions.resumeChannel(c);
      }
    }
    this.numReceived = 0;
    this.pendingBarrier = undefined;
  }

  private async trackBarrier(barrier: BarrierInfo): Promise<void> {
    const id = barrier.checkpointId;
    if (id <= this.currentId) return;
    let c = this.counts.get(id);
    if (!c) this.counts.set(id, (c = { barrier, n: 0, start: this.now() }));
    c.n++;
    if (c.n >= this.numOpen) await this.fireTracked(id);
  }

  private async fireTracked(id: number): Promise<void> {
    const c = this.counts.get(id);
    if (!c) return;
    // A newer checkpoint complete here subsumes older ones still missing barriers.
    for (const older of [...this.counts.keys()]) {
      if (older < id) {
        this.counts.delete(older);
        this.actions.abortCheckpoint(older, `checkpoint ${id} completed first`);
      }
    }
    this.counts.delete(id);
    this.currentId = id;
    await this.actions.triggerCheckpoint(c.barrier, this.now() - c.start);
  }
}
