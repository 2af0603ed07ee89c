// The active buckets of one FileSink subtask (Flink's Buckets): one part writer per bucket id,
// each with at most one in-progress part, rolled as the rolling policy says: before a record
// (shouldRollOnEvent), on processing time (shouldRollOnProcessingTime; a bucket whose part rolled
// and that has nothing open is forgotten, so buckets that went quiet cost nothing), and at
// checkpoints (shouldRollOnCheckpoint or the processing-time rule, or every part when asked).
import type { RollingPolicy } from '../../api/file-sink-rolling.js';
import { RowFormatPartWriter, type ClosedPart, type InProgressPart } from './file-sink-writer.js';
import type { PartFileNaming } from './part-file-naming.js';

/** A bucket id must name a directory below the sink's: '' (the directory itself) or relative segments joined by '/'. */
export function checkBucketId(id: string): string {
  if (id === '') return id;
  if (id.includes('\0') || id.includes('\\') || id.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(
      `FileSink: bucket id '${id}' is not a relative directory path (segments joined by '/', none empty, '.' or '..', no leading '/')`,
    );
  }
  return id;
}

export interface FileSinkBucketsOptions {
  /** The sink's directory (absolute). */
  dir: string;
  subtaskIndex: number;
  naming: PartFileNaming;
  policy: RollingPolicy<unknown, string>;
  /** A part rolled (still hidden). */
  onPartClosed(part: ClosedPart): void;
}

export class FileSinkBuckets {
  private readonly active = new Map<string, RowFormatPartWriter>();

  constructor(private readonly o: FileSinkBucketsOptions) {}

  /** Buckets with a part open. */
  get openParts(): number {
    let n = 0;
    for (const w of this.active.values()) if (w.hasOpenPart) n++;
    return n;
  }

  private writer(bucketId: string): RowFormatPartWriter {
    let w = this.active.get(bucketId);
    if (!w) {
      w = new RowFormatPartWriter(
        {
          dir: this.o.dir,
          bucketId: checkBucketId(bucketId),
          subtaskIndex: this.o.subtaskIndex,
          naming: this.o.naming,
        },
        this.o.onPartClosed,
      );
      this.active.set(bucketId, w);
    }
    return w;
  }

  write(bucketId: string, element: unknown, line: string, now: number): void {
    const w = this.writer(bucketId);
    if (w.hasOpenPart && this.o.policy.shouldRollOnEvent(w, element)) w.closePart();
    w.write(line, now);
  }

  /** The bucket check timer fired: roll what the policy says, forget buckets with nothing open. */
  onProcessingTime(now: number): void {
    for (const [id, w] of this.active) {
      if (w.hasOpenPart && this.o.policy.shouldRollOnProcessingTime(w, now)) w.closePart();
      if (!w.hasOpenPart) this.active.delete(id);
    }
  }

  /**
   * At a checkpoint: rolls the parts the policy says (every part with `rollAll`), makes the others
   * durable and returns them as the checkpoint records them.
   */
  snapshot(now: number, rollAll: boolean): InProgressPart[] {
    const out: InProgressPart[] = [];
    for (const w of this.active.values()) {
      if (!w.hasOpenPart) continue;
      if (rollAll || this.o.policy.shouldRollOnCheckpoint(w) || this.o.policy.shouldRollOnProcessingTime(w, now)) {
        w.closePart();
        continue;
      }
      out.push(w.persist()!);
    }
    return out;
  }

  /** Reopens the parts a restored checkpoint recorded for this subtask (already cut back to their length). */
  resume(parts: InProgressPart[]): void {
    for (const p of parts) this.writer(p.bucket ?? '').resume(p);
  }

  /** Rolls every open part. */
  closeAll(): void {
    for (const w of this.active.values()) w.closePart();
  }

  flushAll(): void {
    for (const w of this.active.values()) w.flush();
  }

  /** Stops writing; open parts stay hidden (cancel or failure). */
  abortAll(): void {
    for (const w of this.active.values()) w.abort();
    this.active.clear();
  }
}
