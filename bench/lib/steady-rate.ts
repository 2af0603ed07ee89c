// The rate of a benchmark job after its warm-up: the events past the warm-up mark over the time
// from the first source subtask's mark (bench/jobs/warm-mark.ts) to the job's end. Taking the
// first mark counts, at parallelism 2, a little of the slower subtask's warm-up in: the figure
// errs low, never high.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchCluster } from './cluster.js';
import { perSecond } from './stats.js';

/** Where a job's source subtasks mark the end of warm-up (one file per measured run). */
export interface WarmMark {
  /** Per job: events generated before the mark. */
  events: number;
  file: string;
}

/**
 * The share of a measured run's events before its warm-up mark: the rates "after warm-up" leave
 * them out, as Flink's Nexmark measures only after nexmark.metric.monitor.delay (bench/jobs/warm-mark.ts).
 */
export const WARM_SHARE = 1 / 3;

/** How the figures after warm-up say what they count. */
export const AFTER_WARM_UP = `past the first ${Math.round(WARM_SHARE * 100)} % of the input`;

let marks = 0;

/** A new mark file in the cluster's directory, for a job whose first WARM_SHARE of `events` is warm-up. */
export function warmMark(cluster: BenchCluster, events: number): WarmMark {
  return { events: Math.round(events * WARM_SHARE), file: join(cluster.dir, `warm-mark-${++marks}`) };
}

/** The job arguments that make a benchmark job mark the end of its warm-up (bench/jobs/warm-mark.ts). */
export function warmArgs(mark: WarmMark | undefined): string[] {
  return mark ? ['warm', String(mark.events), mark.file] : [];
}

/**
 * Events per second after the warm-up: `jobs` jobs of `events` events each, which all marked
 * `mark.file` and the last of which finished at `lastFinishedAt` (epoch ms).
 */
export function steadyRate(mark: WarmMark, events: number, lastFinishedAt: number, jobs = 1): number {
  let text: string;
  try {
    text = readFileSync(mark.file, 'utf8');
  } catch (e) {
    throw new Error(`no warm-up mark in ${mark.file}: did the job get the 'warm' argument?`, { cause: e });
  }
  const times = text.trim().split('\n').map(Number);
  if (times.length === 0 || times.some((t) => !Number.isFinite(t)))
    throw new Error(`warm-up marks in ${mark.file} are not times: ${JSON.stringify(text)}`);
  return perSecond(jobs * (events - mark.events), lastFinishedAt - Math.min(...times));
}
