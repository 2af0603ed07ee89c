// Jobs across real processes: a JobManager and two TaskManagers, each its own OS process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLine } from '../../examples/wordcount.js';
import { keyOf } from '../jobs/keyed-count.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';

let cluster: TestCluster;
const out = mkdtempSync(join(tmpdir(), 'weir-out-'));

beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 2, slots: 4 });
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(out, { recursive: true, force: true });
});

function referenceWordCount(lines: number): Map<string, number> {
  const ref = new Map<string, number>();
  for (let i = 0; i < lines; i++) for (const w of generateLine(i).split(' ')) ref.set(w, (ref.get(w) ?? 0) + 1);
  return ref;
}

describe('a real cluster', () => {
  it('reports both TaskManagers and their slots', async () => {
    const { body } = await cluster.rest('/overview');
    expect(body.taskmanagers).toBe(2);
    expect(body['slots-total']).toBe(8);
    const tms = (await cluster.rest('/taskmanagers')).body.taskmanagers;
    expect(tms).toHaveLength(2);
    for (const tm of tms) expect(tm).toMatchObject({ slotsNumber: 4, freeSlots: expect.any(Number) });
  });

  it('counts words at parallelism 4 over both TaskManagers exactly as a plain loop does', async () => {
    const dir = join(out, 'wc');
    const jobId = await cluster.submitExample('wordcount', [dir, '30000'], 4);
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);
    const running = await cluster.waitForJob(jobId, ['RUNNING', 'FINISHED']);
    const job = await cluster.waitForJob(jobId, ['FINISHED']);
    expect(running.vertices.length).toBe(2);
    // Subtasks of the keyed vertex ran on both TaskManagers.
    const tmsUsed = new Set(job.vertices.flatMap((v: any) => v.subtasks.map((s: any) => s['taskmanager-id'])));
    expect(tmsUsed.size).toBe(2);
    for (const v of job.vertices) expect(v.parallelism).toBe(4);
    const [src, counts] = job.vertices;
    expect(src.metrics['write-records']).toBe(30000 * 8);
    expect(counts.metrics['read-records']).toBe(30000 * 8);
    // Bytes are measured on both sides of the exchange: every buffer written was read.
    expect(src.metrics['write-bytes']).toBeGreaterThan(30000 * 8);
    expect(counts.metrics['read-bytes']).toBe(src.metrics['write-bytes']);
    const got = finalCounts(readCommittedLines(dir));
    expect(got).toEqual(new Map([...referenceWordCount(30000)].map(([w, n]) => [w, n])));
  });

  it('runs two jobs at once and keeps their keyed state apart', async () => {
    const a = join(out, 'a');
    const b = join(out, 'b');
    const [ja, jb] = await Promise.all([
      cluster.submit('test/jobs/keyed-count.ts', [a, '40000', '300'], 2),
      cluster.submit('test/jobs/keyed-count.ts', [b, '25000', '700'], 3),
    ]);
    await Promise.all([cluster.waitForJob(ja, ['FINISHED']), cluster.waitForJob(jb, ['FINISHED'])]);
    for (const [dir, n, keys] of [
      [a, 40000, 300],
      [b, 25000, 700],
    ] as const) {
      const ref = new Map<number, { sum: number; n: number }>();
      for (let i = 0; i < n; i++) {
        const k = keyOf(i, keys);
        const r = ref.get(k) ?? { sum: 0, n: 0 };
        r.sum += i;
        r.n++;
        ref.set(k, r);
      }
      const last = new Map<number, { sum: number; n: number }>();
      const seen = new Map<number, number[]>();
      for (const line of readCommittedLines(dir)) {
        const [k, sum, cnt] = line.split(',').map(Number) as [number, number, number];
        (seen.get(k) ?? seen.set(k, []).get(k)!).push(cnt);
        if ((last.get(k)?.n ?? 0) < cnt) last.set(k, { sum, n: cnt });
      }
      expect(last).toEqual(ref);
      for (const [k, arr] of seen)
        expect(
          arr.sort((x, y) => x - y),
          `key ${k}`,
        ).toEqual(Array.from({ length: ref.get(k)!.n }, (_, i) => i + 1));
    }
    const overview = (await cluster.rest('/overview')).body;
    expect(overview['slots-available']).toBe(8);
  });

  it('cancels an unbounded job: CANCELED, every task stopped, slots free', async () => {
    const jobId = await cluster.submitExample('endless', ['2000'], 2);
    await cluster.waitFor('records to flow', async () => {
      const j = await cluster.job(jobId);
      return (
        j.state === 'RUNNING' &&
        j.vertices.every((v: any) => v.status === 'RUNNING') &&
        j.vertices[0].metrics['write-records'] > 0
      );
    });
    expect((await cluster.rest('/overview')).body['slots-available']).toBe(6);
    const res = await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
    expect(res.status).toBe(202);
    const job = await cluster.waitForJob(jobId, ['CANCELED'], 15_000);
    for (const v of job.vertices) {
      expect(v.status).toBe('CANCELED');
      expect(v.tasks.CANCELED).toBe(v.parallelism);
    }
    await cluster.waitFor(
      'slots to be free',
      async () => (await cluster.rest('/overview')).body['slots-available'] === 8,
    );
    const listed = (await cluster.rest('/jobs/overview')).body.jobs.find((j: any) => j.jid === jobId);
    expect(listed.state).toBe('CANCELED');
  });

  it('exposes Prometheus metrics on the JobManager and on each TaskManager, and logs through REST', async () => {
    const jobId = await cluster.submitExample('endless', ['1000'], 2);
    await cluster.waitFor(
      'records to flow',
      async () => (await cluster.job(jobId)).vertices[0].metrics['write-records'] > 0,
    );
    try {
      const jm = (await cluster.rest('/metrics')).body as string;
      expect(jm).toMatch(/^weir_jobmanager_taskmanagers 2$/m);
      expect(jm).toMatch(/weir_jobmanager_jobs\{state="RUNNING"\} 1/);
      const tms = (await cluster.rest('/taskmanagers')).body.taskmanagers;
      // Slot threads push their metrics to the TaskManager's registry every few hundred ms,
      // so each source subtask's series shows up (with records) shortly after the first.
      const emitted = async () => {
        const texts = await Promise.all(
          tms.map(async (tm: any) => (await cluster.rest(`/taskmanagers/${tm.id}/metrics/prometheus`)).body as string),
        );
        return texts
          .flatMap((t) => [
            ...t.matchAll(/^weir_task_source_records\{[^}]*job_id="(\w+)",task_name="Source[^}]*\} (\d+)/gm),
          ])
          .filter((m) => m[1] === jobId);
      };
      await cluster.waitFor(
        'both source subtasks to report records',
        async () => {
          const found = await emitted();
          return found.length === 2 && found.every((m) => Number(m[2]) > 0);
        },
        10_000,
      );
      expect(await emitted()).toHaveLength(2);
      const tmLogs = await Promise.all(
        tms.map(async (tm: any) => (await cluster.rest(`/taskmanagers/${tm.id}/log`)).body as string),
      );
      for (const tmLog of tmLogs) expect(tmLog).toContain('"msg":"TaskManager registered"');
      // Slot threads log into the same file, each line naming its slot.
      expect(
        tmLogs
          .join('\n')
          .split('\n')
          .some((l) => /"slot":\d/.test(l) && l.includes('"msg":"deploying task"')),
      ).toBe(true);
      const jmLog = (await cluster.rest('/jobmanager/log')).body as string;
      expect(jmLog).toContain(jobId);
    } finally {
      // An assertion that fails above must not leave the job holding slots for the next test.
      await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
    }
    await cluster.waitForJob(jobId, ['CANCELED'], 15_000);
    await cluster.waitFor(
      'slots to be free',
      async () => (await cluster.rest('/overview')).body['slots-available'] === 8,
    );
  });

  it('fails a job whose operator throws, naming the operator and the cause', async () => {
    const jobId = await cluster.submit('test/jobs/failing.ts', [], 2);
    await cluster.waitForJob(jobId, ['FAILED']);
    const ex = (await cluster.rest(`/jobs/${jobId}/exceptions`)).body;
    expect(ex['root-exception']).toContain('bad record 77777');
    expect(ex['root-exception']).toContain('Doubler');
    expect(ex['root-exception']).toMatch(/at .*failing/); // the user's stack trace
    expect(ex.exceptionHistory.entries.length).toBeGreaterThan(0);
    expect(ex.exceptionHistory.entries[0].taskName).toContain('Doubler');
    await cluster.waitFor(
      'slots to be free',
      async () => (await cluster.rest('/overview')).body['slots-available'] === 8,
    );
    expect((await cluster.rest('/overview')).body['jobs-failed']).toBe(1);
  });
});
