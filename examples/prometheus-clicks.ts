// Clicks per page per 10 s window, written to Prometheus as the series weir_page_clicks{page="..."}
// through the PrometheusSink (Prometheus started with --web.enable-remote-write-receiver).
//   weir run prometheus-clicks.weir -- http://localhost:9090/api/v1/write 200
//   (remote-write URL, clicks per second, default 200); then query weir_page_clicks in Prometheus.
import {
  DataGeneratorSource,
  PrometheusSink,
  PrometheusTimeSeries,
  PrometheusTimeSeriesLabelsAndMetricNameKeySelector,
  RateLimiterStrategy,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type ProcessWindowContext,
  type StreamExecutionEnvironment,
  type TimeWindow,
} from 'weir';

interface Click {
  page: string;
  ts: number;
}

const PAGES = ['/', '/products', '/cart', '/checkout', '/help', '/about'];

function click(index: number): Click {
  const h = Math.imul(index + 1, 2654435761) >>> 0;
  return { page: PAGES[(h >>> 8) % PAGES.length]!, ts: Date.now() };
}

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const url = args[0] ?? 'http://localhost:9090/api/v1/write';
  const rate = Number(args[1] ?? 200);
  env.enableCheckpointing(10_000);
  env
    .fromSource(
      new DataGeneratorSource(click, Infinity, RateLimiterStrategy.perSecond(rate)),
      WatermarkStrategy.forBoundedOutOfOrderness<Click>(1000).withTimestampAssigner((c: Click) => c.ts),
      'Clicks',
    )
    .keyBy((c: Click) => c.page)
    .window(TumblingEventTimeWindows.of(10_000))
    .process(
      (
        page: string,
        ctx: ProcessWindowContext<TimeWindow>,
        clicks: Iterable<Click>,
        out: Collector<PrometheusTimeSeries>,
      ) => {
        let n = 0;
        for (const _ of clicks) n++;
        out.collect(
          PrometheusTimeSeries.builder()
            .withMetricName('weir_page_clicks')
            .addLabel('page', page)
            .addSample(n, ctx.window.end - 1)
            .build(),
        );
      },
    )
    .uid('clicks-per-page')
    .name('Clicks per page')
    // Each series is written by one sink subtask, in order.
    .keyBy(new PrometheusTimeSeriesLabelsAndMetricNameKeySelector())
    .sinkTo(PrometheusSink.builder().setPrometheusRemoteWriteUrl(url).setMaxTimeInBufferMS(1000).build())
    .name('Prometheus');
  await env.execute('Clicks to Prometheus');
}
