// Waiting for a condition with a deadline instead of sleeping a fixed time and hoping it held: a
// slow machine only makes the wait longer, and a failure says what was awaited and what was seen.
import { inspect } from 'node:util';

export interface WaitOptions<T> {
  /** When the probed value is good enough (default: truthy). */
  until?: (value: T) => boolean;
  /** How long to keep probing before failing (default 30 s). */
  timeoutMs?: number;
  /** Pause between probes (default 20 ms). */
  intervalMs?: number;
}

/**
 * Probes until the value satisfies `until` and returns it. A probe that throws counts as not yet;
 * on the deadline the error names `what` and the last value (or error) the probe produced.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  { until = Boolean, timeoutMs = 30_000, intervalMs = 20 }: WaitOptions<T> = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (until(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (performance.now() > deadline) {
      const seen =
        last === undefined
          ? 'nothing'
          : 'error' in last
            ? `error ${String(last.error)}`
            : inspect(last.value, { depth: 4, breakLength: Infinity });
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last observed: ${seen}`);
    }
    await sleep(intervalMs);
  }
}

/** A fixed pause, for the observation windows of tests that check something does not happen. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
