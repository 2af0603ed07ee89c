// Argument checks shared by the window assigners and triggers: durations in milliseconds (or
// Flink-style strings such as "5 s"), and the event timestamp an event-time assigner needs.
import { parseDuration } from '../../common/units.js';

export type Duration = number | string;

function ms(value: Duration, what: string): number {
  let n: number;
  try {
    n = parseDuration(value);
  } catch (e) {
    throw new RangeError(`${what}: ${(e as Error).message}`, { cause: e });
  }
  if (!Number.isSafeInteger(n))
    throw new RangeError(`${what} must be a whole number of milliseconds, got ${String(value)}`);
  return n;
}

export function positiveMs(value: Duration, what: string): number {
  const n = ms(value, what);
  if (n <= 0) throw new RangeError(`${what} must be positive, got ${String(value)}`);
  return n;
}

export function offsetMs(value: Duration, what: string): number {
  return ms(value, what);
}

export function requireEventTimestamp(timestamp: number | undefined, assigner: string): number {
  if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) {
    throw new Error(
      `${assigner}: the record has no timestamp (${String(timestamp)}); event-time windows need one. ` +
        'Did you forget assignTimestampsAndWatermarks? (or a WatermarkStrategy with withTimestampAssigner() in fromSource)',
    );
  }
  return timestamp;
}
