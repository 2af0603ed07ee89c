// Flink's asynchronous REST operations (savepoints, stop, manual checkpoints, disposal): a POST
// answers at once with a trigger id, and GET .../:triggerid answers IN_PROGRESS until the work
// settles, then COMPLETED with either the result or a `failure-cause`.
import { randomBytes } from 'node:crypto';

export interface AsyncOperationJson {
  status: { id: 'IN_PROGRESS' | 'COMPLETED' };
  operation?: Record<string, unknown>;
}

interface Entry {
  scope: string;
  settledAt: number | undefined;
  result: AsyncOperationJson;
}

/** Settled results are kept this long, as Flink's rest.async.store-duration (5 min). */
const STORE_MS = 5 * 60_000;
/** A bound on what a flood of triggers can make this process hold. */
const MAX_ENTRIES = 10_000;

export class AsyncOperations {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Tracks `work` under `scope` (a job id, or 'disposal'). `toOperation` turns its result into the
   * `operation` object Flink returns (for savepoints `{location}`).
   */
  start<T>(scope: string, work: Promise<T>, toOperation: (r: T) => Record<string, unknown>): string {
    this.evict();
    const triggerId = randomBytes(16).toString('hex');
    const entry: Entry = { scope, settledAt: undefined, result: { status: { id: 'IN_PROGRESS' } } };
    this.entries.set(triggerId, entry);
    work.then(
      (r) => {
        entry.result = { status: { id: 'COMPLETED' }, operation: toOperation(r) };
        entry.settledAt = this.now();
      },
      (e: unknown) => {
        entry.result = { status: { id: 'COMPLETED' }, operation: { 'failure-cause': failureCause(e) } };
        entry.settledAt = this.now();
      },
    );
    return triggerId;
  }

  /** The status of a trigger id of `scope`; undefined when unknown there (never mixed across jobs). */
  get(scope: string, triggerId: string): AsyncOperationJson | undefined {
    const e = this.entries.get(triggerId);
    return e && e.scope === scope ? e.result : undefined;
  }

  private evict(): void {
    const cutoff = this.now() - STORE_MS;
    for (const [id, e] of this.entries) if (e.settledAt !== undefined && e.settledAt < cutoff) this.entries.delete(id);
    // Oldest first (insertion order) when still over the bound.
    for (const id of this.entries.keys()) {
      if (this.entries.size < MAX_ENTRIES) break;
      this.entries.delete(id);
    }
  }
}

/** Flink's SerializedThrowable fields; the message leads the stack trace so clients show plain words. */
export function failureCause(e: unknown): { class: string; 'stack-trace': string } {
  const err = e instanceof Error ? e : new Error(String(e));
  const cls = err.name === 'Error' ? 'SavepointException' : err.name;
  return { class: cls, 'stack-trace': `${cls}: ${err.message}` };
}
