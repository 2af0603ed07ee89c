// Sliced windows across real processes: a job with sliding (aggregate) and tumbling (process)
// event-time windows, stopped with a savepoint part way on the heap backend at parallelism 2 and
// resumed from it on the level backend at parallelism 3 (key groups move between subtasks),
// fires every window exactly once with what a plain loop over the same records computes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DISORDER_MS, recordOf, SLIDING, TUMBLING_MS } from '../jobs/sliced-windows.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';
import { stopWithSavepoint, submitFrom } from '../helpers/savepoints.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { lateRecordsPerSubtask } from '../reference/stream.js';
import { assignWindows } from '../reference/windows.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** The windows' lines as the job writes them, from a plain loop over the records. */
function reference(count: number, keys: number): { sliding: string[]; tumbling: string[] } {
  const sliding = new Map<string, { count: number; sum: number }>();
  const tumbling = new Map<string, { count: number; sum: number }>();
  const add = (m: Map<string, { count: number; sum: number }>, id: string, v: number) => {
    const s = m.get(id) ?? { count: 0, sum: 0 };
    s.count++;
    s.sum += v;
    m.set(id, s);
  };
  for (let i = 0; i < count; i++) {
    const r = recordOf(i, keys);
    for (const w of assignWindows({ kind: 'sliding', size: SLIDING.size, slide: SLIDING.slide }, r.ts))
      add(sliding, `S,${r.key},${w.start},${w.end}`, r.v);
    const [t] = assignWindows({ kind: 'tumbling', size: TUMBLING_MS }, r.ts);
    add(tumbling, `T,${r.key},${t!.start}`, r.v);
  }
  return {
    sliding: [...sliding].map(([id, s]) => `${id},${s.count},${s.sum}`),
    tumbling: [...tumbling].map(([id, s]) => `${id},${s.count},${s.sum}`),
  };
}

describe('sliced windows across processes', () => {
  it('savepoint at parallelism 2 on heap, resumed at parallelism 3 on level: every window once, as the reference', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'weir-slices-'));
    try {
      const N = 12_000;
      const K = 23;
      const slidingOut = join(shared, 'sliding');
      const tumblingOut = join(shared, 'tumbling');
      const args = (rate: number) => [slidingOut, tumblingOut, String(N), String(K), String(rate), '200'];
      // No record is late at either parallelism (the watermark's bound covers the disorder), so
      // each window fires once whatever the timing.
      for (const p of [2, 3]) expect(lateRecordsPerSubtask((i) => recordOf(i, K).ts, N, p, DISORDER_MS)).toBe(0);
      const expected = reference(N, K);

      cluster = await startCluster({
        taskManagers: 2,
        slots: 2,
        config: {
          'state.backend': 'heap',
          'state.savepoints.dir': join(shared, 'sp'),
          'security.rest.allowed-dirs': shared,
        },
      });
      let c = cluster;
      const a = await c.submit('test/jobs/sliced-windows.ts', args(3000), 2);
      await c.waitFor(
        'windows of both kinds',
        async () => readCommittedLines(slidingOut).length > 300 && readCommittedLines(tumblingOut).length > 100,
        30_000,
      );
      const sp = await stopWithSavepoint(c, a);
      expect(sp.failure).toBeUndefined();
      // Not drained: windows still open stay in the savepoint, unfired.
      const firedBefore = readCommittedLines(slidingOut).length;
      expect(firedBefore).toBeLessThan(expected.sliding.length);
      await c.stop();

      cluster = await startCluster({
        taskManagers: 2,
        slots: 2,
        config: { 'state.backend': 'level', 'security.rest.allowed-dirs': shared },
      });
      c = cluster;
      const b = await submitFrom(c, 'test/jobs/sliced-windows.ts', args(20_000), {
        parallelism: 3,
        savepointPath: sp.location!,
      });
      const done = await c.waitForJob(b, ['FINISHED'], 90_000);
      expect(done.vertices.some((v: { parallelism: number }) => v.parallelism === 3)).toBe(true);

      const sliding = readCommittedLines(slidingOut);
      const tumbling = readCommittedLines(tumblingOut);
      expect(new Set(sliding).size).toBe(sliding.length);
      expect(new Set(tumbling).size).toBe(tumbling.length);
      expect(multisetDiff(sliding, expected.sliding)).toEqual(NO_DIFF);
      expect(multisetDiff(tumbling, expected.tumbling)).toEqual(NO_DIFF);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  }, 180_000);
});
