// Running click counts per page, upserted into MySQL/MariaDB through the JdbcSink (at least once;
// the upsert makes replays after a failover harmless). Create the table first:
//   CREATE TABLE page_counts (page VARCHAR(64) PRIMARY KEY, clicks BIGINT NOT NULL, updated_at DATETIME(3) NOT NULL);
//   weir run jdbc-page-counts.weir -- jdbc:mysql://localhost:3306/shop user password 200
//   (JDBC URL, user, password, clicks per second, default 200)
import {
  DataGeneratorSource,
  JdbcConnectionOptions,
  JdbcExecutionOptions,
  JdbcSink,
  RateLimiterStrategy,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';

interface Click {
  page: string;
}

interface PageCount {
  page: string;
  clicks: number;
  at: number;
}

const PAGES = ['/', '/products', '/cart', '/checkout', '/help', '/about'];

function click(index: number): Click {
  const h = Math.imul(index + 1, 2654435761) >>> 0;
  return { page: PAGES[(h >>> 8) % PAGES.length]! };
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [url = 'jdbc:mysql://localhost:3306/shop', user = 'root', password = '', rate = '200'] = args;
  env.enableCheckpointing(5000);
  env
    .fromSource(
      new DataGeneratorSource(click, Infinity, RateLimiterStrategy.perSecond(Number(rate))),
      WatermarkStrategy.noWatermarks<Click>(),
      'Clicks',
    )
    .map((c: Click): PageCount => ({ page: c.page, clicks: 1, at: Date.now() }))
    .keyBy((c: PageCount) => c.page)
    .reduce((a: PageCount, b: PageCount) => ({ page: a.page, clicks: a.clicks + b.clicks, at: b.at }))
    .uid('clicks-per-page')
    .name('Clicks per page')
    .addSink(
      JdbcSink.sink<PageCount>(
        'INSERT INTO page_counts (page, clicks, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE clicks = VALUES(clicks), updated_at = VALUES(updated_at)',
        (ps, c) => {
          ps.setString(1, c.page);
          ps.setLong(2, c.clicks);
          ps.setTimestamp(3, c.at);
        },
        JdbcExecutionOptions.builder().withBatchSize(1000).withBatchIntervalMs(200).withMaxRetries(5).build(),
        new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
          .withUrl(url)
          .withUsername(user)
          .withPassword(password)
          .build(),
      ),
    )
    .uid('page-counts-sink')
    .name('Page counts');
}
