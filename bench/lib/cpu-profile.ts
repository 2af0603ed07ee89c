// Summarizes a V8 .cpuprofile (as written by `node --cpu-prof`): self time per function and per
// file, heaviest first, optionally only over a time window (a job's running phase rather than the
// process's start-up and shutdown).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  /** Self time in milliseconds. */
  selfMs: number;
  /** Share of all sampled time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Time not idle: everything but "(idle)" and "(program)". */
  busyMs: number;
  functions: HotSpot[];
  files: HotSpot[];
}

function displayUrl(url: string, root: string): string {
  if (!url) return '(native)';
  try {
    const path = url.startsWith('file://') ? fileURLToPath(url) : url;
    return path.startsWith(root) ? relative(root, path) : path.replace(/^.*\/node_modules\//, 'node_modules/');
  } catch {
    return url;
  }
}

function top(map: Map<string, number>, total: number, limit: number): HotSpot[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: us / total }));
}

/**
 * Microseconds to add to an epoch time in ms × 1000 to get V8's profile clock: both the profile
 * timestamps and process.hrtime() read the monotonic clock, which all processes of a host share.
 */
export function monotonicOffsetUs(): number {
  return Number(process.hrtime.bigint() / 1000n) - Date.now() * 1000;
}

/** A window in epoch milliseconds (e.g. from the JobManager's subtask timestamps). */
export interface EpochWindow {
  startMs: number;
  endMs: number;
  /** monotonicOffsetUs() of the process that reads the timestamps. */
  offsetUs: number;
}

export function summarizeCpuProfile(file: string, root: string, limit = 25, window?: EpochWindow): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const from = window ? window.startMs * 1000 + window.offsetUs : -Infinity;
  const to = window ? window.endMs * 1000 + window.offsetUs : Infinity;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to it.
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    total += us;
    if (cf.functionName === '(idle)' || cf.functionName === '(program)') idle += us;
    const where = displayUrl(cf.url, root);
    const name = `${cf.functionName || '(anonymous)'}  ${where}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    files.set(where, (files.get(where) ?? 0) + us);
  }
  return {
    totalMs: total / 1000,
    busyMs: (total - idle) / 1000,
    functions: top(functions, total, limit),
    files: top(files, total, limit),
  };
}
