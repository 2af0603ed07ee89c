// Marks the end of a benchmark job's warm-up, as Flink's Nexmark starts measuring only after a
// delay (nexmark.metric.monitor.delay): every job runs on fresh slot threads, so its first second
// or so runs code the optimizing compiler has not reached yet, and at parallelism 2 that compiler's
// threads have no idle core. Each source subtask appends the wall-clock time (epoch ms, one line)
// at which it first generates an index at or past `warmEvents` to `file`; the benchmark takes the
// rate of the events after the mark from the earliest line to the job's end (bench/lib/steady-rate.ts).
import { appendFileSync } from 'node:fs';

export function markPastWarmUp<T>(
  generate: (index: number) => T,
  warmEvents: number,
  file: string,
): (index: number) => T {
  // Per subtask: each runs its own copy of the job's main(), on its own slot thread.
  let marked = false;
  return (index: number): T => {
    if (!marked && index >= warmEvents) {
      marked = true;
      appendFileSync(file, `${Date.now()}\n`);
    }
    return generate(index);
  };
}

/** Where and after how many events to mark (the job's `warm <events> <file>` arguments). */
export interface WarmOption {
  events: number;
  file: string;
}

/** The generator itself, or wrapped to mark the end of warm-up when `warm` is given. */
export function withWarmMark<T>(generate: (index: number) => T, warm: WarmOption | undefined): (index: number) => T {
  return warm ? markPastWarmUp(generate, warm.events, warm.file) : generate;
}
