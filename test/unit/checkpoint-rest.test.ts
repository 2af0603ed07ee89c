import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyCheckpointStats } from '../../jobmanager/checkpoint/checkpoint-stats.js';
import { registerCheckpointRoutes, type CheckpointViews } from '../../jobmanager/rest/checkpoint-routes.js';

const WITH = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const WITHOUT = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const UNKNOWN = 'cccccccccccccccccccccccccccccccc';

const stats = {
  counts: { restored: 0, total: 2, in_progress: 0, completed: 1, failed: 1 },
  summary: {},
  latest: { completed: null, savepoint: null, failed: null, restored: null },
  history: [
    { id: 2, status: 'FAILED', failure_message: 'Checkpoint expired before completing.' },
    { id: 1, status: 'COMPLETED', external_path: '/tmp/chk-1' },
  ],
};

const jobs: Record<string, CheckpointViews> = {
  [WITH]: { stats: () => stats, config: () => ({ mode: 'exactly_once', interval: 1000 }) },
  [WITHOUT]: { stats: () => emptyCheckpointStats(), config: () => undefined },
};

let app: FastifyInstance;
beforeEach(() => {
  app = Fastify();
  registerCheckpointRoutes(app, (id) => jobs[id]);
});
afterEach(() => app.close());

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() };
}

describe('checkpoint REST routes', () => {
  it('serves statistics, configuration and one checkpoint', async () => {
    expect(await get(`/jobs/${WITH}/checkpoints`)).toEqual({ status: 200, body: stats });
    expect(await get(`/jobs/${WITH}/checkpoints/config`)).toEqual({
      status: 200,
      body: { mode: 'exactly_once', interval: 1000 },
    });
    expect(await get(`/jobs/${WITH}/checkpoints/details/1`)).toEqual({ status: 200, body: stats.history[1] });
  });

  it('answers like Flink for a job without checkpointing', async () => {
    const s = await get(`/jobs/${WITHOUT}/checkpoints`);
    expect(s.status).toBe(200);
    expect(s.body.counts).toEqual({ restored: 0, total: 0, in_progress: 0, completed: 0, failed: 0 });
    expect(s.body.history).toEqual([]);
    expect(s.body.latest).toEqual({ completed: null, savepoint: null, failed: null, restored: null });
    expect((s.body.summary as Record<string, unknown>).state_size).toEqual({
      min: 0,
      max: 0,
      avg: 0,
      p50: 0,
      p90: 0,
      p95: 0,
      p99: 0,
      p999: 0,
    });
    expect(await get(`/jobs/${WITHOUT}/checkpoints/config`)).toEqual({
      status: 404,
      body: { errors: ['Checkpointing is not enabled for this job'] },
    });
  });

  it('reports unknown jobs, bad ids and checkpoints outside the history as errors', async () => {
    expect(await get(`/jobs/${UNKNOWN}/checkpoints`)).toEqual({
      status: 404,
      body: { errors: [`job ${UNKNOWN} not found`] },
    });
    expect(await get(`/jobs/${UNKNOWN}/checkpoints/config`)).toEqual({
      status: 404,
      body: { errors: [`job ${UNKNOWN} not found`] },
    });
    expect(await get('/jobs/not-a-job/checkpoints')).toEqual({
      status: 400,
      body: { errors: ["invalid job id 'not-a-job' (expected 32 hex characters)"] },
    });
    expect(await get(`/jobs/${WITH}/checkpoints/details/9`)).toEqual({
      status: 404,
      body: { errors: ['Could not find checkpointing statistics for checkpoint 9.'] },
    });
    expect(await get(`/jobs/${WITH}/checkpoints/details/x1`)).toEqual({
      status: 400,
      body: { errors: ["invalid checkpoint id 'x1' (expected a non-negative integer)"] },
    });
  });
});
