// The PrometheusSink against a real Prometheus (2.42, remote-write receiver on) and a real Weir
// cluster: a parallel, checkpointing job turns randomized sensor readings (fixed seed) into two
// series per sensor, keyed by the series key selector, written by two sink subtasks. Once it has
// FINISHED, Prometheus' raw samples of every series equal a plain computation of what the job
// wrote (the job fails on any refused sample, so this also proves per-series order). A second case
// has Prometheus refuse an out-of-order sample: DISCARD_AND_CONTINUE finishes without it, FAIL
// fails the job naming the URL, HTTP 400 and Prometheus' message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { prometheusSkipReason, startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';
import { OUT_OF_ORDER_SAMPLES } from '../jobs/prometheus-out-of-order.js';
import {
  READING_METRIC,
  referenceSamples,
  seriesId,
  SUM_METRIC,
  type SensorJobSpec,
} from '../jobs/prometheus-sensors.js';

const skipReason = prometheusSkipReason();
const test = skipReason ? it.skip : it;
const suffix = skipReason ? ` (skipped: ${skipReason})` : '';

const P = 2;
const COUNT = 16_000;
const SENSORS = 9;
const STEP_MS = 50;
const WINDOW_MS = 5000;
const RATE = 4000;
const CHECKPOINT_MS = 400;
const MAX_BATCH = 100;

let prometheus: PrometheusServer | undefined;
let cluster: TestCluster | undefined;

describe('PrometheusSink with a real Prometheus', () => {
  beforeAll(async () => {
    if (skipReason) return;
    // Both at once; each stops itself if it fails to start.
    const [p, c] = await Promise.allSettled([startPrometheus(), startCluster({ taskManagers: 2, slots: 2 })]);
    if (p.status === 'fulfilled') prometheus = p.value;
    if (c.status === 'fulfilled') cluster = c.value;
    if (p.status === 'rejected') throw p.reason;
    if (c.status === 'rejected') throw c.reason;
  });

  afterAll(async () => {
    await Promise.allSettled([cluster?.stop(), prometheus?.stop()]);
    cluster = undefined;
    prometheus = undefined;
  });

  test(`a parallel job's samples, every series and value, equal a plain computation${suffix}`, async () => {
    const c = cluster!;
    const prom = prometheus!;
    // Samples from 25 to about 12 minutes ago: inside Prometheus' head block window, increasing per series.
    const baseMs = Math.floor(Date.now() / 1000) * 1000 - 25 * 60_000;
    const spec: SensorJobSpec = { count: COUNT, sensors: SENSORS, baseMs, stepMs: STEP_MS, windowMs: WINDOW_MS };
    const args = [prom.writeUrl, COUNT, SENSORS, baseMs, STEP_MS, WINDOW_MS, RATE, CHECKPOINT_MS, MAX_BATCH].map(
      String,
    );
    const jobId = await c.submit('test/jobs/prometheus-sensors.ts', args, P);
    const done = await c.waitForJob(jobId, ['FINISHED'], 45_000);
    expect(done.state).toBe('FINISHED');

    // The sink ran as two subtasks, and the job checkpointed meanwhile (each barrier flushed the sink).
    const sinkVertex = done.vertices.find((v: any) => v.name.includes('Prometheus'));
    expect(sinkVertex.parallelism).toBe(P);
    const cp = (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
    expect(cp.counts.completed).toBeGreaterThanOrEqual(3);

    const reference = referenceSamples(spec);
    const rangeSeconds = Math.ceil((Date.now() - baseMs) / 1000) + 60;
    const actual = new Map<string, [number, number][]>();
    for (const metric of [READING_METRIC, SUM_METRIC]) {
      for (const s of await prom.rawSamples(metric, rangeSeconds)) actual.set(seriesId(s.labels), s.samples);
    }
    expect([...actual.keys()].sort()).toEqual([...reference.keys()].sort());
    expect(actual.size).toBe(2 * SENSORS);
    for (const [id, samples] of reference) expect(actual.get(id), id).toEqual(samples);
    const total = [...reference.values()].reduce((a, s) => a + s.length, 0);
    expect(total).toBeGreaterThan(COUNT);

    // The series API agrees: exactly these series, with their labels.
    const series = (await prom.api('series', {
      'match[]': '{__name__=~"weir_sensor_.*"}',
      start: String(baseMs / 1000 - 60),
      end: String(Date.now() / 1000),
    })) as Record<string, string>[];
    expect(series.map(seriesId).sort()).toEqual([...reference.keys()].sort());
  });

  test(`an out-of-order sample: DISCARD_AND_CONTINUE finishes without it, FAIL fails the job with Prometheus' answer${suffix}`, async () => {
    const c = cluster!;
    const prom = prometheus!;
    const metric = 'weir_out_of_order_test';
    const baseMs = Date.now() - 10 * 60_000;
    const [discardJob, failJob] = await Promise.all([
      c.submit(
        'test/jobs/prometheus-out-of-order.ts',
        [prom.writeUrl, 'DISCARD_AND_CONTINUE', metric, String(baseMs)],
        1,
      ),
      c.submit('test/jobs/prometheus-out-of-order.ts', [prom.writeUrl, 'FAIL', metric, String(baseMs)], 1),
    ]);
    const discarded = await c.waitForJob(discardJob, ['FINISHED'], 30_000);
    expect(discarded.state).toBe('FINISHED');
    const failed = await c.waitForJob(failJob, ['FAILED'], 30_000);
    expect(failed.state).toBe('FAILED');
    const ex = (await c.rest(`/jobs/${failJob}/exceptions`)).body;
    const root = String(ex['root-exception']);
    expect(root).toContain(prom.writeUrl);
    expect(root).toContain('HTTP 400');
    expect(root).toMatch(/out of order sample/);
    expect(root).toContain('onPrometheusNonRetryableError = FAIL');

    const rangeSeconds = Math.ceil((Date.now() - baseMs) / 1000) + 60;
    const byCase = new Map<string, [number, number][]>();
    for (const s of await prom.rawSamples(metric, rangeSeconds)) byCase.set(s.labels.case!, s.samples);
    const [first, older, third] = OUT_OF_ORDER_SAMPLES.map(([dt, v]) => [baseMs + dt, v] as [number, number]);
    // The refused sample is gone; the one after it was written.
    expect(byCase.get('DISCARD_AND_CONTINUE')).toEqual([first, third]);
    expect(older).toBeDefined();
    // FAIL stopped at the refused request: only the first sample made it.
    expect(byCase.get('FAIL')).toEqual([first]);
  });
});
