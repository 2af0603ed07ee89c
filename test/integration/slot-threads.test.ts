// Each slot of a TaskManager runs on its own thread: a thread that dies or hangs takes only its
// slot's tasks along, while the TaskManager keeps heartbeating and the other slot keeps running;
// records cross between the threads of one TaskManager with credit-based backpressure and aligned
// barriers, exactly once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { sleep } from '../helpers/eventually.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { referenceCounts } from '../reference/counts.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function sourceRecords(c: TestCluster, jobId: string): Promise<number> {
  return (await c.job(jobId)).vertices[0].metrics['source-records'] as number;
}

async function running(c: TestCluster, jobId: string): Promise<void> {
  await c.waitFor(`job ${jobId} running`, async () =>
    (await c.job(jobId)).vertices.every((v: any) => v.status === 'RUNNING'),
  );
}

/** The young generation a slot thread's heap has, as user code there reads it (the job fails with it). */
async function youngGenerationSeen(c: TestCluster): Promise<string | undefined> {
  const jobId = await c.submit('test/jobs/slot-threads.ts', ['limits', '10', '1000'], 1);
  await c.waitForJob(jobId, ['FAILED'], 30_000);
  const root = String((await c.rest(`/jobs/${jobId}/exceptions`)).body['root-exception']);
  return /young generation of this thread: (\d+ MB)/.exec(root)?.[1];
}

/** A job on the other slot that must not notice: it keeps running and its records keep counting. */
async function expectUndisturbed(c: TestCluster, jobId: string): Promise<void> {
  expect((await c.job(jobId)).state).toBe('RUNNING');
  const before = await sourceRecords(c, jobId);
  await c.waitFor(`job ${jobId} to make progress`, async () => (await sourceRecords(c, jobId)) > before, 10_000);
}

describe('slot threads', () => {
  it("a thread that exits, or leaves a rejected promise unhandled, fails only its slot's tasks; the TaskManager and the other slot go on, and the slot is usable again", async () => {
    cluster = await startCluster({ taskManagers: 1, slots: 2 });
    const c = cluster;
    const calm = await c.submit('test/jobs/slot-threads.ts', ['none', '0', '1000'], 1);
    await running(c, calm);
    const doomed = await c.submit('test/jobs/slot-threads.ts', ['exit', '200', '1000'], 1);
    const failed = await c.waitForJob(doomed, ['FAILED'], 20_000);
    expect(failed.state).toBe('FAILED');
    const ex = (await c.rest(`/jobs/${doomed}/exceptions`)).body;
    expect(ex['root-exception']).toMatch(/thread of slot \d exited unexpectedly \(code 3\)/);
    await expectUndisturbed(c, calm);
    const tm = c.taskManagers[0]!;
    expect(tm.proc.exitCode).toBeNull();
    // A rejected promise nobody handles fails its slot's tasks the same way, with its stack.
    const rejecting = await c.submit('test/jobs/slot-threads.ts', ['reject', '200', '1000'], 1);
    await c.waitForJob(rejecting, ['FAILED'], 20_000);
    expect((await c.rest(`/jobs/${rejecting}/exceptions`)).body['root-exception']).toMatch(
      /thread of slot \d failed: Error: a fire-and-forget write failed\n\s+at /,
    );
    await expectUndisturbed(c, calm);
    expect(tm.proc.exitCode).toBeNull();
    // The replaced thread takes a new job.
    const next = await c.submit('test/jobs/slot-threads.ts', ['none', '0', '1000'], 1);
    await running(c, next);
    const o = (await c.rest('/overview')).body;
    expect(o.taskmanagers).toBe(1);
    expect(o['slots-available']).toBe(0);
  }, 60_000);

  it('a function that never returns is canceled by terminating its thread; heartbeats go on meanwhile', async () => {
    cluster = await startCluster({
      taskManagers: 1,
      slots: 2,
      config: { 'task.cancellation.timeout': '2 s', 'heartbeat.interval': '500 ms', 'heartbeat.timeout': '3 s' },
    });
    const c = cluster;
    const calm = await c.submit('test/jobs/slot-threads.ts', ['none', '0', '1000'], 1);
    await running(c, calm);
    const stuck = await c.submit('test/jobs/slot-threads.ts', ['hang', '200', '1000'], 1);
    await running(c, stuck);
    // Past record 200 the task spins; longer than the heartbeat timeout, and the TaskManager is not lost.
    // Not being lost is a non-event: 4 s outlasts the 3 s heartbeat timeout.
    await sleep(4000);
    expect((await c.rest('/overview')).body.taskmanagers).toBe(1);
    await expectUndisturbed(c, calm);
    const started = Date.now();
    await c.rest(`/jobs/${stuck}?mode=cancel`, { method: 'PATCH' });
    await c.waitForJob(stuck, ['CANCELED'], 15_000);
    // Five times task.cancellation.timeout: room for a loaded machine, yet a cancel that ignored the
    // timeout (or waited for a thread that never returns) would not make it.
    expect(Date.now() - started).toBeLessThan(10_000);
    await c.waitFor(
      'the stuck slot thread terminated',
      async () => readFileSync(c.taskManagers[0]!.outFile, 'utf8').includes('did not stop on cancel'),
      10_000,
    );
    await expectUndisturbed(c, calm);
    const next = await c.submit('test/jobs/slot-threads.ts', ['none', '0', '1000'], 1);
    await running(c, next);
    const a = await sourceRecords(c, next);
    await c.waitFor('the new job to make progress', async () => (await sourceRecords(c, next)) > a, 10_000);
  }, 60_000);

  it('a slot that ran tasks keeps a spare thread loaded, and the next job deploys on it', async () => {
    cluster = await startCluster({ taskManagers: 1, slots: 1 });
    const c = cluster;
    const tmId = (await c.rest('/taskmanagers')).body.taskmanagers[0].id;
    const withoutSpare = async () => {
      const text = (await c.rest(`/taskmanagers/${tmId}/metrics/prometheus`)).body as string;
      return Number(/^weir_taskmanager_slots_without_spare_thread\{[^}]*\} (\d+)$/m.exec(text)?.[1]);
    };
    const takeovers = () =>
      readFileSync(c.taskManagers[0]!.outFile, 'utf8').split("the slot's spare thread takes over").length - 1;
    // A slot that never ran tasks needs none.
    expect(await withoutSpare()).toBe(0);
    const first = await c.submit('test/jobs/slot-threads.ts', ['none', '0', '1000'], 1);
    await running(c, first);
    await c.waitFor('the spare thread loaded while the job runs', async () => (await withoutSpare()) === 0, 20_000);
    expect(takeovers()).toBe(0);
    await c.rest(`/jobs/${first}?mode=cancel`, { method: 'PATCH' });
    await c.waitForJob(first, ['CANCELED'], 15_000);
    const second = await c.submit('test/jobs/slot-threads.ts', ['none', '0', '1000'], 1);
    await running(c, second);
    expect(takeovers()).toBe(1);
    const a = await sourceRecords(c, second);
    await c.waitFor(
      'the job on the spare thread to make progress',
      async () => (await sourceRecords(c, second)) > a,
      10_000,
    );
    // And the slot loads its next spare.
    await c.waitFor('the next spare thread loaded', async () => (await withoutSpare()) === 0, 20_000);
  }, 60_000);

  it('with taskmanager.slot.spare-thread false, a slot loads no spare: each thread that replaces another loads then', async () => {
    cluster = await startCluster({ taskManagers: 1, slots: 1, config: { 'taskmanager.slot.spare-thread': 'false' } });
    const c = cluster;
    const runAndCancel = async () => {
      const jobId = await c.submit('test/jobs/slot-threads.ts', ['none', '0', '1000'], 1);
      await running(c, jobId);
      await c.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
      await c.waitForJob(jobId, ['CANCELED'], 15_000);
    };
    await runAndCancel();
    // With spares on, the slot emptied by the cancel loads one after a second; this is three.
    await sleep(3000);
    await runAndCancel();
    // The second cancel replaced the thread (the next job runs on the replacement): with spares
    // on, by the spare loaded meanwhile.
    const next = await c.submit('test/jobs/slot-threads.ts', ['none', '0', '1000'], 1);
    await running(c, next);
    expect(readFileSync(c.taskManagers[0]!.outFile, 'utf8')).not.toContain("the slot's spare thread takes over");
  }, 60_000);

  it("loads user code anew for each attempt: module state does not leak into a restart; a slot thread's young generation has its default size", async () => {
    cluster = await startCluster({ taskManagers: 1, slots: 1 });
    const jobId = await cluster.submit('test/jobs/module-state.ts', [], 1);
    const job = await cluster.waitForJob(jobId, ['FINISHED', 'FAILED'], 30_000);
    const ex = (await cluster.rest(`/jobs/${jobId}/exceptions`)).body;
    expect(ex['root-exception']).toContain('planned failure of attempt 0');
    expect(job.state).toBe('FINISHED');
    expect(await youngGenerationSeen(cluster)).toBe('192 MB');
  }, 60_000);

  it("sizes a slot thread's young generation as configured", async () => {
    cluster = await startCluster({
      taskManagers: 1,
      slots: 1,
      config: { 'taskmanager.memory.young-generation-size': '64 mb' },
    });
    expect(await youngGenerationSeen(cluster)).toBe('64 MB');
  }, 60_000);

  it('exactly-once counts through a failure, with barriers aligned over same-thread, other-thread and remote channels', async () => {
    // Three slots on two TaskManagers: each keyed subtask reads from its own thread, the other
    // thread of its TaskManager and the other TaskManager.
    cluster = await startCluster({ taskManagers: 0, slots: 2 });
    const c = cluster;
    await c.addTaskManager(2);
    await c.addTaskManager(1);
    const out = join(c.dir, 'counts');
    const jobId = await c.submit('test/jobs/cp-count.ts', [out, '15000', '60', '4000', '8000', '150'], 3);
    const job = await c.waitForJob(jobId, ['FINISHED'], 60_000);
    expect(job.state).toBe('FINISHED');
    expect(finalCounts(readCommittedLines(out))).toEqual(referenceCounts(15000, 60));
    const cp = (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
    expect(cp.counts.restored).toBe(1);
    expect(cp.counts.completed).toBeGreaterThanOrEqual(2);
  }, 90_000);
});
