// Idle inputs do not hold back the watermark: in an unbounded job where one of two parallel
// watermark-assigning subtasks never sees a record, windows fire while the job runs when the
// strategy has withIdleness, with exactly the expected counts; the same job without it never
// fires (its watermark waits for the empty subtask forever).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';
import { IDLE_BASE, IDLE_KEYS, idleLine, idleRecord } from '../jobs/et-idle.js';

let cluster: TestCluster;
const out = mkdtempSync(join(tmpdir(), 'weir-idle-'));

beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 2, slots: 2 });
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(out, { recursive: true, force: true });
});

/** The counts the job must report for the window [start, end) of event time. */
function expectedWindow(start: number, end: number): Map<number, string> {
  const counts = new Map<number, number>();
  for (let i = Math.max(0, start - IDLE_BASE); i < end - IDLE_BASE; i++) {
    if (i % 2 !== 0) continue;
    const r = idleRecord(i);
    counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
  }
  return new Map([...counts].map(([k, n]) => [k, idleLine(k, start, end, n)]));
}

describe('idle inputs', () => {
  it('do not hold back the watermark with withIdleness; without it nothing fires', async () => {
    const idleDir = join(out, 'idle');
    const stuckDir = join(out, 'stuck');
    const [idleJob, stuckJob] = await Promise.all([
      cluster.submit('test/jobs/et-idle.ts', [idleDir, '300', '1000', '200'], 2),
      cluster.submit('test/jobs/et-idle.ts', [stuckDir, '-', '1000', '200'], 2),
    ]);
    try {
      await Promise.all([cluster.waitForJob(idleJob, ['RUNNING']), cluster.waitForJob(stuckJob, ['RUNNING'])]);
      const windows = 6;
      const lines = await cluster.waitFor(
        `${windows} windows to fire`,
        async () => {
          const l = readCommittedLines(idleDir);
          return l.length >= windows * IDLE_KEYS ? l : undefined;
        },
        30_000,
      );
      // Still running: the output came from the watermark, not from the end of input.
      expect((await cluster.job(idleJob)).state).toBe('RUNNING');
      const seen = new Set<string>();
      for (const line of lines) {
        const [key, start, end] = line.split('|').map(Number) as [number, number, number];
        expect(end - start).toBe(200);
        expect(line).toBe(expectedWindow(start, end).get(key));
        seen.add(`${key}|${start}`);
      }
      expect(seen.size).toBe(lines.length);

      const stuck = await cluster.job(stuckJob);
      expect(stuck.state).toBe('RUNNING');
      expect(stuck.vertices[0].metrics['write-records']).toBeGreaterThan(0);
      expect(readCommittedLines(stuckDir)).toEqual([]);
    } finally {
      await Promise.all([idleJob, stuckJob].map((j) => cluster.rest(`/jobs/${j}?mode=cancel`, { method: 'PATCH' })));
      await Promise.all([idleJob, stuckJob].map((j) => cluster.waitForJob(j, ['CANCELED'], 15_000)));
    }
  });
});
