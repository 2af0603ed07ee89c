// Incremental checkpoints of the level backend across real processes: a keyed running count
// checkpoints into <jobId>/shared/ (a full file, then deltas), a TaskManager running its tasks is
// SIGKILLed, the job restores from the incremental chain and continues it (its first checkpoint after
// the restore is a delta on the restored files), its committed output is exactly once (every key's
// counts are exactly 1..N), unused shared files go as checkpoints are subsumed, and once it
// finishes its checkpoints and shared files are gone.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { CheckpointMetadata, SharedStateFile } from '../../common/checkpoint.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { referenceCounts } from '../reference/counts.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function completedMetadata(jobDir: string): CheckpointMetadata[] {
  if (!existsSync(jobDir)) return [];
  return readdirSync(jobDir)
    .filter((d) => d.startsWith('chk-') && existsSync(join(jobDir, d, '_metadata')))
    .map((d) => JSON.parse(readFileSync(join(jobDir, d, '_metadata'), 'utf8')) as CheckpointMetadata)
    .sort((a, b) => b.checkpointId - a.checkpointId);
}

/**
 * Records every completed checkpoint's metadata as it appears: with checkpoints every 300 ms and two
 * retained, one can be written and subsumed between two reads of a test that awaits other things.
 */
function watchCheckpoints(jobDir: string): { seen: Map<number, CheckpointMetadata>; stop: () => void } {
  const seen = new Map<number, CheckpointMetadata>();
  const read = (): void => {
    if (!existsSync(jobDir)) return;
    for (const d of readdirSync(jobDir)) {
      const id = Number(d.slice('chk-'.length));
      if (!d.startsWith('chk-') || seen.has(id)) continue;
      try {
        seen.set(id, JSON.parse(readFileSync(join(jobDir, d, '_metadata'), 'utf8')) as CheckpointMetadata);
      } catch {
        // Not complete yet (no _metadata), or already subsumed: the next read decides.
      }
    }
  };
  read();
  const timer = setInterval(read, 20);
  return { seen, stop: () => clearInterval(timer) };
}

const deltaBytes = (chain: SharedStateFile[]): number => chain.slice(1).reduce((n, f) => n + f.size, 0);

/** Per operator and subtask: the shared files of its keyed state. */
function chainsOf(m: CheckpointMetadata): Map<string, SharedStateFile[]> {
  return new Map(
    m.operators.flatMap((o) =>
      o.subtasks.filter((h) => h.shared).map((h) => [`${o.operatorId}/${h.subtaskIndex}`, h.shared!]),
    ),
  );
}

describe('incremental checkpoints (level backend)', () => {
  it('restores exactly once from an incremental chain after a TaskManager is SIGKILLed, and cleans up after the job', async () => {
    cluster = await startCluster({
      taskManagers: 2,
      slots: 2,
      config: {
        'state.backend': 'level',
        'state.backend.incremental': 'true',
        'state.checkpoints.num-retained': '2',
        'heartbeat.timeout': '3 s',
        'web.checkpoints.history': '100',
      },
    });
    const c = cluster;
    const out = join(c.dir, 'counts');
    // Enough keys that a checkpoint interval changes a small part of them, and a run of 20 s: chains
    // start anew once their deltas outweigh the full file, every few seconds, so the short chains
    // waited for below come round several times before the input ends (a busy machine included).
    const [count, keys] = [100_000, 20_000];
    const jobId = await c.submit('test/jobs/cp-count.ts', [out, String(count), String(keys), '5000', '-1', '300'], 2);
    const jobDir = join(c.dir, 'jobmanager', 'checkpoints', jobId);
    // Wait for a retained checkpoint whose keyed state is a chain with at least one delta.
    const withDelta = await c.waitFor(
      'a checkpoint built of a full file and deltas',
      async () =>
        completedMetadata(jobDir).find((m) =>
          m.operators.some((o) => o.subtasks.some((h) => (h.shared?.length ?? 0) > 1)),
        ),
      60_000,
    );
    expect(withDelta.checkpointedSize!).toBeLessThan(withDelta.stateSize);
    expect(readdirSync(join(jobDir, 'shared')).length).toBeGreaterThan(0);
    // The statistics learn of a checkpoint just after its _metadata is written.
    await c.waitFor(
      'the statistics to show a checkpoint smaller than its state',
      async () => {
        const stats = (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
        return stats.history.some((h: any) => h.status === 'COMPLETED' && h.checkpointed_size < h.state_size);
      },
      10_000,
    );

    // Kill a TaskManager that runs the counter's tasks.
    const j = await c.job(jobId);
    const hosting = new Set(j.vertices.flatMap((v: any) => v.subtasks.map((st: any) => st['taskmanager-id'])));
    const victim = c.taskManagers.find((p) => hosting.has(p.id))!;
    // Killed while the newest chains are short, so the restored ones are well within the
    // deltas-outweigh-the-full-file limit and the first checkpoint after the restore may continue them.
    await c.waitFor(
      'a newest checkpoint whose chains are short',
      async () => {
        const newest = completedMetadata(jobDir)[0];
        if (!newest) return false;
        const chains = [...chainsOf(newest).values()];
        return chains.length > 0 && chains.every((ch) => deltaBytes(ch) <= ch[0]!.size / 2);
      },
      60_000,
    );
    // From before the kill, so that the checkpoint the job restores is seen even if it is subsumed
    // while the new TaskManager starts.
    const { seen, stop } = watchCheckpoints(jobDir);
    onTestFinished(stop);
    victim.proc.kill('SIGKILL');
    await c.addTaskManager(2);
    const restoredId = await c.waitFor(
      'the job restored from a checkpoint',
      async () => {
        return ((await c.rest(`/jobs/${jobId}/checkpoints`)).body.latest.restored?.id as number | undefined) ?? false;
      },
      60_000,
    );
    const restored = await c.waitFor('the restored checkpoint', async () => seen.get(restoredId), 5_000);
    const first = await c.waitFor(
      'the first checkpoint completed after the restore',
      async () => {
        const after = [...seen.keys()].filter((id) => id > restoredId);
        return after.length > 0 ? seen.get(Math.min(...after)) : undefined;
      },
      60_000,
    );
    // Each subtask builds a delta on the chain it restored (short enough to continue): its files are shared by reference.
    const before = chainsOf(restored);
    expect(before.size).toBeGreaterThan(0);
    for (const [subtask, chain] of chainsOf(first)) {
      const base = before.get(subtask)!;
      expect(deltaBytes(base)).toBeLessThanOrEqual(base[0]!.size);
      expect(chain.slice(0, -1)).toEqual(base);
      expect(chain[chain.length - 1]).toMatchObject({ delta: true, checkpointId: first.checkpointId });
      expect(chain[chain.length - 1]!.name).toMatch(/\.delta$/);
    }
    // The restored files count in the state size but were not written again.
    const reused = [...chainsOf(first).values()]
      .flat()
      .filter((f) => f.checkpointId < first.checkpointId)
      .reduce((n, f) => n + f.size, 0);
    expect(reused).toBeGreaterThan(0);
    expect(first.stateSize - first.checkpointedSize!).toBe(reused);
    const firstStats = await c.waitFor(
      'the statistics of that checkpoint',
      async () =>
        ((await c.rest(`/jobs/${jobId}/checkpoints`)).body.history as any[]).find(
          (h) => h.id === first.checkpointId && h.status === 'COMPLETED',
        ),
      10_000,
    );
    expect(firstStats).toMatchObject({ checkpointed_size: first.checkpointedSize, state_size: first.stateSize });
    expect(firstStats.checkpointed_size).toBeLessThan(firstStats.state_size);
    // The restored checkpoint is subsumed; the files it shares with a retained one stay.
    await c.waitFor(
      'the restored checkpoint subsumed',
      async () => !existsSync(join(jobDir, `chk-${restoredId}`)),
      30_000,
    );
    const kept = [...chainsOf(first).values()].flat().every((f) => existsSync(join(jobDir, 'shared', f.name)));
    if (existsSync(join(jobDir, `chk-${first.checkpointId}`, '_metadata'))) expect(kept).toBe(true);
    // Once the restored checkpoint and that one are subsumed, the files no retained checkpoint lists are deleted.
    const candidates = new Set([...chainsOf(restored).values(), ...chainsOf(first).values()].flat().map((f) => f.name));
    await c.waitFor(
      'shared files of subsumed checkpoints deleted once unused',
      async () => {
        if (!existsSync(jobDir)) return true;
        if (existsSync(join(jobDir, `chk-${first.checkpointId}`))) return false;
        const listed = new Set(
          completedMetadata(jobDir).flatMap((m) => [...chainsOf(m).values()].flat().map((f) => f.name)),
        );
        const onDisk = existsSync(join(jobDir, 'shared')) ? readdirSync(join(jobDir, 'shared')) : [];
        return onDisk.every((n) => !candidates.has(n) || listed.has(n));
      },
      60_000,
    );
    const done = await c.waitForJob(jobId, ['FINISHED'], 120_000);
    expect(done.state).toBe('FINISHED');
    const cp = (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
    expect(cp.counts.restored).toBeGreaterThanOrEqual(1);
    // Exactly once: finalCounts checks every key saw 1..N once each; N must be the reference's.
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(count, keys));
    // A FINISHED job's checkpoints are deleted, shared files included.
    await c.waitFor('the checkpoint folder removed', async () => !existsSync(jobDir), 15_000);
  }, 180_000);
});
