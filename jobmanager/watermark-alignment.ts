// Flink's watermark alignment, coordinated by the JobMaster: the source subtasks of one alignment
// group report their current watermark every update interval and get back the most they may
// advance to. Flink answers the group's lowest watermark plus the allowed drift, the reporter's
// own included; here the reporter is left out of its own answer (the lowest of the rest of the
// group plus the drift). The subtask knows its current watermark better than its last report, and
// pausing past the lowest of the others is the same as pausing past the lowest of all, counted
// with its current watermark: so the group's lowest subtask is never paused by its own stale
// report, and a group of one is never paused at all. Idle subtasks are left out (they hold nobody
// back, as in Flink); subtasks of an earlier attempt or that ended are dropped when the next
// report comes, so a restart starts the group afresh.
// A subtask of the group that has not reported yet (still deploying or restoring, or its TaskManager
// slower to start) counts at the minimum watermark, as it would once it reports before emitting
// one: the others read on until their first watermark and then wait for it. Flink's coordinator
// combines the watermarks reported so far, so there a subtask that starts first runs ahead
// unaligned for as long as the others take to start.
// Flink announces the group's limit to every subtask each update interval; here a report that
// changes the limit of a paused subtask (its last report says so) pushes the new limit to it at
// once, so it reads on as soon as the subtask holding it back reports, not at its own next report
// or announcement. A subtask that reads on needs no push: it reports when it pauses, and the answer
// is fresh. Only the group's two lowest subtasks' reports change others' limits.
import type { AlignmentLimit, SourceWatermarkReport } from '../common/control.js';

interface Member {
  watermark: number;
  idle: boolean;
  maxDrift: number;
  paused: boolean;
  /** The limit it was last answered or pushed. */
  told: number;
}

/** A limit for one subtask, pushed to it because the rest of its group moved. */
export type PushedLimit = AlignmentLimit & { executionId: string };

export class WatermarkAlignmentCoordinator {
  private readonly groups = new Map<string, Map<string, Member>>();
  /** Orders a subtask's answers and pushes, which reach it by different calls. */
  private sequence = 0;

  /**
   * `members(group)`: the group's subtasks of the running attempt that have not ended, reported or
   * not; reports of others are not recorded.
   * `push`: delivers the limits a report changed for other subtasks (called only with some).
   */
  constructor(
    private readonly members: (group: string) => ReadonlySet<string>,
    private readonly push: (limits: PushedLimit[]) => void = () => {},
  ) {}

  /** Records a report; returns the reporter's limit (Infinity while no other subtask holds it back). */
  report(r: SourceWatermarkReport): AlignmentLimit {
    let group = this.groups.get(r.group);
    if (!group) this.groups.set(r.group, (group = new Map()));
    const reporter: Member = {
      watermark: r.watermark,
      idle: r.idle,
      maxDrift: r.maxDrift,
      paused: r.paused === true,
      told: Infinity,
    };
    group.set(r.executionId, reporter);
    // The lowest two active watermarks: a subtask's limit counts the lowest of the others.
    let lowest = Infinity;
    let lowestId: string | undefined;
    let second = Infinity;
    const count = (id: string, watermark: number) => {
      if (watermark < lowest) {
        second = lowest;
        lowest = watermark;
        lowestId = id;
      } else if (watermark < second) second = watermark;
    };
    const members = this.members(r.group);
    for (const [id, m] of group) {
      if (!members.has(id)) group.delete(id);
      else if (!m.idle) count(id, m.watermark);
    }
    // Members that have not reported count at the minimum watermark (the TaskManager's MIN_WATERMARK).
    for (const id of members) if (!group.has(id)) count(id, Number.MIN_SAFE_INTEGER);
    const sequence = ++this.sequence;
    const limitOf = (id: string, m: Member) => (id === lowestId ? second : lowest) + m.maxDrift;
    const pushed: PushedLimit[] = [];
    for (const [id, m] of group) {
      const limit = limitOf(id, m);
      if (m === reporter) m.told = limit;
      else if (m.paused && limit !== m.told) {
        pushed.push({ executionId: id, maxAllowedWatermark: limit, sequence });
        m.told = limit;
      }
    }
    if (pushed.length > 0) this.push(pushed);
    // A reporter that is not current was dropped, and gets the group's limit without being part of it.
    return { maxAllowedWatermark: limitOf(r.executionId, reporter), sequence };
  }
}
