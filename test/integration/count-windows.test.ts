// Count windows (GlobalWindows with count triggers and evictors) across two TaskManagers.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 2, slots: 2 });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('count windows across processes', () => {
  it('fires every n elements per key (tumbling) and every slide over the last n (sliding)', async () => {
    const out = join(cluster.dir, 'count-out');
    const [n, keys, size, slide] = [20_000, 10, 100, 50];
    const jobId = await cluster.submit(
      'test/jobs/et-count.ts',
      [out, String(n), String(keys), String(size), String(slide)],
      2,
    );
    await cluster.waitForJob(jobId, ['FINISHED']);
    const rows = [...readCommittedLines(join(out, 'tumbling')), ...readCommittedLines(join(out, 'sliding'))].map((l) =>
      l.split(','),
    );
    const tumbling = rows
      .filter((r) => r[0] === 'tumbling')
      .map((r) => r.slice(1).map(Number) as [number, number, number]);
    const sliding = rows
      .filter((r) => r[0] === 'sliding')
      .map((r) => r.slice(1).map(Number) as [number, number, number]);
    const perKey = n / keys;
    // Tumbling: each key's elements split into full windows of `size`; their sums add up to the key's total.
    expect(tumbling).toHaveLength((perKey / size) * keys);
    for (const [, count] of tumbling) expect(count).toBe(size);
    for (let k = 0; k < keys; k++) {
      const total = Array.from({ length: perKey }, (_, i) => i * keys + k).reduce((a, b) => a + b, 0);
      expect(tumbling.filter((r) => r[0] === k).reduce((a, r) => a + r[2], 0)).toBe(total);
    }
    // Sliding: a firing every `slide` elements per key, over at most the last `size` of them.
    expect(sliding).toHaveLength((perKey / slide) * keys);
    for (let k = 0; k < keys; k++) {
      const counts = sliding
        .filter((r) => r[0] === k)
        .map((r) => r[1])
        .sort((a, b) => a - b);
      expect(counts).toEqual([slide, ...new Array(perKey / slide - 1).fill(size)]);
    }
  });
});
