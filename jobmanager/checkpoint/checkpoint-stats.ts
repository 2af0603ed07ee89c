// Checkpoint statistics of one job (Flink's CheckpointStatsTracker), rendered as the body of
// GET /jobs/:jobid/checkpoints with Flink's field names. Everything it returns is plain JSON, so
// the dispatcher can archive it with the ended job.
import { handleCheckpointedSize, handleStateSize, type TaskCheckpointAck } from '../../common/checkpoint.js';

export type CheckpointStatsStatus = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

/** What is known of one triggered checkpoint, updated as acknowledgements arrive. */
export interface CheckpointRecord {
  id: number;
  savepoint: boolean;
  status: CheckpointStatsStatus;
  triggerTimestamp: number;
  numSubtasks: number;
  numAcknowledged: number;
  /** -1 until the first acknowledgement. */
  latestAckTimestamp: number;
  stateSize: number;
  /** Bytes written by this checkpoint (less than stateSize when incremental). */
  checkpointedSize: number;
  processedData: number;
  /** Maxima over the acknowledgements, milliseconds. */
  alignmentDuration: number;
  syncDuration: number;
  asyncDuration: number;
  completedAt?: number;
  externalPath?: string;
  /** Deleted by retention (state.checkpoints.num-retained). */
  discarded: boolean;
  failureTimestamp?: number;
  failureMessage?: string;
}

export interface StatsSummaryJson {
  min: number;
  max: number;
  avg: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
}

export interface RestoredCheckpointJson {
  id: number;
  restore_timestamp: number;
  is_savepoint: boolean;
  external_path: string;
}

export type CheckpointStatisticsJson = Record<string, unknown> & { id: number; status: CheckpointStatsStatus };

export interface CheckpointingStatisticsJson {
  counts: { restored: number; total: number; in_progress: number; completed: number; failed: number };
  summary: Record<SummaryField, StatsSummaryJson>;
  latest: {
    completed: CheckpointStatisticsJson | null;
    savepoint: CheckpointStatisticsJson | null;
    failed: CheckpointStatisticsJson | null;
    restored: RestoredCheckpointJson | null;
  };
  history: CheckpointStatisticsJson[];
}

/** Flink's summary fields, then alignment_duration, which Flink keeps per subtask only (a Weir extra). */
const SUMMARY_FIELDS = [
  'checkpointed_size',
  'state_size',
  'end_to_end_duration',
  'alignment_buffered',
  'processed_data',
  'persisted_data',
  'alignment_duration',
] as const;
type SummaryField = (typeof SUMMARY_FIELDS)[number];

/** What exportState() gives and importState() takes (plain JSON). */
export interface CheckpointStatsState {
  history: CheckpointRecord[];
  samples: Partial<Record<SummaryField, number[]>>;
  counts: { total: number; completed: number; failed: number; restored: number };
  latest: {
    completed: CheckpointRecord | null;
    savepoint: CheckpointRecord | null;
    failed: CheckpointRecord | null;
    restored: RestoredCheckpointJson | null;
  };
  /** Where each latest record sits in `history` (-1: no longer there). */
  latestIndex: { completed: number; savepoint: number; failed: number };
}

/** Summary samples handed to a JobManager that takes over; the summary's window refills from there. */
const PERSISTED_SAMPLES = 500;

/** Completed checkpoints the summary is computed over (Flink's StatsSummary histogram window). */
const SUMMARY_WINDOW = 10_000;

/** The latest `capacity` values, overwritten in a ring once full (the order does not matter to a summary). */
export class SampleWindow {
  private readonly values: number[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  add(v: number): void {
    if (this.values.length < this.capacity) {
      this.values.push(v);
      return;
    }
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.capacity;
  }

  get size(): number {
    return this.values.length;
  }

  toArray(): number[] {
    return this.values.slice();
  }
}

export class CheckpointStatsTracker {
  private readonly history: CheckpointRecord[] = [];
  private readonly samples = new Map<SummaryField, SampleWindow>(
    SUMMARY_FIELDS.map((f) => [f, new SampleWindow(SUMMARY_WINDOW)]),
  );
  private total = 0;
  private inProgress = 0;
  private completed = 0;
  private failed = 0;
  private restoredCount = 0;
  private latestCompleted: CheckpointRecord | undefined;
  private latestSavepoint: CheckpointRecord | undefined;
  private latestFailed: CheckpointRecord | undefined;
  private latestRestored: RestoredCheckpointJson | undefined;

  constructor(private readonly historySize: number) {
    if (!Number.isInteger(historySize) || historySize < 0)
      throw new Error(`web.checkpoints.history must be a non-negative integer, got ${historySize}`);
  }

  reportPending(id: number, savepoint: boolean, triggerTimestamp: number, numSubtasks: number): CheckpointRecord {
    const r: CheckpointRecord = {
      id,
      savepoint,
      status: 'IN_PROGRESS',
      triggerTimestamp,
      numSubtasks,
      numAcknowledged: 0,
      latestAckTimestamp: -1,
      stateSize: 0,
      checkpointedSize: 0,
      processedData: 0,
      alignmentDuration: 0,
      syncDuration: 0,
      asyncDuration: 0,
      discarded: false,
    };
    this.total++;
    this.inProgress++;
    this.history.unshift(r);
    if (this.history.length > this.historySize) this.history.length = this.historySize;
    return r;
  }

  reportAck(r: CheckpointRecord, ack: TaskCheckpointAck, timestamp: number): void {
    r.numAcknowledged++;
    r.latestAckTimestamp = Math.max(r.latestAckTimestamp, timestamp);
    for (const h of ack.handles) {
      r.stateSize += handleStateSize(h);
      r.checkpointedSize += handleCheckpointedSize(h, ack.checkpointId);
    }
    r.processedData += ack.processedDuringAlignment ?? 0;
    r.alignmentDuration = Math.max(r.alignmentDuration, ack.alignmentDurationMs);
    r.syncDuration = Math.max(r.syncDuration, ack.syncDurationMs);
    r.asyncDuration = Math.max(r.asyncDuration, ack.asyncDurationMs);
  }

  /** A finished subtask counts as acknowledged, with no state (as in Flink). */
  reportFinishedSubtasks(r: CheckpointRecord, n: number): void {
    r.numAcknowledged += n;
  }

  reportCompleted(r: CheckpointRecord, completedAt: number, externalPath: string): void {
    if (r.status !== 'IN_PROGRESS') return;
    r.status = 'COMPLETED';
    r.completedAt = completedAt;
    r.externalPath = externalPath;
    this.inProgress--;
    this.completed++;
    if (r.savepoint) this.latestSavepoint = r;
    else this.latestCompleted = r;
    const json = recordJson(r);
    for (const f of SUMMARY_FIELDS) this.samples.get(f)!.add(Number(json[f]));
  }

  reportFailed(r: CheckpointRecord, failureTimestamp: number, message: string): void {
    if (r.status !== 'IN_PROGRESS') return;
    r.status = 'FAILED';
    r.failureTimestamp = failureTimestamp;
    r.failureMessage = message;
    this.inProgress--;
    this.failed++;
    this.latestFailed = r;
  }

  reportRestored(id: number, restoreTimestamp: number, savepoint: boolean, externalPath: string): void {
    this.restoredCount++;
    this.latestRestored = {
      id,
      restore_timestamp: restoreTimestamp,
      is_savepoint: savepoint,
      external_path: externalPath,
    };
  }

  /** Marks completed checkpoints that retention deleted. */
  reportDiscarded(externalPaths: Iterable<string>): void {
    const gone = new Set(externalPaths);
    const mark = (r: CheckpointRecord | undefined) => {
      if (r?.externalPath !== undefined && gone.has(r.externalPath)) r.discarded = true;
    };
    this.history.forEach(mark);
    mark(this.latestCompleted);
  }

  /** Marks every completed checkpoint (not savepoints) as deleted: the job ended and its checkpoints went with it. */
  reportAllCheckpointsDiscarded(): void {
    const mark = (r: CheckpointRecord | undefined) => {
      if (r && r.status === 'COMPLETED' && !r.savepoint) r.discarded = true;
    };
    this.history.forEach(mark);
    mark(this.latestCompleted);
  }

  /** The tracker's contents as plain JSON, for a JobManager that takes over the job (high availability). */
  exportState(): CheckpointStatsState {
    const samples = {} as Record<SummaryField, number[]>;
    for (const f of SUMMARY_FIELDS) samples[f] = this.samples.get(f)!.toArray().slice(-PERSISTED_SAMPLES);
    const index = (r: CheckpointRecord | undefined) => (r ? this.history.indexOf(r) : -1);
    return {
      history: this.history.map((r) => ({ ...r })),
      samples,
      counts: { total: this.total, completed: this.completed, failed: this.failed, restored: this.restoredCount },
      latest: {
        completed: this.latestCompleted ? { ...this.latestCompleted } : null,
        savepoint: this.latestSavepoint ? { ...this.latestSavepoint } : null,
        failed: this.latestFailed ? { ...this.latestFailed } : null,
        restored: this.latestRestored ? { ...this.latestRestored } : null,
      },
      latestIndex: {
        completed: index(this.latestCompleted),
        savepoint: index(this.latestSavepoint),
        failed: index(this.latestFailed),
      },
    };
  }

  /**
   * Takes over the statistics a previous JobManager exported. Checkpoints that were in progress
   * when it went away are recorded as failed: no one will complete them.
   */
  importState(s: CheckpointStatsState, now: number): void {
    this.history.length = 0;
    for (const r of s.history.slice(0, this.historySize)) this.history.push({ ...r });
    let orphaned = 0;
    for (const r of this.history) {
      if (r.status !== 'IN_PROGRESS') continue;
      r.status = 'FAILED';
      r.failureTimestamp = now;
      r.failureMessage = 'the JobManager that triggered this checkpoint went away';
      orphaned++;
    }
    for (const f of SUMMARY_FIELDS) for (const v of s.samples[f] ?? []) this.samples.get(f)!.add(v);
    this.total = s.counts.total;
    this.completed = s.counts.completed;
    this.failed = s.counts.failed + orphaned;
    this.restoredCount = s.counts.restored;
    this.inProgress = 0;
    // The latest records are the history's own objects where they still are in it.
    const pick = (i: number, r: CheckpointRecord | null) =>
      i >= 0 && i < this.history.length ? this.history[i] : r ? { ...r } : undefined;
    this.latestCompleted = pick(s.latestIndex.completed, s.latest.completed);
    this.latestSavepoint = pick(s.latestIndex.savepoint, s.latest.savepoint);
    this.latestFailed = pick(s.latestIndex.failed, s.latest.failed);
    this.latestRestored = s.latest.restored ?? undefined;
  }

  snapshot(now: number): CheckpointingStatisticsJson {
    const summary = {} as Record<SummaryField, StatsSummaryJson>;
    for (const f of SUMMARY_FIELDS) summary[f] = summarize(this.samples.get(f)!.toArray());
    const json = (r: CheckpointRecord | undefined) => (r ? recordJson(r, now) : null);
    return {
      counts: {
        restored: this.restoredCount,
        total: this.total,
        in_progress: this.inProgress,
        completed: this.completed,
        failed: this.failed,
      },
      summary,
      latest: {
        completed: json(this.latestCompleted),
        savepoint: json(this.latestSavepoint),
        failed: json(this.latestFailed),
        restored: this.latestRestored ? { ...this.latestRestored } : null,
      },
      history: this.history.map((r) => recordJson(r, now)),
    };
  }
}

/** The body of /jobs/:jobid/checkpoints for a job that does not checkpoint (as Flink: zero counts). */
export function emptyCheckpointStats(): CheckpointingStatisticsJson {
  return new CheckpointStatsTracker(0).snapshot(0);
}

/** One checkpoint in Flink's CheckpointStatistics shape (className picks the subtype, as in Flink). */
export function recordJson(
  r: CheckpointRecord,
  now = r.completedAt ?? r.failureTimestamp ?? r.triggerTimestamp,
): CheckpointStatisticsJson {
  const end =
    r.status === 'COMPLETED'
      ? r.completedAt!
      : r.status === 'FAILED'
        ? r.failureTimestamp!
        : r.latestAckTimestamp >= 0
          ? r.latestAckTimestamp
          : now;
  const base: CheckpointStatisticsJson = {
    className: r.status === 'COMPLETED' ? 'completed' : r.status === 'FAILED' ? 'failed' : 'in_progress',
    id: r.id,
    status: r.status,
    is_savepoint: r.savepoint,
    savepointFormat: r.savepoint ? 'CANONICAL' : null,
    trigger_timestamp: r.triggerTimestamp,
    latest_ack_timestamp: r.latestAckTimestamp,
    // Every Weir checkpoint is a full one, so what it wrote is its whole state.
    checkpointed_size: r.checkpointedSize,
    state_size: r.stateSize,
    end_to_end_duration: Math.max(0, end - r.triggerTimestamp),
    // Flink reports 0 here since 1.12; bytes held back during alignment are in processed_data.
    alignment_buffered: 0,
    processed_data: r.processedData,
    // Only unaligned checkpoints persist in-flight data; Weir's are aligned.
    persisted_data: 0,
    num_subtasks: r.numSubtasks,
    num_acknowledged_subtasks: r.numAcknowledged,
    checkpoint_type: r.savepoint ? 'SAVEPOINT' : 'CHECKPOINT',
    tasks: {},
    // Weir extras (Flink shows these per subtask only): the slowest subtask's alignment,
    // synchronous and asynchronous snapshot times, in milliseconds.
    alignment_duration: r.alignmentDuration,
    sync_duration: r.syncDuration,
    async_duration: r.asyncDuration,
  };
  if (r.status === 'COMPLETED') {
    base.external_path = r.externalPath ?? null;
    base.discarded = r.discarded;
  } else if (r.status === 'FAILED') {
    base.failure_timestamp = r.failureTimestamp;
    base.failure_message = r.failureMessage ?? null;
  }
  return base;
}

function summarize(values: number[]): StatsSummaryJson {
  if (values.length === 0) return { min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    avg: Math.floor(sum / sorted.length),
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
  };
}

/** The estimate Flink's histograms use (Apache Commons Math's default: position p·(n+1), interpolated). */
export function quantile(sorted: number[], p: number): number {
  const n = sorted.length;
  const pos = p * (n + 1);
  if (pos < 1) return sorted[0]!;
  if (pos >= n) return sorted[n - 1]!;
  const lower = sorted[Math.floor(pos) - 1]!;
  const upper = sorted[Math.floor(pos)]!;
  return lower + (pos - Math.floor(pos)) * (upper - lower);
}
