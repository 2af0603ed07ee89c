// The chaos run shared by the heap and level backend tests: the chaos job (test/jobs/chaos.ts) at
// parallelism 2 on two TaskManagers, checkpointing every second, while TaskManagers are SIGKILLed
// one after another (a replacement starts each time). Only committed output counts.
import { join } from 'node:path';
import { expect } from 'vitest';
import { chaosReference } from '../reference/chaos.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { startCluster, type ProcessHandle, type TestCluster } from './cluster.js';
import { readCommittedLines } from './output.js';
import { mulberry32 } from '../reference/random.js';

export interface ChaosResult {
  kills: number;
  restarts: number;
  completedCheckpoints: number;
}

async function allRunning(c: TestCluster, jobId: string): Promise<boolean> {
  const j = await c.job(jobId);
  return j.state === 'RUNNING' && j.vertices.every((v: any) => v.status === 'RUNNING');
}

async function completedCheckpoints(c: TestCluster, jobId: string): Promise<number> {
  const cp = (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
  return Number(cp?.counts?.completed ?? 0);
}

export async function runChaos(
  backend: 'heap' | 'level',
  opts: { orders: number; rate: number; kills: number },
): Promise<ChaosResult> {
  const cluster = await startCluster({
    taskManagers: 2,
    slots: 2,
    config: { 'state.backend': backend, 'heartbeat.timeout': '3 s', 'state.checkpoints.num-retained': '3' },
  });
  try {
    const live: ProcessHandle[] = [...cluster.taskManagers];
    const out = join(cluster.dir, 'chaos');
    const jobId = await cluster.submit('test/jobs/chaos.ts', [out, String(opts.orders), String(opts.rate), '1000'], 2);
    const random = mulberry32(backend === 'heap' ? 11 : 23);
    let kills = 0;
    while (kills < opts.kills) {
      // Kill only once the job runs again and a checkpoint completed since the last restart.
      await cluster.waitFor('all tasks RUNNING', () => allRunning(cluster, jobId), 60_000);
      const before = await completedCheckpoints(cluster, jobId);
      await cluster.waitFor(
        'a new completed checkpoint',
        async () => (await completedCheckpoints(cluster, jobId)) > before,
        // Generous: a loaded machine (both chaos suites at once) once needed more than 30 s.
        60_000,
      );
      await new Promise((r) => setTimeout(r, 200 + Math.floor(random() * 800)));
      const j = await cluster.job(jobId);
      expect(j.state, 'the job must still run when the next TaskManager is killed (raise the orders)').toBe('RUNNING');
      // A random one of the TaskManagers running the job's tasks (killing an idle one tests nothing).
      const hosting = new Set(j.vertices.flatMap((v: any) => v.subtasks.map((st: any) => st['taskmanager-id'])));
      const candidates = live.filter((p) => hosting.has(p.id));
      const victim = candidates[Math.floor(random() * candidates.length)]!;
      live.splice(live.indexOf(victim), 1);
      victim.proc.kill('SIGKILL');
      kills++;
      live.push(await cluster.addTaskManager(2));
    }
    const done = await cluster.waitForJob(jobId, ['FINISHED'], 180_000);
    expect(done.state).toBe('FINISHED');
    const exceptions = (await cluster.rest(`/jobs/${jobId}/exceptions`)).body;
    const restarts = exceptions.exceptionHistory.entries.length;
    const lines = readCommittedLines(join(out, 'out')).sort();
    const expected = chaosReference(opts.orders);
    // Exact equality: nothing lost, nothing twice.
    expect(multisetDiff(lines, expected)).toEqual(NO_DIFF);
    expect(lines.length).toBe(expected.length);
    return { kills, restarts, completedCheckpoints: await completedCheckpoints(cluster, jobId) };
  } finally {
    await cluster.stop();
  }
}
