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
import type { SourceWatermarkReport } from '../common/control.js';

interface Reported {
  watermark: number;
  idle: boolean;
}

export class WatermarkAlignmentCoordinator {
  private readonly groups = new Map<string, Map<string, Reported>>();

  /** `isCurrent(executionId)`: whether the subtask belongs to the running attempt and has not ended. */
  constructor(private readonly isCurrent: (executionId: string) => boolean) {}

  /** Records a report; returns the reporter's limit (Infinity while no other subtask holds it back). */
  report(r: SourceWatermarkReport): number {
    let group = this.groups.get(r.group);
    if (!group) this.groups.set(r.group, (group = new Map()));
    group.set(r.executionId, { watermark: r.watermark, idle: r.idle });
    let lowest = Infinity;
    for (const [id, s] of group) {
      if (!this.isCurrent(id)) group.delete(id);
      else if (id !== r.executionId && !s.idle && s.watermark < lowest) lowest = s.watermark;
    }
    return lowest + r.maxDrift;
  }
}
