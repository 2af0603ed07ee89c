// Ended jobs, kept in the JobManager's store (LevelDB through `level`) so that their details,
// exceptions and plan are still there after a JobManager restart. The store is bounded as Flink's
// job store: an ended job expires `jobstore.expiration-time` after it was archived, and beyond
// `jobstore.max-capacity` ended jobs the oldest go first; both are checked on every put and
// periodically, and a removed job leaves memory and the LevelDB store.
import { Level } from 'level';
import type { Configuration } from '../common/config.js';
import type { Logger } from '../common/logging.js';

/** The REST views of an ended job, as they were when it ended. */
export interface ArchivedJob {
  jid: string;
  overview: Record<string, unknown>;
  details: Record<string, unknown>;
  exceptions: Record<string, unknown>;
  plan: Record<string, unknown>;
  /** GET /jobs/:jobid/checkpoints and /checkpoints/config as they were when the job ended (config absent: no checkpointing). */
  checkpoints?: unknown;
  checkpointConfig?: unknown;
  /** When it entered the store (epoch ms), where its expiration counts from; set by put(). */
  archivedAt?: number;
}

export interface JobArchiveOptions {
  /** jobstore.expiration-time in milliseconds; default 1 h (Flink's). Infinity: never. */
  expirationMs?: number;
  /** jobstore.max-capacity; default unbounded (Flink's). */
  maxCapacity?: number;
  now?: () => number;
  /** How often expiry is checked besides on put; default min(expiration, 1 min), at least 1 s. */
  checkIntervalMs?: number;
}

/** Flink's default jobstore.expiration-time: one hour. */
export const DEFAULT_JOB_STORE_EXPIRATION_MS = 3_600_000;

/**
 * jobstore.expiration-time and jobstore.max-capacity. A plain number of expiration is seconds (Flink's
 * key is a number of seconds); a duration ('30 min', '2 h') is accepted as well.
 */
export function jobStoreOptions(conf: Configuration): Pick<JobArchiveOptions, 'expirationMs' | 'maxCapacity'> {
  const raw = conf.getString('jobstore.expiration-time').trim();
  const expirationMs = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : conf.getDuration('jobstore.expiration-time');
  if (!(expirationMs > 0)) throw new Error(`jobstore.expiration-time must be positive, got '${raw}'`);
  const capacity = conf.getOptionalString('jobstore.max-capacity');
  if (capacity === undefined) return { expirationMs };
  const maxCapacity = conf.getInt('jobstore.max-capacity');
  if (maxCapacity < 0) throw new Error(`jobstore.max-capacity must not be negative, got ${maxCapacity}`);
  return { expirationMs, maxCapacity };
}

export class JobArchive {
  private readonly db: Level<string, ArchivedJob>;
  /** Insertion order is archive order: the first entry is the oldest. */
  private readonly jobs = new Map<string, ArchivedJob>();
  /** Store writes and deletions run one after another, so a deletion never overtakes its put. */
  private tail: Promise<void> = Promise.resolve();
  private readonly expirationMs: number;
  private readonly maxCapacity: number;
  private readonly now: () => number;
  private readonly checkIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly removedListeners: Array<(jobIds: string[]) => void> = [];

  constructor(
    path: string,
    private readonly log: Logger,
    opts: JobArchiveOptions = {},
  ) {
    this.db = new Level<string, ArchivedJob>(path, { valueEncoding: 'json' });
    this.expirationMs = opts.expirationMs ?? DEFAULT_JOB_STORE_EXPIRATION_MS;
    this.maxCapacity = opts.maxCapacity ?? Number.POSITIVE_INFINITY;
    this.now = opts.now ?? Date.now;
    this.checkIntervalMs = opts.checkIntervalMs ?? Math.max(1000, Math.min(this.expirationMs, 60_000));
    if (!(this.expirationMs > 0))
      throw new Error(`jobstore.expiration-time must be positive, got ${this.expirationMs} ms`);
    if (!(this.maxCapacity >= 0))
      throw new Error(`jobstore.max-capacity must not be negative, got ${this.maxCapacity}`);
  }

  /** Loads the store, drops what expired while the JobManager was down, and starts the periodic check. */
  async open(): Promise<void> {
    await this.db.open();
    const loaded: ArchivedJob[] = [];
    for await (const [key, value] of this.db.iterator()) {
      if (value && typeof value === 'object' && value.jid === key) loaded.push(value);
    }
    // Records written before expiry existed carry no archivedAt: their end time stands in for it.
    const at = (j: ArchivedJob) =>
      j.archivedAt ?? (Number(j.overview?.['end-time']) > 0 ? Number(j.overview['end-time']) : this.now());
    for (const j of loaded.sort((a, b) => at(a) - at(b))) this.jobs.set(j.jid, { ...j, archivedAt: at(j) });
    if (this.jobs.size) this.log.info({ jobs: this.jobs.size }, 'ended jobs restored from the store');
    this.expire();
    if (this.expirationMs !== Number.POSITIVE_INFINITY) {
      this.timer = setInterval(() => this.expire(), this.checkIntervalMs);
      this.timer.unref();
    }
  }

  /** `listener` hears the ids of the jobs expiry or capacity removed (to forget them elsewhere too). */
  onRemoved(listener: (jobIds: string[]) => void): void {
    this.removedListeners.push(listener);
  }

  get(jobId: string): ArchivedJob | undefined {
    return this.jobs.get(jobId);
  }

  list(): ArchivedJob[] {
    return [...this.jobs.values()];
  }

  get size(): number {
    return this.jobs.size;
  }

  /** Archives an ended job (stamped with the time now), then applies expiry and capacity. */
  put(job: ArchivedJob): Promise<void> {
    const entry: ArchivedJob = { ...job, archivedAt: this.now() };
    this.jobs.delete(entry.jid);
    this.jobs.set(entry.jid, entry);
    const w = this.enqueue(
      () => this.db.put(entry.jid, entry),
      // The job's record stays in memory; only its survival across a restart is lost.
      (e) => this.log.error({ err: e, jobId: entry.jid }, 'cannot write the ended job to the store'),
    );
    this.expire();
    return w;
  }

  /**
   * Removes the ended jobs archived longer ago than the expiration time, then the oldest beyond the
   * capacity. Returns their ids.
   */
  expire(): string[] {
    const now = this.now();
    const removed: string[] = [];
    for (const [id, j] of this.jobs) {
      if (now - (j.archivedAt ?? now) >= this.expirationMs) removed.push(id);
    }
    for (const id of removed) this.jobs.delete(id);
    const overCapacity = this.jobs.size - this.maxCapacity;
    if (overCapacity > 0) {
      const oldest = [...this.jobs.keys()].slice(0, overCapacity);
      for (const id of oldest) this.jobs.delete(id);
      removed.push(...oldest);
    }
    if (removed.length === 0) return removed;
    for (const id of removed) {
      void this.enqueue(
        () => this.db.del(id),
        (e) => this.log.warn({ err: e, jobId: id }, 'cannot remove an expired job from the store'),
      );
    }
    this.log.info(
      { jobs: removed, kept: this.jobs.size, expirationMs: this.expirationMs, maxCapacity: this.maxCapacity },
      'ended jobs removed from the job store (jobstore.expiration-time / jobstore.max-capacity)',
    );
    for (const l of this.removedListeners) {
      try {
        l(removed);
      } catch (e) {
        this.log.warn({ err: e }, 'job store removal listener failed');
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.tail;
    await this.db.close();
  }

  private enqueue(op: () => Promise<void>, onError: (e: unknown) => void): Promise<void> {
    const w = this.tail.then(op).catch(onError);
    this.tail = w;
    return w;
  }
}
