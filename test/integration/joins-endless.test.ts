// An endless interval join across processes: two unbounded, rate-limited sources at parallelism 2
// on two TaskManagers, run until the join has read a fixed share of input (about six seconds at
// full rate; a slow machine takes longer to the same point). The join drops buffered rows once the
// watermark makes them unjoinable, so the rows it holds (its vertex's state-entries metric) stay
// a small, flat share of the records it has read, which keep growing. The sink checks every pair.
// Resident memory is reported along, but seconds of garbage-collected heap say too little to
// assert on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rssOf, startCluster, type TestCluster } from '../helpers/cluster.js';
import { sleep } from '../helpers/eventually.js';
import type { JInputParams } from '../jobs/j-input.js';

const SAMPLE_MS = 400;
const RATE = 4000;
/**
 * Records the join reads (both sides) before the samples are judged; measured in input, not time.
 * A loaded machine's watermarks lag more, so the join holds more rows (7 000-7 600 in one such
 * run, a flat 9 700-10 400 in another): the share is judged once enough input went by for a flat
 * buffer to be a small part of it.
 */
const READ_TARGET = RATE * 16;
/** Enough samples for thirds to compare, however fast the input came. */
const MIN_SAMPLES = 9;
const RUN_DEADLINE_MS = 50_000;
const BOUND_MS = 100;
const LOWER = -50;
const UPPER = 50;

interface Sample {
  at: number;
  state: string;
  buffered: number;
  readRecords: number;
  results: number;
  rss: number[];
}

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 2, slots: 2 });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('an endless interval join on two TaskManagers', () => {
  it('keeps its buffered rows bounded while the input grows', async () => {
    const input: JInputParams = {
      seed: 61,
      keys: 20,
      disorderMs: 40,
      left: { count: 0, stepMs: 1 },
      right: { count: 0, stepMs: 1 },
    };
    const jobId = await cluster.submit(
      'test/jobs/j-endless.ts',
      [JSON.stringify(input), String(BOUND_MS), String(LOWER), String(UPPER), String(RATE)],
      2,
    );
    try {
      await cluster.waitForJob(jobId, ['RUNNING'], 60_000);
      const joinVertex = (job: any) =>
        job.vertices.find((v: any) => v.operators?.some((o: any) => o.kind === 'intervalJoin'));
      // Every subtask running, on both TaskManagers.
      await cluster.waitFor('all subtasks running', async () => {
        const job = await cluster.job(jobId);
        return job.vertices.every((v: any) => v.subtasks.every((s: any) => s.status === 'RUNNING')) || undefined;
      });
      const started = Date.now();
      const samples: Sample[] = [];
      const reached = () => samples.length >= MIN_SAMPLES && samples.at(-1)!.readRecords >= READ_TARGET;
      while (!reached() && Date.now() - started < RUN_DEADLINE_MS) {
        await sleep(SAMPLE_MS);
        const job = await cluster.job(jobId);
        const v = joinVertex(job);
        expect(v, 'the interval join vertex').toBeDefined();
        samples.push({
          at: Date.now() - started,
          state: job.state,
          buffered: v.metrics['state-entries'],
          readRecords: v.metrics['read-records'],
          results: v.metrics['sink-records'],
          rss: cluster.taskManagers.map((t) => rssOf(t.proc.pid!)),
        });
        if (job.state !== 'RUNNING') break;
      }
      const summary = samples
        .map(
          (s) =>
            `${s.at}ms ${s.state} buffered=${s.buffered} read=${s.readRecords} results=${s.results} rss=${s.rss.map((b) => Math.round(b / 2 ** 20)).join('/')}MiB`,
        )
        .join('\n');
      for (const s of samples) expect(s.state, summary).toBe('RUNNING');
      expect(reached(), `the join did not read ${READ_TARGET} records within ${RUN_DEADLINE_MS} ms:\n${summary}`).toBe(
        true,
      );
      const last = samples.at(-1)!;
      const third = Math.floor(samples.length / 3);
      const early = samples.slice(third, 2 * third);
      const late = samples.slice(2 * third);
      // The input keeps flowing and joining...
      expect(last.results, summary).toBeGreaterThan(early.at(-1)!.results);
      // ...while the buffered rows are reported, stay a small share of what was read, and do not grow.
      const maxLate = Math.max(...late.map((s) => s.buffered));
      const maxEarly = Math.max(...early.map((s) => s.buffered));
      expect(maxLate, `the interval join reports no buffered rows as state-entries:\n${summary}`).toBeGreaterThan(0);
      expect(maxLate, summary).toBeLessThan(last.readRecords / 5);
      expect(maxLate, summary).toBeLessThan(Math.max(2 * maxEarly, 2000));
    } finally {
      await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
      await cluster.waitForJob(jobId, ['CANCELED'], 30_000).catch(() => undefined);
    }
  }, 90_000);
});
