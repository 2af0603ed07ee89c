// A bounded generator without a rate limit hands out its indexes on request, across real processes:
// a subtask that runs slower reads less, and every index is read exactly once through a failure, a
// stop-with-savepoint resumed at other parallelisms, and a savepoint of the interleaved splits a
// rate-limited generator reads. A damaged enumerator state in a savepoint is refused clearly.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';
import { runFrom, stopWithSavepoint, submitFrom } from '../helpers/savepoints.js';

const JOB = 'test/jobs/split-requests.ts';

let cluster: TestCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
});

async function shared(): Promise<TestCluster> {
  cluster ??= await startCluster({ taskManagers: 2, slots: 2 });
  return cluster;
}

/** The indexes in the committed output, sorted, and how many each subtask wrote. */
function indexesOf(dir: string): { indexes: number[]; bySubtask: Map<number, number> } {
  const indexes: number[] = [];
  const bySubtask = new Map<number, number>();
  for (const line of readCommittedLines(dir)) {
    const [i, s] = line.split(',').map(Number) as [number, number];
    indexes.push(i);
    bySubtask.set(s, (bySubtask.get(s) ?? 0) + 1);
  }
  return { indexes: indexes.sort((a, b) => a - b), bySubtask };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The generator's entry in a savepoint's `_metadata`. */
const sourceOf = (metadata: { operators: Array<{ uid?: string; coordinatorState?: any }> }) =>
  metadata.operators.find((o) => o.uid === 'indexes')!;

/**
 * Runs the job at parallelism 2 into `out` until more than `lines` records are committed, then
 * stops it with a savepoint; returns the savepoint's directory and `_metadata`.
 */
async function runThenStop(c: TestCluster, out: string, args: string[], lines: number) {
  const jobId = await c.submit(JOB, [out, ...args], 2);
  await c.waitFor('output before the stop', async () => readCommittedLines(out).length > lines, 60_000);
  const sp = await stopWithSavepoint(c, jobId, { targetDirectory: `${out}-savepoints` });
  expect(sp.failure).toBeUndefined();
  expect((await c.job(jobId)).state).toBe('FINISHED');
  const location = sp.location!;
  return { location, metadata: JSON.parse(readFileSync(join(location, '_metadata'), 'utf8')) };
}

/** Resumes the job from `savepointPath`; with the run before, it must have written every index of `n` once. */
async function resumeReadsEachOnce(
  c: TestCluster,
  out: string,
  args: string[],
  n: number,
  opts: { parallelism: number; savepointPath: string },
): Promise<void> {
  const jobId = await submitFrom(c, JOB, [out, ...args], opts);
  expect((await c.waitForJob(jobId, ['FINISHED'], 60_000)).state).toBe('FINISHED');
  expect(indexesOf(out).indexes).toEqual(range(n));
}

describe('splits handed out on request', () => {
  it('a slower subtask reads less, and a failure restores every index exactly once', async () => {
    const c = await shared();
    const out = join(c.dir, 'failover');
    const N = 100_000;
    // Subtask 0 spends 100 µs per record, subtask 1 20 µs: interleaved, each would read half.
    const jobId = await c.submit(JOB, [out, String(N), '100', '100', '20', '40000'], 2);
    const job = await c.waitForJob(jobId, ['FINISHED'], 90_000);
    expect(job.state).toBe('FINISHED');
    const { indexes, bySubtask } = indexesOf(out);
    expect(indexes).toEqual(range(N));
    expect(bySubtask.get(0)!).toBeLessThan(0.35 * N);
    const ex = (await c.rest(`/jobs/${jobId}/exceptions`)).body;
    expect(ex['root-exception']).toContain('planned failure at index');
    expect((await c.rest(`/jobs/${jobId}/checkpoints`)).body.counts.restored).toBe(1);
  }, 120_000);

  it('stop-with-savepoint resumes at parallelism 3 with every index once; the savepoint holds what is left to hand out', async () => {
    const c = await shared();
    const out = join(c.dir, 'resume');
    const N = 80_000;
    const args = (p: string) => [String(N), '200', p, p, '-1'];
    const sp = await runThenStop(c, out, args('40'), 5000);
    expect(indexesOf(out).indexes.length).toBeLessThan(N);
    const { next } = sourceOf(sp.metadata).coordinatorState;
    expect(next).toBeGreaterThan(0);
    expect(next).toBeLessThanOrEqual(N);
    await resumeReadsEachOnce(c, out, args('5'), N, { parallelism: 3, savepointPath: sp.location });
  }, 120_000);

  it('a rate-limited job resumes without its limit: its interleaved splits are read as restored', async () => {
    const c = await shared();
    const out = join(c.dir, 'unlimited');
    const N = 30_000;
    const sp = await runThenStop(c, out, [String(N), '200', '0', '0', '-1', '10000'], 3000);
    expect(sourceOf(sp.metadata).coordinatorState).toBeUndefined();
    await resumeReadsEachOnce(c, out, [String(N), '200', '0', '0', '-1'], N, {
      parallelism: 2,
      savepointPath: sp.location,
    });
  }, 120_000);

  it('a job that gains a rate limit shares out, interleaved, what its enumerator had not handed out', async () => {
    const c = await shared();
    const out = join(c.dir, 'limited');
    const N = 40_000;
    const sp = await runThenStop(c, out, [String(N), '200', '40', '40', '-1'], 5000);
    expect(indexesOf(out).indexes.length).toBeLessThan(N);
    await resumeReadsEachOnce(c, out, [String(N), '200', '0', '0', '-1', '20000'], N, {
      parallelism: 3,
      savepointPath: sp.location,
    });
  }, 120_000);

  it('refuses a savepoint whose enumerator state is damaged, with a clear error', async () => {
    const c = await shared();
    const out = join(c.dir, 'damaged');
    const args = ['200000', '200', '20', '20', '-1'];
    const sp = await runThenStop(c, out, args, 1000);
    sourceOf(sp.metadata).coordinatorState = { next: 'soon' };
    writeFileSync(join(sp.location, '_metadata'), JSON.stringify(sp.metadata));
    const res = await runFrom(c, JOB, [out, ...args], { savepointPath: sp.location });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain("split enumerator state of source 'Source: Indexes' is not valid");
    expect((await c.rest('/overview')).status).toBe(200);
  }, 120_000);
});
