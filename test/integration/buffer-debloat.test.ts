// Buffer debloating across real processes: behind an exchange into a map of 500 µs a record, a
// barrier waits behind every buffer in flight to it. With whole segments (4 KB here, about 700
// records, 0.35 s each) that is about 7 s a checkpoint on this cluster; debloated buffers hold
// about the target's time of records (300 ms here), so checkpoints complete in under a second.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/eventually.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({
    taskManagers: 2,
    slots: 1,
    config: {
      'taskmanager.memory.segment-size': '4 kb',
      'taskmanager.network.memory.buffers-per-remote-channel': '4',
      // A shorter target and period than Flink's (1 s, 200 ms), and fewer samples than its twenty,
      // so the test converges in a few seconds.
      'taskmanager.network.memory.buffer-debloat.target': '300 ms',
      'taskmanager.network.memory.buffer-debloat.period': '100 ms',
      'taskmanager.network.memory.buffer-debloat.samples': '5',
    },
  });
});
afterAll(async () => {
  await cluster?.stop();
});

interface CheckpointEntry {
  id: number;
  status: string;
  end_to_end_duration: number;
}

/** The Slow map subtasks' debloated buffer sizes, from each TaskManager's /metrics. */
async function debloatedSizes(jobId: string): Promise<number[]> {
  const tms = (await cluster.rest<{ taskmanagers: { id: string }[] }>('/taskmanagers')).body.taskmanagers;
  const line = new RegExp(`^weir_task_debloated_buffer_size\\{[^}]*job_id="${jobId}"[^}]*\\} (\\S+)$`, 'gm');
  const texts = await Promise.all(
    tms.map(async (tm) => String((await cluster.rest<string>(`/taskmanagers/${tm.id}/metrics/prometheus`)).body)),
  );
  return texts.flatMap((t) => [...t.matchAll(line)].map((m) => Number(m[1])));
}

describe('buffer debloating', () => {
  it('keeps checkpoints behind a slow operator to about the target time', async () => {
    const jobId = await cluster.submit('test/jobs/slow-map.ts', ['500', '300'], 2);
    const recent = await waitFor(
      'three checkpoints in a row that took under 2 s',
      async () => {
        const history = (await cluster.rest<{ history?: CheckpointEntry[] }>(`/jobs/${jobId}/checkpoints`)).body
          .history;
        // Newest first: the first checkpoints still wait behind the whole segments sent at the start.
        return (history ?? []).filter((h) => h.status === 'COMPLETED').slice(0, 3);
      },
      { timeoutMs: 45_000, until: (r) => r.length === 3 && r.every((h) => h.end_to_end_duration < 2000) },
    );
    expect(recent.map((h) => h.end_to_end_duration).every((d) => d > 0)).toBe(true);
    // Each map subtask told its producers a size below the 4 KB segment.
    const sizes = await debloatedSizes(jobId);
    expect(sizes).toHaveLength(2);
    for (const s of sizes) {
      expect(s).toBeGreaterThanOrEqual(256);
      expect(s).toBeLessThan(4096);
    }
    await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
    await cluster.waitForJob(jobId, ['CANCELED'], 15_000);
  });
});
