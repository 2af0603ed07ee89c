// Randomized sensor readings (fixed seed) written to Prometheus through the PrometheusSink. Record
// i is a reading of sensor sensorOf(i) at base + i * step; 5 s event-time windows per sensor turn
// them into two series per sensor: weir_sensor_reading (every reading of the window as one record
// with many samples, in timestamp order) and weir_sensor_window_sum (one sample per window, at its
// last millisecond). Windows fire per sensor in time order, so each series reaches the sink in
// order whatever the interleaving of the parallel sources; keyBy with the series key selector
// keeps it in order up to Prometheus. The test compares Prometheus' raw samples with
// referenceSamples().
//   args: <writeUrl> <count> <sensors> <baseMs> <stepMs> <windowMs> <ratePerSecond> <checkpointMs> <maxBatchSizeInSamples>
import {
  DataGeneratorSource,
  PrometheusSink,
  PrometheusSinkConfiguration,
  PrometheusTimeSeries,
  PrometheusTimeSeriesLabelsAndMetricNameKeySelector,
  RateLimiterStrategy,
  RestartStrategies,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type ProcessWindowContext,
  type StreamExecutionEnvironment,
  type TimeWindow,
} from 'weir';

export const READING_METRIC = 'weir_sensor_reading';
export const SUM_METRIC = 'weir_sensor_window_sum';

export interface Reading {
  sensor: number;
  ts: number;
  value: number;
}

export interface SensorJobSpec {
  count: number;
  sensors: number;
  baseMs: number;
  stepMs: number;
  windowMs: number;
}

/** A seeded 32-bit integer hash (murmur3's finalizer over i and a seed). */
function hash(i: number, seed: number): number {
  let x = Math.imul(i ^ seed, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Reading i: a pseudo-random sensor and a value in quarters (sums of quarters are exact in binary floating point). */
export function readingOf(i: number, spec: SensorJobSpec): Reading {
  return {
    sensor: hash(i, 0x5eed) % spec.sensors,
    ts: spec.baseMs + i * spec.stepMs,
    value: ((hash(i, 0xbeef) % 20001) - 10000) / 4,
  };
}

/** The labels of a sensor's series. */
export function sensorLabels(sensor: number): Record<string, string> {
  return { sensor: `s${sensor}`, site: `site-${sensor % 3}` };
}

function series(metric: string, sensor: number): ReturnType<typeof PrometheusTimeSeries.builder> {
  const b = PrometheusTimeSeries.builder().withMetricName(metric);
  for (const [k, v] of Object.entries(sensorLabels(sensor))) b.addLabel(k, v);
  return b;
}

/** What the job writes, computed with a plain loop: series identity (metric + labels) to [timestamp, value][] in time order. */
export function referenceSamples(spec: SensorJobSpec): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  const add = (metric: string, sensor: number, ts: number, value: number) => {
    const id = seriesId({ __name__: metric, ...sensorLabels(sensor) });
    if (!out.has(id)) out.set(id, []);
    out.get(id)!.push([ts, value]);
  };
  const sums = new Map<string, number>();
  for (let i = 0; i < spec.count; i++) {
    const r = readingOf(i, spec);
    add(READING_METRIC, r.sensor, r.ts, r.value);
    const end = Math.floor(r.ts / spec.windowMs) * spec.windowMs + spec.windowMs;
    const k = `${r.sensor}/${end}`;
    sums.set(k, (sums.get(k) ?? 0) + r.value);
  }
  for (const [k, sum] of sums) {
    const [sensor, end] = k.split('/').map(Number) as [number, number];
    add(SUM_METRIC, sensor, end - 1, sum);
  }
  for (const samples of out.values()) samples.sort((a, b) => a[0] - b[0]);
  return out;
}

/** A canonical identity of a label set (as Prometheus returns it). */
export function seriesId(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [url, count, sensors, baseMs, stepMs, windowMs, rate, checkpointMs, maxBatch] = args;
  if (!url || !count || !sensors || !baseMs || !stepMs || !windowMs || !rate || !checkpointMs || !maxBatch) {
    throw new Error(
      'usage: prometheus-sensors <writeUrl> <count> <sensors> <baseMs> <stepMs> <windowMs> <ratePerSecond> <checkpointMs> <maxBatch>',
    );
  }
  const spec: SensorJobSpec = {
    count: Number(count),
    sensors: Number(sensors),
    baseMs: Number(baseMs),
    stepMs: Number(stepMs),
    windowMs: Number(windowMs),
  };
  env.enableCheckpointing(Number(checkpointMs));
  env.setRestartStrategy(RestartStrategies.noRestart());

  env
    .fromSource(
      new DataGeneratorSource(
        (i: number) => readingOf(i, spec),
        spec.count,
        RateLimiterStrategy.perSecond(Number(rate)),
      ),
      WatermarkStrategy.forMonotonousTimestamps<Reading>().withTimestampAssigner((r: Reading) => r.ts),
      'Readings',
    )
    .keyBy((r: Reading) => r.sensor)
    .window(TumblingEventTimeWindows.of(spec.windowMs))
    .process(
      (
        sensor: number,
        ctx: ProcessWindowContext<TimeWindow>,
        readings: Iterable<Reading>,
        out: Collector<PrometheusTimeSeries>,
      ) => {
        const sorted = [...readings].sort((a, b) => a.ts - b.ts);
        const all = series(READING_METRIC, sensor);
        let sum = 0;
        for (const r of sorted) {
          all.addSample(r.value, r.ts);
          sum += r.value;
        }
        out.collect(all.build());
        out.collect(
          series(SUM_METRIC, sensor)
            .addSample(sum, ctx.window.end - 1)
            .build(),
        );
      },
    )
    .uid('windows')
    .name('Sensor windows')
    .keyBy(new PrometheusTimeSeriesLabelsAndMetricNameKeySelector())
    .sinkTo(
      PrometheusSink.builder()
        .setPrometheusRemoteWriteUrl(url)
        .setMaxBatchSizeInSamples(Number(maxBatch))
        .setMaxTimeInBufferMS(200)
        .setRetryConfiguration(
          PrometheusSinkConfiguration.RetryConfiguration.builder()
            .setInitialRetryDelayMS(20)
            .setMaxRetryDelayMS(500)
            .setMaxRetryCount(10)
            .build(),
        )
        .setErrorHandlingBehaviorConfiguration(
          PrometheusSinkConfiguration.SinkWriterErrorHandlingBehaviorConfiguration.builder()
            .onPrometheusNonRetryableError(PrometheusSinkConfiguration.OnErrorBehavior.FAIL)
            .build(),
        )
        .build(),
    )
    .name('Prometheus')
    .uid('prometheus-sink');
  void env.execute('Sensor readings to Prometheus');
}
