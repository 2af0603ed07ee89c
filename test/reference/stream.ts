// The stream a downstream operator sees, as a plain list: records with timestamps, and watermarks
// at the points where the source's watermark generator would emit them.
export const MIN_WATERMARK = Number.MIN_SAFE_INTEGER;
export const MAX_WATERMARK = Number.MAX_SAFE_INTEGER;

export type StreamEvent<T> = { kind: 'record'; value: T; timestamp: number } | { kind: 'watermark'; timestamp: number };

/**
 * One source subtask whose generator emits maxTimestamp - bound - 1 right after each event (when
 * it rises), then the maximum watermark at the end of input. With a single source subtask (and
 * a watermark valve that forwards rises only) this is exactly what every downstream subtask sees.
 */
export function perEventWatermarkStream<T>(
  records: readonly T[],
  timestampOf: (v: T) => number,
  boundMs: number,
): StreamEvent<T>[] {
  const out: StreamEvent<T>[] = [];
  let maxTs = -Infinity;
  let wm = MIN_WATERMARK;
  for (const value of records) {
    const timestamp = timestampOf(value);
    out.push({ kind: 'record', value, timestamp });
    if (timestamp > maxTs) maxTs = timestamp;
    const candidate = maxTs - boundMs - 1;
    if (candidate > wm) {
      wm = candidate;
      out.push({ kind: 'watermark', timestamp: wm });
    }
  }
  out.push({ kind: 'watermark', timestamp: MAX_WATERMARK });
  return out;
}

/**
 * All records, then the maximum watermark: what any run sees when no record is late, whatever
 * the timing of periodic watermarks (the reference asserts that nothing was late).
 */
export function batchStream<T>(records: readonly T[], timestampOf: (v: T) => number): StreamEvent<T>[] {
  const out: StreamEvent<T>[] = records.map((value) => ({
    kind: 'record' as const,
    value,
    timestamp: timestampOf(value),
  }));
  out.push({ kind: 'watermark', timestamp: MAX_WATERMARK });
  return out;
}

/** Records each of `parallelism` DataGeneratorSource subtasks emits, in order: contiguous index ranges. */
export function sourceSplits(count: number, parallelism: number): { start: number; end: number }[] {
  return Array.from({ length: parallelism }, (_, i) => ({
    start: Math.floor((i * count) / parallelism),
    end: Math.floor(((i + 1) * count) / parallelism),
  }));
}

/**
 * Whether any record would be late downstream of `parallelism` source subtasks with bounded
 * out-of-orderness `boundMs`: a record is on time when its timestamp exceeds its own subtask's
 * watermark, and the downstream watermark never exceeds any subtask's.
 */
export function lateRecordsPerSubtask(
  timestamps: (index: number) => number,
  count: number,
  parallelism: number,
  boundMs: number,
): number {
  let late = 0;
  for (const { start, end } of sourceSplits(count, parallelism)) {
    let maxTs = -Infinity;
    for (let i = start; i < end; i++) {
      const ts = timestamps(i);
      // The watermark a periodic emission may have sent by now, at the latest: after the previous event.
      if (ts <= maxTs - boundMs - 1) late++;
      if (ts > maxTs) maxTs = ts;
    }
  }
  return late;
}
