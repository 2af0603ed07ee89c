// The TaskManager's registry of result partitions (Flink's ResultPartitionManager). Producers and
// consumers are deployed at about the same time, so a subscription that arrives before its
// partition is registered waits for it, up to a timeout.
import type { ResultPartition } from './result-partition.js';
import { NO_SUBSCRIPTION, type SubpartitionSubscription, type SubpartitionView } from './result-subpartition.js';

const MAX_REMEMBERED_RELEASES = 4096;

class PendingSubscription implements SubpartitionSubscription {
  credit: number;
  /** A buffer size announced before the partition was registered. */
  bufferSize: number | undefined;
  target: SubpartitionSubscription | null = null;
  cancelled = false;
  timer: NodeJS.Timeout | null = null;

  constructor(
    readonly subpartition: number,
    readonly view: SubpartitionView,
    initialCredit: number,
    private readonly onCancel: (s: PendingSubscription) => void,
  ) {
    this.credit = initialCredit;
  }

  addCredit(n: number): void {
    if (this.target) this.target.addCredit(n);
    else this.credit += n;
  }

  setBufferSize(bytes: number): void {
    if (this.target) this.target.setBufferSize(bytes);
    else this.bufferSize = bytes;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.target) this.target.cancel();
    else this.onCancel(this);
  }
}

export class ResultPartitionManager {
  private readonly partitions = new Map<string, ResultPartition>();
  private readonly waiting = new Map<string, Set<PendingSubscription>>();
  /** Why recently released partitions went away, so late subscribers fail at once with the reason. */
  private readonly released = new Map<string, string>();

  constructor(
    private readonly taskManagerId: string,
    private readonly requestTimeoutMs: number,
  ) {}

  register(partition: ResultPartition): void {
    const id = partition.partitionId;
    if (this.partitions.has(id))
      throw new Error(`partition ${id} is already registered on TaskManager ${this.taskManagerId}`);
    this.partitions.set(id, partition);
    this.released.delete(id);
    const pending = this.waiting.get(id);
    if (!pending) return;
    this.waiting.delete(id);
    for (const s of pending) {
      if (s.timer) clearTimeout(s.timer);
      s.target = partition.subscribe(s.subpartition, s.view, s.credit);
      if (s.bufferSize !== undefined) s.target.setBufferSize(s.bufferSize);
    }
  }

  /** Forgets a partition; waiting and later subscribers fail with `reason`. */
  unregister(partitionId: string, reason: string): void {
    if (this.partitions.get(partitionId) === undefined) return;
    this.partitions.delete(partitionId);
    this.released.set(partitionId, reason);
    if (this.released.size > MAX_REMEMBERED_RELEASES) {
      const oldest = this.released.keys().next().value as string;
      this.released.delete(oldest);
    }
  }

  get(partitionId: string): ResultPartition | undefined {
    return this.partitions.get(partitionId);
  }

  all(): ResultPartition[] {
    return [...this.partitions.values()];
  }

  subscribe(
    partitionId: string,
    subpartition: number,
    view: SubpartitionView,
    initialCredit: number,
  ): SubpartitionSubscription {
    const partition = this.partitions.get(partitionId);
    if (partition) return partition.subscribe(subpartition, view, initialCredit);
    const reason = this.released.get(partitionId);
    if (reason !== undefined) {
      view.onError(new Error(`partition ${partitionId} was released: ${reason}`));
      return NO_SUBSCRIPTION;
    }
    const pending = new PendingSubscription(subpartition, view, initialCredit, (s) => this.dropPending(partitionId, s));
    let set = this.waiting.get(partitionId);
    if (!set) this.waiting.set(partitionId, (set = new Set()));
    set.add(pending);
    pending.timer = setTimeout(() => {
      this.dropPending(partitionId, pending);
      view.onError(
        new Error(
          `partition ${partitionId} is not registered on TaskManager ${this.taskManagerId} (waited ${this.requestTimeoutMs} ms)`,
        ),
      );
    }, this.requestTimeoutMs);
    pending.timer.unref();
    return pending;
  }

  /** Fails every waiting subscription (TaskManager shutting down). */
  close(reason: string): void {
    const all = [...this.waiting.values()].flatMap((s) => [...s]);
    this.waiting.clear();
    for (const s of all) {
      if (s.timer) clearTimeout(s.timer);
      s.view.onError(new Error(reason));
    }
  }

  private dropPending(partitionId: string, s: PendingSubscription): void {
    if (s.timer) clearTimeout(s.timer);
    const set = this.waiting.get(partitionId);
    if (!set) return;
    set.delete(s);
    if (set.size === 0) this.waiting.delete(partitionId);
  }
}
