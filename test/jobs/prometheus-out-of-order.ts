// Three samples of one series, the second older than the first, each sent in its own request
// (batches of one sample): Prometheus refuses the second with 400 "out of order sample". With
// DISCARD_AND_CONTINUE the job finishes and Prometheus holds the first and third; with FAIL the
// job fails (no restarts) naming the URL, the status and Prometheus' message.
//   args: <writeUrl> <FAIL|DISCARD_AND_CONTINUE> <metricName> <baseMs>
import {
  OnErrorBehavior,
  PrometheusSink,
  PrometheusTimeSeries,
  RestartStrategies,
  SinkWriterErrorHandlingBehaviorConfiguration,
  type StreamExecutionEnvironment,
} from 'weir';

/** [timestamp offset from base, value] in the order the job writes them. */
export const OUT_OF_ORDER_SAMPLES: [number, number][] = [
  [2000, 1],
  [1000, 2],
  [3000, 3],
];

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [url, behavior, metric, base] = args;
  if (!url || !behavior || !metric || !base)
    throw new Error('usage: prometheus-out-of-order <writeUrl> <behavior> <metricName> <baseMs>');
  env.setParallelism(1);
  env.setRestartStrategy(RestartStrategies.noRestart());
  const records = OUT_OF_ORDER_SAMPLES.map(([dt, v]) =>
    PrometheusTimeSeries.builder()
      .withMetricName(metric)
      .addLabel('case', behavior)
      .addSample(v, Number(base) + dt)
      .build(),
  );
  env
    .fromElements(...records)
    .sinkTo(
      PrometheusSink.builder()
        .setPrometheusRemoteWriteUrl(url)
        .setMaxBatchSizeInSamples(1)
        .setErrorHandlingBehaviorConfiguration(
          SinkWriterErrorHandlingBehaviorConfiguration.builder()
            .onPrometheusNonRetryableError(behavior as OnErrorBehavior)
            .build(),
        )
        .build(),
    )
    .name('Prometheus');
  void env.execute(`Out-of-order samples (${behavior})`);
}
