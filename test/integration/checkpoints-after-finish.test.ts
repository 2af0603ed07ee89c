// Checkpoints after tasks finished (Flink's FLIP-147) across real processes: a bounded source
// unioned with a long one keeps checkpointing once the bounded one finished, the exactly-once
// FileSink keeps publishing, `_metadata` records the finished source, and a TaskManager killed
// afterwards restores without reading the bounded input again, replaying only what came after the
// latest checkpoint; the committed output equals a plain count over the seeded input.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { sleep } from '../helpers/eventually.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { referenceUnionCounts } from '../reference/union-counts.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const KEYS = 40;
const SEED = 20_240_607;

async function vertex(c: TestCluster, jobId: string, name: string): Promise<any> {
  return (await c.job(jobId)).vertices.find((v: any) => v.name.includes(name));
}

describe('checkpoints after tasks finished', () => {
  it('go on once the bounded source finished, publish while running, and restore without reading it again', async () => {
    const [refCount, eventCount] = [3000, 24_000];
    cluster = await startCluster({ taskManagers: 2, slots: 2, config: { 'heartbeat.timeout': '3 s' } });
    const c = cluster;
    const out = join(c.dir, 'counts');
    const jobId = await c.submit(
      'test/jobs/cpf-union.ts',
      [out, String(refCount), '3000', String(eventCount), '1500', String(KEYS), String(SEED), '300'],
      2,
    );
    const stats = async () => (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
    expect((await c.rest(`/jobs/${jobId}/checkpoints/config`)).body.checkpoints_after_tasks_finish).toBe(true);

    await c.waitFor(
      'the reference data source finished',
      async () => (await vertex(c, jobId, 'Reference data'))?.status === 'FINISHED',
      30_000,
    );
    const completedAtFinish = (await stats()).counts.completed;
    const committedAtFinish = readCommittedLines(out).length;
    await c.waitFor(
      'three more checkpoints completed',
      async () => (await stats()).counts.completed >= completedAtFinish + 3,
      30_000,
    );
    expect((await c.job(jobId)).state).toBe('RUNNING');
    // The FileSink rolls at every checkpoint: committed files keep appearing while the job runs.
    await c.waitFor('more committed output', async () => readCommittedLines(out).length > committedAtFinish, 10_000);
    expect(readCommittedLines(out).length).toBeLessThan(refCount + eventCount);

    // Flink's FullyFinishedOperatorState: no handles, every subtask finished.
    const latest = (await stats()).latest.completed;
    const metadata = JSON.parse(readFileSync(join(latest.external_path, '_metadata'), 'utf8'));
    expect(metadata.operators.find((o: any) => o.uid === 'reference')).toMatchObject({
      fullyFinished: true,
      finishedSubtasks: [0, 1],
      subtasks: [],
    });
    expect(metadata.operators.find((o: any) => o.uid === 'counter').subtasks).toHaveLength(2);
    expect(latest.num_acknowledged_subtasks).toBe(latest.num_subtasks);

    c.taskManagers[1]!.proc.kill('SIGKILL');
    const added = await c.addTaskManager(2);
    const restored = await c.waitFor(
      'the job restored',
      async () => (await stats()).latest.restored ?? undefined,
      30_000,
    );
    expect(restored.id).toBeGreaterThanOrEqual(latest.id);
    const job = await c.waitForJob(jobId, ['FINISHED'], 90_000);
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceUnionCounts(refCount, eventCount, KEYS, SEED));

    // The restored attempt: the bounded source finished at once, the long one went on from its checkpointed position.
    const reference = job.vertices.find((v: any) => v.name.includes('Reference data'));
    const events = job.vertices.find((v: any) => v.name.includes('Events'));
    expect(reference.metrics['write-records']).toBe(0);
    expect(events.metrics['write-records']).toBeGreaterThan(0);
    expect(events.metrics['write-records']).toBeLessThan(eventCount);
    const tmLogs = [c.taskManagers[0]!, added].map((t) => readFileSync(t.outFile, 'utf8')).join('\n');
    expect(tmLogs).toContain('restored as finished: ended at once');
  }, 150_000);

  it("stop once a task reached its end with Flink's key turned off, and still commit everything at the end", async () => {
    const [refCount, eventCount] = [1000, 6000];
    cluster = await startCluster({
      taskManagers: 1,
      slots: 2,
      config: { 'execution.checkpointing.checkpoints-after-tasks-finish.enabled': 'false' },
    });
    const c = cluster;
    const out = join(c.dir, 'counts');
    const jobId = await c.submit(
      'test/jobs/cpf-union.ts',
      [out, String(refCount), '4000', String(eventCount), '1500', String(KEYS), String(SEED), '200'],
      2,
    );
    const stats = async () => (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
    expect((await c.rest(`/jobs/${jobId}/checkpoints/config`)).body.checkpoints_after_tasks_finish).toBe(false);
    await c.waitFor(
      'the reference data read',
      async () => (await vertex(c, jobId, 'Reference data'))?.metrics['write-records'] >= refCount,
      30_000,
    );
    // Its end may race one last checkpoint. Nothing marks the end here (with the key off the task
    // reports FINISHED only with the job), so a short settle is all there is.
    await sleep(500);
    const frozen = (await stats()).counts.completed;
    // No checkpoint is the non-event under test: 1.5 s is seven of the 200 ms checkpoint intervals.
    await sleep(1500);
    expect((await c.job(jobId)).state).toBe('RUNNING');
    expect((await stats()).counts.completed).toBe(frozen);
    await c.waitForJob(jobId, ['FINISHED'], 60_000);
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceUnionCounts(refCount, eventCount, KEYS, SEED));
  }, 90_000);
});
