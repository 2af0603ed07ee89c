// Summarizes a V8 .cpuprofile (as written by `node --cpu-prof`): self time per function and per
// file, heaviest first.
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

export function summarizeCpuProfile(file: string, root: string, limit = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to it.
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
  return { totalMs: total / 1000, busyMs: (total - idle) / 1000, functions: top(functions, total, limit), files: top(files, total, limit) };
}
