// Busy, idle and backpressured time measured in the tasks, and Flink's vertex and metrics endpoints
// over them: a sleeping sink backpressures its source.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 1, slots: 2 });
});
afterAll(async () => {
  await cluster?.stop();
});

const ok = async (path: string, init?: RequestInit) => {
  const res = await cluster.rest(path, init);
  expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
};

describe('vertex metrics', () => {
  it('reports the source of a slow sink as backpressured and the sink as busy, in Flink shapes', async () => {
    const jobId = await cluster.submit('test/jobs/slow-sink.ts', ['5'], 2);
    const job = await cluster.waitFor('the job to run', async () => {
      const j = await cluster.job(jobId);
      return j.vertices.every((v: any) => v.status === 'RUNNING') && j;
    });
    const [source, sink] = job.vertices.map((v: any) => v.id as string);
    const base = `/jobs/${jobId}/vertices`;

    // Backpressure: the source waits for credit most of the time, the sink is busy sleeping. A
    // subtask's ratios are all 0 until its first second has been measured; the level is the
    // highest subtask's, so it can read high before the other subtask has a measurement.
    const bp = await cluster.waitFor(
      'the source to be backpressured, every subtask measured',
      async () => {
        const b = await ok(`${base}/${source}/backpressure`);
        const measured = b.subtasks.every((s: any) => s.ratio + s.idleRatio + s.busyRatio > 0);
        return b['backpressure-level'] === 'high' && measured && b;
      },
      15_000,
    );
    expect(bp.status).toBe('ok');
    expect(bp['end-timestamp']).toBeGreaterThan(0);
    expect(bp.subtasks).toHaveLength(2);
    for (const s of bp.subtasks) {
      expect(Object.keys(s).sort()).toEqual([
        'attempt-number',
        'backpressure-level',
        'busyRatio',
        'idleRatio',
        'ratio',
        'subtask',
      ]);
      expect(s.ratio + s.idleRatio + s.busyRatio).toBeCloseTo(1, 2);
    }
    await cluster.waitFor(
      'the sink to be busy',
      async () => {
        const agg = await ok(`${base}/${sink}/subtasks/metrics?get=busyTimeMsPerSecond,backPressuredTimeMsPerSecond`);
        const busy = agg.find((m: any) => m.id === 'busyTimeMsPerSecond');
        return busy && busy.min > 500 && agg.find((m: any) => m.id === 'backPressuredTimeMsPerSecond').max <= 100;
      },
      15_000,
    );
    expect((await ok(`${base}/${sink}/backpressure`))['backpressure-level']).toBe('ok');

    // The job's details carry the rates per vertex and per subtask.
    const details = await cluster.job(jobId);
    const m = details.vertices[0].metrics;
    for (const k of [
      'busyTimeMsPerSecond',
      'idleTimeMsPerSecond',
      'backPressuredTimeMsPerSecond',
      'accumulated-idle-time',
      'accumulated-busy-time',
    ])
      expect(typeof m[k]).toBe('number');
    expect(details.vertices[0].subtasks[0].metrics.backPressuredTimeMsPerSecond).toBeGreaterThanOrEqual(0);

    // JobVertexDetailsInfo and one subtask.
    const vd = await ok(`${base}/${sink}`);
    expect(vd).toMatchObject({
      id: sink,
      name: job.vertices[1].name,
      parallelism: 2,
      maxParallelism: expect.any(Number),
      now: expect.any(Number),
    });
    expect(vd.subtasks).toHaveLength(2);
    const subKeys = [
      'attempt',
      'duration',
      'end-time',
      'endpoint',
      'metrics',
      'start-time',
      'status',
      'status-duration',
      'subtask',
      'taskmanager-id',
    ];
    expect(Object.keys(vd.subtasks[0]).sort()).toEqual(subKeys);
    expect(vd.subtasks[0].metrics['read-records-complete']).toBe(true);
    expect(vd.aggregated.metrics['read-records']).toMatchObject({
      min: expect.any(Number),
      max: expect.any(Number),
      sum: expect.any(Number),
    });
    const st = await ok(`${base}/${sink}/subtasks/1`);
    expect(st).toMatchObject({ subtask: 1, status: 'RUNNING' });
    expect(st['status-duration'].RUNNING).toBeGreaterThan(0);

    const times = await ok(`${base}/${source}/subtasktimes`);
    expect(times).toMatchObject({ id: source, name: expect.any(String), now: expect.any(Number) });
    expect(times.subtasks[0].timestamps.RUNNING).toBeGreaterThan(0);
    const tms = await ok(`${base}/${source}/taskmanagers`);
    expect(tms.taskmanagers).toHaveLength(1);
    expect(tms.taskmanagers[0]).toMatchObject({
      status: 'RUNNING',
      'status-counts': { RUNNING: 2 },
      'taskmanager-id': expect.any(String),
    });
    const wms = await ok(`${base}/${sink}/watermarks`);
    expect(wms.map((w: any) => w.id)).toEqual(['0.currentInputWatermark', '1.currentInputWatermark']);
    expect(typeof wms[0].value).toBe('string');

    // JSON metrics: requested ids only, values as strings; without `get`, the ids there are.
    // A second's ratio moves with the machine's load: read until it shows the backpressure again.
    const vm = await cluster.waitFor(
      'subtask 0 of the source backpressured in the JSON metrics',
      async () => {
        const v = await ok(`${base}/${source}/metrics?get=0.backPressuredTimeMsPerSecond,1.numRecordsOut,no.such`);
        return Number(v[0]?.value) > 100 && v;
      },
      15_000,
    );
    expect(vm.map((x: any) => x.id)).toEqual(['0.backPressuredTimeMsPerSecond', '1.numRecordsOut']);
    expect((await ok(`${base}/${source}/metrics`)).map((x: any) => x.id)).toContain('1.idleTimeMsPerSecond');
    const sm = await ok(`${base}/${source}/subtasks/0/metrics?get=numRecordsOut`);
    expect(sm).toEqual([{ id: 'numRecordsOut', value: expect.stringMatching(/^\d+$/) }]);
    const jm = await ok(`/jobs/${jobId}/metrics?get=numRestarts,uptime`);
    expect(jm).toEqual([
      { id: 'numRestarts', value: '0' },
      { id: 'uptime', value: expect.stringMatching(/^\d+$/) },
    ]);
    const tm = job.vertices[0].subtasks[0]['taskmanager-id'];
    expect(await ok(`/taskmanagers/${tm}/metrics?get=Status.JVM.Memory.Heap.Used`)).toEqual([
      { id: 'Status.JVM.Memory.Heap.Used', value: expect.stringMatching(/^\d+$/) },
    ]);
    expect((await ok(`/taskmanagers/${tm}/metrics`)).map((x: any) => x.id)).toContain('Status.JVM.Memory.Heap.Used');

    // Prometheus stays: its own path, or the Flink path for a client asking for text.
    const prom = (await ok(`/taskmanagers/${tm}/metrics/prometheus`)) as string;
    expect(prom).toMatch(
      new RegExp(`^weir_task_back_pressured_time_ms_per_second\\{[^}]*job_id="${jobId}"[^}]*\\} \\d+`, 'm'),
    );
    expect(prom).toMatch(/^weir_task_busy_time_ms_per_second\{/m);
    expect(prom).toMatch(/^weir_task_idle_time_ms_per_second\{/m);
    expect(
      (await ok(`/taskmanagers/${tm}/metrics`, { headers: { accept: 'text/plain;version=0.0.4' } })) as string,
    ).toMatch(/^weir_task_busy_time_ms_per_second\{/m);

    // Unknown vertex or subtask: 404 in Flink's error shape.
    for (const path of [
      `${base}/abcdef0123456789abcdef0123456789`,
      `${base}/${sink}/subtasks/7`,
      `${base}/abcdef0123456789abcdef0123456789/backpressure`,
      `${base}/${sink}/subtasks/x/metrics`,
    ]) {
      const res = await cluster.rest(path);
      expect(res.status, path).toBe(404);
      expect(res.body.errors).toEqual([expect.any(String)]);
    }

    await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
    await cluster.waitForJob(jobId, ['CANCELED'], 15_000);
  });
});
