// Flink's InternalTimerService: per-key timers in event time and processing time, keyed by
// (key, namespace, timestamp) so a timer is set at most once. Event-time timers fire when the
// watermark passes them, in timestamp order; processing-time timers fire from the task's
// mailbox, never in the middle of processing a record. Timers live on the heap whatever the state
// backend (as Flink's heap timers with RocksDB); checkpoints take them as raw keyed entries.
import type { KeyedEntry, Namespace, StateMeta } from '../state/types.js';

/** Where timers read and set the current key (the keyed operator that owns them). */
export interface KeyContext {
  getCurrentKey(): unknown;
  setCurrentKey(key: unknown): void;
}

export interface InternalTimer<N> {
  readonly key: unknown;
  readonly namespace: N;
  readonly timestamp: number;
}

export interface Triggerable<N> {
  onEventTime(timer: InternalTimer<N>): void;
  onProcessingTime(timer: InternalTimer<N>): void;
}

/** Runs callbacks inside the task (its mailbox) at a processing time. */
export interface ProcessingTimeService {
  now(): number;
  /** Schedules `fn` to run in the task's mailbox at or after `time`; returns a cancel function. */
  schedule(time: number, fn: () => void): () => void;
}

/** Namespaces need a stable identity: a string ("start:end") or a number (a fixed-size window's start). */
export type NamespaceId<N> = (namespace: N) => string | number;

/** Turns a timer's namespace into plain data for a snapshot and back (a window into its id, say). */
export interface TimerNamespaceSerializer<N> {
  serialize(namespace: N): Namespace;
  deserialize(namespace: Namespace): N;
}

/** Timers of one service as raw keyed state: entries [state, key, namespace, timestamp]. */
export interface TimerSnapshot {
  states: StateMeta[];
  entries: KeyedEntry[];
}

/** State names of a timer service's snapshot (they start with '_timer', which marks raw timer state). */
export function timerStateNames(serviceName: string): { event: string; processing: string } {
  return { event: `_timer/${serviceName}/event`, processing: `_timer/${serviceName}/processing` };
}

/**
 * The timers of one timestamp and namespace: the namespace (the first one registered: equal
 * namespaces are one) and each timer's key by normalized key. A timer costs one map entry while
 * it waits (windows of thousands of keys end together); the InternalTimer is made when it fires.
 */
interface NamespaceTimers<N> {
  readonly namespace: N;
  readonly keys: Map<unknown, unknown>;
}

/** The timers of one timestamp, by namespace id. */
type Bucket<N> = Map<string | number, NamespaceTimers<N>>;

/** A binary min-heap of numbers. */
class TimeHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): number | undefined {
    return this.items[0];
  }

  push(t: number): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= t) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = t;
  }

  pop(): void {
    const a = this.items;
    const last = a.pop();
    const n = a.length;
    if (n === 0 || last === undefined) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = -1;
      let best = last;
      if (l < n && a[l]! < best) {
        m = l;
        best = a[l]!;
      }
      if (r < n && a[r]! < best) m = r;
      if (m < 0) break;
      a[i] = a[m]!;
      i = m;
    }
    a[i] = last;
  }
}

/**
 * The live timers of one time domain, in buckets by timestamp, set at most once per (key,
 * namespace, timestamp). Flink keeps timers in a heap beside a set for deduplication; here the
 * windows of many keys end at the same few timestamps, so a bucket holds many timers: registering
 * one costs a bucket lookup (mostly the bucket used last) and two map operations, and firing walks
 * the buckets in time order with no heap operation per timer. Within a timestamp, timers fire in
 * the order of their namespaces' first registration, then of registration.
 */
class TimerQueue<N> {
  private readonly buckets = new Map<number, Bucket<N>>();
  /** Timestamps of buckets, pushed when a bucket is made; one whose bucket is gone is skipped. */
  private readonly times = new TimeHeap();
  private lastTime = NaN;
  private lastBucket: Bucket<N> | undefined = undefined;
  size = 0;

  add(nk: unknown, ns: string | number, key: unknown, namespace: N, time: number): boolean {
    let bucket = time === this.lastTime ? this.lastBucket : this.buckets.get(time);
    if (bucket === undefined) {
      this.buckets.set(time, (bucket = new Map()));
      this.times.push(time);
    }
    this.lastTime = time;
    this.lastBucket = bucket;
    let timers = bucket.get(ns);
    if (timers === undefined) bucket.set(ns, (timers = { namespace, keys: new Map() }));
    const keys = timers.keys;
    // One lookup: a key already there keeps its place (an equal key, by normalized key).
    const before = keys.size;
    keys.set(nk, key);
    if (keys.size === before) return false;
    this.size++;
    return true;
  }

  delete(nk: unknown, ns: string | number, time: number): boolean {
    const bucket = this.buckets.get(time);
    const byKey = bucket?.get(ns)?.keys;
    if (byKey === undefined || !byKey.delete(nk)) return false;
    this.size--;
    if (byKey.size === 0) {
      bucket!.delete(ns);
      if (bucket!.size === 0) this.dropBucket(time, bucket!);
    }
    return true;
  }

  private dropBucket(time: number, bucket: Bucket<N>): void {
    if (this.buckets.get(time) === bucket) this.buckets.delete(time);
    if (this.lastBucket === bucket) {
      this.lastBucket = undefined;
      this.lastTime = NaN;
    }
  }

  /** The earliest timestamp with timers. */
  nextTime(): number | undefined {
    const times = this.times;
    let t: number | undefined;
    while ((t = times.peek()) !== undefined && !this.buckets.has(t)) times.pop();
    return t;
  }

  /**
   * Removes and fires every timer at or before `upTo`, in timestamp order. Timers that `fire` sets
   * at or before `upTo` fire too; timers it deletes before their turn do not.
   */
  fireUpTo(upTo: number, fire: (timer: InternalTimer<N>) => void): void {
    let t: number | undefined;
    while ((t = this.nextTime()) !== undefined && t <= upTo) {
      this.times.pop();
      const bucket = this.buckets.get(t)!;
      // Map iteration visits what is added meanwhile and skips what is deleted before its turn.
      for (const [ns, timers] of bucket) {
        const { namespace, keys } = timers;
        for (const [nk, key] of keys) {
          keys.delete(nk);
          this.size--;
          fire({ key, namespace, timestamp: t });
        }
        // Emptied: a timer set in this namespace from now on must land in a map still ahead of the walk.
        if (bucket.get(ns) === timers) bucket.delete(ns);
      }
      this.dropBucket(t, bucket);
    }
  }

  /** Every live timer, in timestamp order. */
  toArray(): InternalTimer<N>[] {
    const out: InternalTimer<N>[] = [];
    for (const timestamp of [...this.buckets.keys()].sort((a, b) => a - b)) {
      for (const { namespace, keys } of this.buckets.get(timestamp)!.values())
        for (const key of keys.values()) out.push({ key, namespace, timestamp });
    }
    return out;
  }
}

/** Primitive keys stand for themselves in a Map; structured keys by their JSON. */
function normalizeKey(key: unknown): unknown {
  return key !== null && typeof key === 'object' ? `\u0000${JSON.stringify(key)}` : key;
}

export const MIN_WATERMARK = Number.MIN_SAFE_INTEGER;
export const MAX_WATERMARK = Number.MAX_SAFE_INTEGER;

export class InternalTimerService<N> {
  private readonly eventTimers = new TimerQueue<N>();
  private readonly processingTimers = new TimerQueue<N>();
  private readonly fireEventTimer = (t: InternalTimer<N>): void => {
    this.keyContext.setCurrentKey(t.key);
    this.triggerable.onEventTime(t);
  };
  private readonly fireProcessingTimer = (t: InternalTimer<N>): void => {
    this.keyContext.setCurrentKey(t.key);
    this.triggerable.onProcessingTime(t);
  };
  private watermark = MIN_WATERMARK;
  /**
   * The event-time timer registered last, live until a timer fires or is deleted: triggers register
   * the same end-of-window timer for every element of a window, which then costs no lookup.
   */
  private lastEventNk: unknown = undefined;
  private lastEventNs: string | number | undefined = undefined;
  private lastEventTime = NaN;
  private nextProcessingFire = Infinity;
  private cancelProcessing: (() => void) | undefined;

  private readonly eventStateName: string;
  private readonly processingStateName: string;

  /**
   * @param serviceName names the timers in snapshots (Flink's "user-timers", "window-timers"); one
   *   operator's services need distinct names
   * @param serializer namespaces to plain data and back; without one, namespaces must already be
   *   strings or numbers
   */
  constructor(
    private readonly keyContext: KeyContext,
    private readonly triggerable: Triggerable<N>,
    private readonly processingTime: ProcessingTimeService,
    private readonly namespaceId: NamespaceId<N>,
    readonly serviceName = 'user-timers',
    private readonly serializer?: TimerNamespaceSerializer<N>,
  ) {
    ({ event: this.eventStateName, processing: this.processingStateName } = timerStateNames(serviceName));
  }

  currentWatermark(): number {
    return this.watermark;
  }

  currentProcessingTime(): number {
    return this.processingTime.now();
  }

  registerEventTimeTimer(namespace: N, time: number): void {
    const key = this.keyContext.getCurrentKey();
    const nk = normalizeKey(key);
    const ns = this.namespaceId(namespace);
    if (time === this.lastEventTime && ns === this.lastEventNs && nk === this.lastEventNk) return;
    this.lastEventNk = nk;
    this.lastEventNs = ns;
    this.lastEventTime = time;
    this.eventTimers.add(nk, ns, key, namespace, time);
  }

  deleteEventTimeTimer(namespace: N, time: number): void {
    this.lastEventTime = NaN;
    this.eventTimers.delete(normalizeKey(this.keyContext.getCurrentKey()), this.namespaceId(namespace), time);
  }

  registerProcessingTimeTimer(namespace: N, time: number): void {
    const key = this.keyContext.getCurrentKey();
    const nk = normalizeKey(key);
    const ns = this.namespaceId(namespace);
    if (!this.processingTimers.add(nk, ns, key, namespace, time)) return;
    if (time < this.nextProcessingFire) this.scheduleProcessing(time);
  }

  deleteProcessingTimeTimer(namespace: N, time: number): void {
    this.processingTimers.delete(normalizeKey(this.keyContext.getCurrentKey()), this.namespaceId(namespace), time);
  }

  /** Fires every event-time timer at or before `watermark`, in timestamp order. */
  advanceWatermark(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    // What fires (also a timer set while firing) is no longer live: forget it as the one set last.
    if (this.lastEventTime <= watermark) this.lastEventTime = NaN;
    this.eventTimers.fireUpTo(watermark, this.fireEventTimer);
    if (this.lastEventTime <= watermark) this.lastEventTime = NaN;
  }

  private scheduleProcessing(time: number): void {
    this.cancelProcessing?.();
    this.nextProcessingFire = time;
    this.cancelProcessing = this.processingTime.schedule(time, () => this.fireProcessingTimers());
  }

  private fireProcessingTimers(): void {
    this.cancelProcessing = undefined;
    this.nextProcessingFire = Infinity;
    this.processingTimers.fireUpTo(this.processingTime.now(), this.fireProcessingTimer);
    const next = this.processingTimers.nextTime();
    if (next !== undefined) this.scheduleProcessing(next);
  }

  numEventTimeTimers(): number {
    return this.eventTimers.size;
  }

  numProcessingTimeTimers(): number {
    return this.processingTimers.size;
  }

  /** Live timers, for tests. */
  timers(): { eventTime: InternalTimer<N>[]; processingTime: InternalTimer<N>[] } {
    return {
      eventTime: this.eventTimers.toArray(),
      processingTime: this.processingTimers.toArray(),
    };
  }

  /**
   * Live timers as raw keyed entries [state, key, namespace, timestamp], taken at once (the
   * synchronous part of a checkpoint): later changes do not show in them.
   */
  snapshot(): TimerSnapshot {
    const entries: KeyedEntry[] = [];
    const add = (state: string, queue: TimerQueue<N>): void => {
      for (const e of queue.toArray()) entries.push([state, e.key, this.serializeNamespace(e.namespace), e.timestamp]);
    };
    add(this.eventStateName, this.eventTimers);
    add(this.processingStateName, this.processingTimers);
    return {
      states: [
        { name: this.eventStateName, kind: 'raw' },
        { name: this.processingStateName, kind: 'raw' },
      ],
      entries,
    };
  }

  /** Whether `stateName` is one of this service's snapshot states. */
  ownsState(stateName: string): boolean {
    return stateName === this.eventStateName || stateName === this.processingStateName;
  }

  /**
   * Puts back one entry of snapshot(), before processing starts: an event-time timer fires once the
   * watermark passes it, a processing-time timer is scheduled again (at once when already due).
   */
  restore(entry: KeyedEntry): void {
    const [state, key, namespace, timestamp] = entry;
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
      throw new Error(
        `timer service '${this.serviceName}': restored timer of state '${state}' has no timestamp (got ${JSON.stringify(timestamp)})`,
      );
    }
    const ns = this.deserializeNamespace(namespace);
    const nk = normalizeKey(key);
    const id = this.namespaceId(ns);
    if (state === this.eventStateName) {
      this.eventTimers.add(nk, id, key, ns, timestamp);
    } else if (state === this.processingStateName) {
      if (!this.processingTimers.add(nk, id, key, ns, timestamp)) return;
      if (timestamp < this.nextProcessingFire) this.scheduleProcessing(timestamp);
    } else {
      throw new Error(
        `timer service '${this.serviceName}' has no state '${state}' (it restores '${this.eventStateName}' and '${this.processingStateName}')`,
      );
    }
  }

  private serializeNamespace(namespace: N): Namespace {
    if (this.serializer) return this.serializer.serialize(namespace);
    if (typeof namespace === 'string' || typeof namespace === 'number') return namespace;
    throw new Error(
      `timer service '${this.serviceName}': a namespace of type ${typeof namespace} needs a TimerNamespaceSerializer to be snapshotted`,
    );
  }

  private deserializeNamespace(namespace: Namespace): N {
    return this.serializer ? this.serializer.deserialize(namespace) : (namespace as N);
  }

  close(): void {
    this.cancelProcessing?.();
    this.cancelProcessing = undefined;
  }
}
