// Reference for the watermark alignment job (test/jobs/et-aligned.ts): the window counts a plain
// computation gives, and how far in event time the fast source subtask got ahead of the slow one.
import { alignedEvent, WINDOW_MS } from '../jobs/et-aligned.js';

/** "count,<key>,<window start>,<n>" lines a plain computation over events 0..count-1 gives. */
export function referenceCounts(count: number): string[] {
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const e = alignedEvent(i);
    const id = `${e.key},${e.ts - (e.ts % WINDOW_MS)}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return [...counts].map(([id, n]) => `count,${id},${n}`).sort();
}

/**
 * The largest lead in event time of subtask 0 over subtask 1 while subtask 1 still read: each
 * probe of subtask 0 against the furthest probe of subtask 1 at or before its wall-clock time.
 */
export function maxLead(probes: string[]): number {
  const bySubtask: Array<Array<{ ts: number; at: number }>> = [[], []];
  for (const p of probes) {
    const [, subtask, ts, at] = p.split(',').map(Number) as [number, number, number, number];
    bySubtask[subtask]!.push({ ts, at });
  }
  const [fast, slow] = bySubtask.map((l) => l.sort((a, b) => a.at - b.at)) as [
    Array<{ ts: number; at: number }>,
    Array<{ ts: number; at: number }>,
  ];
  const slowEnd = slow.at(-1)!.at;
  let lead = -Infinity;
  let j = 0;
  let slowTs = -Infinity;
  for (const f of fast) {
    if (f.at > slowEnd) break;
    while (j < slow.length && slow[j]!.at <= f.at) slowTs = Math.max(slowTs, slow[j++]!.ts);
    if (slowTs > -Infinity) lead = Math.max(lead, f.ts - slowTs);
  }
  return lead;
}
