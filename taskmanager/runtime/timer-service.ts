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

interface Entry<N> extends InternalTimer<N> {
  /** Normalized key and namespace id, to find the entry's liveness without rebuilding strings. */
  nk: unknown;
  ns: string | number;
}

/**
 * Live timers as namespace -> key -> timestamps. Nested maps instead of one composite string key:
 * registering a timer is on the per-record path of windows and must not build strings. Namespace
 * first, as the heap state backend: windows are few and keys many, so the key maps stay few and
 * large instead of one small map per key. A (key, namespace) mostly has one timer (a window's
 * end), kept as the number itself; a Set only once it has several.
 */
class TimerSet {
  private readonly byNs = new Map<string | number, Map<unknown, number | Set<number>>>();
  size = 0;

  add(nk: unknown, ns: string | number, time: number): boolean {
    let byKey = this.byNs.get(ns);
    if (!byKey) this.byNs.set(ns, (byKey = new Map()));
    const times = byKey.get(nk);
    if (times === undefined) byKey.set(nk, time);
    else if (typeof times === 'number') {
      if (times === time) return false;
      byKey.set(nk, new Set([times, time]));
    } else {
      if (times.has(time)) return false;
      times.add(time);
    }
    this.size++;
    return true;
  }

  has(nk: unknown, ns: string | number, time: number): boolean {
    const times = this.byNs.get(ns)?.get(nk);
    return times === undefined ? false : typeof times === 'number' ? times === time : times.has(time);
  }

  delete(nk: unknown, ns: string | number, time: number): boolean {
    const byKey = this.byNs.get(ns);
    if (!byKey) return false;
    const times = byKey.get(nk);
    if (times === undefined) return false;
    if (typeof times === 'number') {
      if (times !== time) return false;
      byKey.delete(nk);
    } else {
      if (!times.delete(time)) return false;
      if (times.size === 0) byKey.delete(nk);
    }
    this.size--;
    if (byKey.size === 0) this.byNs.delete(ns);
    return true;
  }
}

/** A binary min-heap on timestamp. */
class TimerHeap<N> {
  private readonly items: Entry<N>[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Entry<N> | undefined {
    return this.items[0];
  }

  push(e: Entry<N>): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.timestamp <= e.timestamp) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = e;
  }

  pop(): Entry<N> | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = -1;
        let best = last.timestamp;
        if (l < n && a[l]!.timestamp < best) {
          m = l;
          best = a[l]!.timestamp;
        }
        if (r < n && a[r]!.timestamp < best) m = r;
        if (m < 0) break;
        a[i] = a[m]!;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }

  toArray(): Entry<N>[] {
    return [...this.items];
  }
}

/** Primitive keys stand for themselves in a Map; structured keys by their JSON. */
function normalizeKey(key: unknown): unknown {
  return key !== null && typeof key === 'object' ? `\u0000${JSON.stringify(key)}` : key;
}

export const MIN_WATERMARK = Number.MIN_SAFE_INTEGER;
export const MAX_WATERMARK = Number.MAX_SAFE_INTEGER;

export class InternalTimerService<N> {
  private readonly eventTimers = new TimerHeap<N>();
  private readonly processingTimers = new TimerHeap<N>();
  /** Live timers; deleting removes one here and its heap entry is skipped when it surfaces. */
  private readonly liveEvent = new TimerSet();
  private readonly liveProcessing = new TimerSet();
  private watermark = MIN_WATERMARK;
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
    if (!this.liveEvent.add(nk, ns, time)) return;
    this.eventTimers.push({ nk, ns, key, namespace, timestamp: time });
  }

  deleteEventTimeTimer(namespace: N, time: number): void {
    this.liveEvent.delete(normalizeKey(this.keyContext.getCurrentKey()), this.namespaceId(namespace), time);
  }

  registerProcessingTimeTimer(namespace: N, time: number): void {
    const key = this.keyContext.getCurrentKey();
    const nk = normalizeKey(key);
    const ns = this.namespaceId(namespace);
    if (!this.liveProcessing.add(nk, ns, time)) return;
    this.processingTimers.push({ nk, ns, key, namespace, timestamp: time });
    if (time < this.nextProcessingFire) this.scheduleProcessing(time);
  }

  deleteProcessingTimeTimer(namespace: N, time: number): void {
    this.liveProcessing.delete(normalizeKey(this.keyContext.getCurrentKey()), this.namespaceId(namespace), time);
  }

  /** Fires every event-time timer at or before `watermark`, in timestamp order. */
  advanceWatermark(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    let t: Entry<N> | undefined;
    while ((t = this.eventTimers.peek()) !== undefined && t.timestamp <= watermark) {
      this.eventTimers.pop();
      if (!this.liveEvent.delete(t.nk, t.ns, t.timestamp)) continue;
      this.keyContext.setCurrentKey(t.key);
      this.triggerable.onEventTime(t);
    }
  }

  private scheduleProcessing(time: number): void {
    this.cancelProcessing?.();
    this.nextProcessingFire = time;
    this.cancelProcessing = this.processingTime.schedule(time, () => this.fireProcessingTimers());
  }

  private fireProcessingTimers(): void {
    this.cancelProcessing = undefined;
    this.nextProcessingFire = Infinity;
    const now = this.processingTime.now();
    let t: Entry<N> | undefined;
    while ((t = this.processingTimers.peek()) !== undefined && t.timestamp <= now) {
      this.processingTimers.pop();
      if (!this.liveProcessing.delete(t.nk, t.ns, t.timestamp)) continue;
      this.keyContext.setCurrentKey(t.key);
      this.triggerable.onProcessingTime(t);
    }
    // Skip entries deleted meanwhile so the next wake-up is for a live timer.
    while ((t = this.processingTimers.peek()) !== undefined && !this.liveProcessing.has(t.nk, t.ns, t.timestamp)) this.processingTimers.pop();
    if (t) this.scheduleProcessing(t.timestamp);
  }

  numEventTimeTimers(): number {
    return this.liveEvent.size;
  }

  numProcessingTimeTimers(): number {
    return this.liveProcessing.size;
  }

  /** Live timers, for tests. */
  timers(): { eventTime: InternalTimer<N>[]; processingTime: InternalTimer<N>[] } {
    const strip = (e: Entry<N>): InternalTimer<N> => ({ key: e.key, namespace: e.namespace, timestamp: e.timestamp });
    return {
      eventTime: this.eventTimers.toArray().filter((e) => this.liveEvent.has(e.nk, e.ns, e.timestamp)).map(strip),
      processingTime: this.processingTimers.toArray().filter((e) => this.liveProcessing.has(e.nk, e.ns, e.timestamp)).map(strip),
    };
  }

  /**
   * Live timers as raw keyed entries [state, key, namespace, timestamp], taken at once (the
   * synchronous part of a checkpoint): later changes do not show in them.
   */
  snapshot(): TimerSnapshot {
    const entries: KeyedEntry[] = [];
    const add = (state: string, heap: TimerHeap<N>, live: TimerSet): void => {
      for (const e of heap.toArray()) {
        if (live.has(e.nk, e.ns, e.timestamp)) entries.push([state, e.key, this.serializeNamespace(e.namespace), e.timestamp]);
      }
    };
    add(this.eventStateName, this.eventTimers, this.liveEvent);
    add(this.processingStateName, this.processingTimers, this.liveProcessing);
    return { states: [{ name: this.eventStateName, kind: 'raw' }, { name: this.processingStateName, kind: 'raw' }], entries };
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
      throw new Error(`timer service '${this.serviceName}': restored timer of state '${state}' has no timestamp (got ${JSON.stringify(timestamp)})`);
    }
    const ns = this.deserializeNamespace(namespace);
    const nk = normalizeKey(key);
    const id = this.namespaceId(ns);
    if (state === this.eventStateName) {
      if (this.liveEvent.add(nk, id, timestamp)) this.eventTimers.push({ nk, ns: id, key, namespace: ns, timestamp });
    } else if (state === this.processingStateName) {
      if (!this.liveProcessing.add(nk, id, timestamp)) return;
      this.processingTimers.push({ nk, ns: id, key, namespace: ns, timestamp });
      if (timestamp < this.nextProcessingFire) this.scheduleProcessing(timestamp);
    } else {
      throw new Error(`timer service '${this.serviceName}' has no state '${state}' (it restores '${this.eventStateName}' and '${this.processingStateName}')`);
    }
  }

  private serializeNamespace(namespace: N): Namespace {
    if (this.serializer) return this.serializer.serialize(namespace);
    if (typeof namespace === 'string' || typeof namespace === 'number') return namespace;
    throw new Error(`timer service '${this.serviceName}': a namespace of type ${typeof namespace} needs a TimerNamespaceSerializer to be snapshotted`);
  }

  private deserializeNamespace(namespace: Namespace): N {
    return this.serializer ? this.serializer.deserialize(namespace) : (namespace as N);
  }

  close(): void {
    this.cancelProcessing?.();
    this.cancelProcessing = undefined;
  }
}
