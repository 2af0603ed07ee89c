// A map for jobs whose source subtasks must read at different speeds: it spends `slowUs` per record
// on subtask 0 and `fastUs` on the others, writes "record,subtask", and fails once (first attempt)
// when a record's position reaches `failAt` (-1: never) after a checkpoint completed.
import { RichMapFunction, type CheckpointListener } from 'weir';

export class Paced<T> extends RichMapFunction<T, string> implements CheckpointListener {
  private checkpointed = false;
  private mapped = 0;

  constructor(
    private readonly slowUs: number,
    private readonly fastUs: number,
    private readonly failAt: number,
    /** What a record is called in the failure's message ("index", "line"). */
    private readonly what: string,
    /** A record's position, compared with failAt: by default how many records this subtask mapped. */
    private readonly position: (record: T, mapped: number) => number = (_, mapped) => mapped,
  ) {
    super();
  }

  notifyCheckpointComplete(): void {
    this.checkpointed = true;
  }

  map(record: T): string {
    const ctx = this.getRuntimeContext();
    const subtask = ctx.getIndexOfThisSubtask();
    this.mapped++;
    if (
      this.failAt >= 0 &&
      this.position(record, this.mapped) >= this.failAt &&
      this.checkpointed &&
      ctx.getAttemptNumber() === 0
    )
      throw new Error(`planned failure at ${this.what} ${String(record)}`);
    const until = performance.now() + (subtask === 0 ? this.slowUs : this.fastUs) / 1000;
    while (performance.now() < until);
    return `${String(record)},${subtask}`;
  }
}
