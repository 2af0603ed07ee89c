// The PrometheusSink writer's batching and ordering, driven with a fake send() the test completes
// by hand: batches are whole records of at most maxBatchSizeInSamples samples, one request is in
// flight at a time, a full batch makes the caller wait, the buffer timer sends a partial batch,
// flush() sends everything, and every series' samples leave in the order they came, within and
// across requests.
import { describe, expect, it } from 'vitest';
import { PrometheusTimeSeries } from 'weir';
import { PrometheusSinkWriter, type PrometheusBatch } from '../../taskmanager/connectors/prometheus-sink-writer.js';
import { ManualTime } from '../helpers/manual-time.js';

interface Sent {
  batch: PrometheusBatch;
  resolve(): void;
  reject(e: unknown): void;
}

function harness(opts: { maxBatch: number; maxRecord?: number; maxTime?: number }) {
  const time = new ManualTime();
  const sent: Sent[] = [];
  const asyncFailures: unknown[] = [];
  const writer = new PrometheusSinkWriter({
    maxBatchSizeInSamples: opts.maxBatch,
    maxRecordSizeInSamples: opts.maxRecord ?? opts.maxBatch,
    maxTimeInBufferMS: opts.maxTime ?? 1000,
    send: (batch) => new Promise<void>((resolve, reject) => sent.push({ batch, resolve, reject })),
    schedule: (delay, fn) => time.schedule(time.now() + delay, fn),
    onAsyncFailure: (e) => asyncFailures.push(e),
  });
  return { time, sent, writer, asyncFailures };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function series(metric: string, key: string, samples: [number, number][]): PrometheusTimeSeries {
  let b = PrometheusTimeSeries.builder().withMetricName(metric).addLabel('key', key);
  for (const [v, t] of samples) b = b.addSample(v, t);
  return b.build();
}

/** Samples per series key over all batches, in send order. */
function samplesBySeries(batches: PrometheusBatch[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const b of batches) {
    for (const ts of b.timeseries) {
      const id = ts.labels.map((l) => `${l.name}=${l.value}`).join(',');
      if (!out.has(id)) out.set(id, []);
      out.get(id)!.push(...ts.samples.map((s) => s.timestamp));
    }
  }
  return out;
}

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('PrometheusSinkWriter', () => {
  it('cuts whole records into batches of at most maxBatchSizeInSamples, one request in flight, the caller waiting on a full batch', async () => {
    const { sent, writer } = harness({ maxBatch: 5 });
    expect(
      writer.write(
        series('m', 'a', [
          [1, 1],
          [2, 2],
        ]),
      ),
    ).toBeUndefined();
    expect(
      writer.write(
        series('m', 'b', [
          [3, 1],
          [4, 2],
        ]),
      ),
    ).toBeUndefined();
    expect(sent).toHaveLength(0);
    // 2 + 2 + 3 = 7 >= 5: the first two records (4 samples) go; the third would overflow the batch.
    expect(
      writer.write(
        series('m', 'a', [
          [5, 3],
          [6, 4],
          [7, 5],
        ]),
      ),
    ).toBeUndefined();
    await tick();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.batch.samples).toBe(4);
    expect(writer.bufferedSamples).toBe(3);
    // The next batch fills while the first is in flight: the caller must wait for it.
    const wait = writer.write(
      series('m', 'b', [
        [8, 3],
        [9, 4],
      ]),
    );
    expect(wait).toBeInstanceOf(Promise);
    let waited = false;
    void wait!.then(() => (waited = true));
    await tick();
    expect(waited).toBe(false);
    expect(sent).toHaveLength(1);
    sent[0]!.resolve();
    await tick();
    expect(waited).toBe(true);
    // The full batch went out as soon as the first request completed.
    expect(sent).toHaveLength(2);
    expect(sent[1]!.batch.samples).toBe(5);
    expect(sent[1]!.batch.timeseries.map((t) => t.samples.map((s) => s.value))).toEqual([
      [5, 6, 7],
      [8, 9],
    ]);
    sent[1]!.resolve();
    await writer.flush();
    expect(sent).toHaveLength(2);
  });

  it('sends a partial batch when the oldest record waited maxTimeInBufferMS, and flush() sends everything', async () => {
    const { time, sent, writer } = harness({ maxBatch: 100, maxTime: 1000 });
    void writer.write(series('m', 'a', [[1, 1]]));
    time.advance(500);
    void writer.write(series('m', 'a', [[2, 2]]));
    time.advance(999);
    await tick();
    expect(sent).toHaveLength(0);
    time.advance(1000);
    await tick();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.batch.samples).toBe(2);
    // The timer fires while a request is in flight: the next batch goes when it completes.
    void writer.write(series('m', 'a', [[3, 3]]));
    time.advance(2500);
    await tick();
    expect(sent).toHaveLength(1);
    sent[0]!.resolve();
    await tick();
    await tick();
    expect(sent).toHaveLength(2);
    void writer.write(series('m', 'a', [[4, 4]]));
    const flushed = writer.flush();
    let done = false;
    void flushed.then(() => (done = true));
    await tick();
    expect(done).toBe(false);
    sent[1]!.resolve();
    await tick();
    await tick();
    expect(sent).toHaveLength(3);
    expect(done).toBe(false);
    sent[2]!.resolve();
    await flushed;
    expect(writer.bufferedSamples).toBe(0);
    expect(writer.requestInFlight).toBe(false);
  });

  it('keeps every series in order within and across requests (randomized, fixed seed)', async () => {
    const random = rng(42);
    const { sent, writer } = harness({ maxBatch: 17, maxRecord: 6 });
    const expected = new Map<string, number[]>();
    const lastTs = new Map<string, number>();
    // Complete requests at random moments, as a server would.
    let completed = 0;
    let waits = 0;
    const completeSome = async () => {
      while (completed < sent.length && random() < 0.5) sent[completed++]!.resolve();
      await tick();
    };
    for (let i = 0; i < 2000; i++) {
      const metric = random() < 0.5 ? 'm' : 'n';
      const key = `k${Math.floor(random() * 7)}`;
      const id = `__name__=${metric},key=${key}`;
      const n = 1 + Math.floor(random() * 6);
      const samples: [number, number][] = [];
      let t = lastTs.get(id) ?? 0;
      for (let j = 0; j < n; j++) samples.push([i * 10 + j, ++t]);
      lastTs.set(id, t);
      if (!expected.has(id)) expected.set(id, []);
      expected.get(id)!.push(...samples.map(([, ts]) => ts));
      const wait = writer.write(series(metric, key, samples));
      if (wait) {
        waits++;
        // Only one request is ever in flight: the caller waits until it completes.
        await tick();
        expect(sent.length - completed).toBe(1);
        while (completed < sent.length) sent[completed++]!.resolve();
        await wait;
      }
      if (random() < 0.1) await completeSome();
      expect(sent.length - completed).toBeLessThanOrEqual(1);
    }
    const flushed = writer.flush();
    while (writer.requestInFlight || writer.bufferedSamples > 0) {
      while (completed < sent.length) sent[completed++]!.resolve();
      await tick();
    }
    await flushed;
    expect(waits).toBeGreaterThan(10);
    for (const s of sent) expect(s.batch.samples).toBeLessThanOrEqual(17);
    expect(samplesBySeries(sent.map((s) => s.batch))).toEqual(expected);
    const total = [...expected.values()].reduce((a, v) => a + v.length, 0);
    expect(sent.reduce((a, s) => a + s.batch.samples, 0)).toBe(total);
  });

  it('refuses a record larger than maxRecordSizeInSamples and records that are no time series', () => {
    const { writer } = harness({ maxBatch: 10, maxRecord: 2 });
    expect(() =>
      writer.write(
        series('m', 'a', [
          [1, 1],
          [2, 2],
          [3, 3],
        ]),
      ),
    ).toThrow(/has 3 samples, more than maxRecordSizeInSamples \(2\)/);
    expect(() => writer.write({ hello: 'world' })).toThrow(/metric name/);
    expect(() => writer.write('x')).toThrow(/must be a PrometheusTimeSeries/);
  });

  it('a request that failed for good fails the next write and flush, and is reported when nobody waits', async () => {
    const { sent, writer, asyncFailures } = harness({ maxBatch: 1 });
    void writer.write(series('m', 'a', [[1, 1]]));
    await tick();
    sent[0]!.reject(new Error('HTTP 503 forever'));
    await tick();
    expect(asyncFailures.map(String)).toEqual(['Error: HTTP 503 forever']);
    expect(() => writer.write(series('m', 'a', [[2, 2]]))).toThrow(/HTTP 503 forever/);
    await expect(writer.flush()).rejects.toThrow(/HTTP 503 forever/);
  });
});
