// Keyed running counts written to MariaDB through the JdbcSink, under checkpoints.
//   upsert: JdbcSink.sink with INSERT ... ON DUPLICATE KEY UPDATE (at least once, idempotent);
//           the statement builder returns the parameters as an array.
//   xa:     JdbcSink.exactlyOnceSink with a plain INSERT of every update (exactly once via XA);
//           the statement builder calls the setters.
//   args: <upsert|xa> <jdbcUrl> <user> <password> <table> <count> <ratePerSecond> <checkpointIntervalMs> <restart: fixed|none> [maxRetries]
import {
  DataGeneratorSource,
  JdbcConnectionOptions,
  JdbcExactlyOnceOptions,
  JdbcExecutionOptions,
  JdbcSink,
  KeyedProcessFunction,
  RateLimiterStrategy,
  RestartStrategies,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type StreamExecutionEnvironment,
  type ValueState,
} from 'weir';
import { jdbcEventOf, type JdbcCount, type JdbcEvent } from './jdbc-input.js';

class RunningCount extends KeyedProcessFunction<number, JdbcEvent, JdbcCount> {
  private state!: ValueState<JdbcCount>;

  override open(): void {
    this.state = this.getRuntimeContext().getState(new ValueStateDescriptor<JdbcCount>('running-count'));
  }

  processElement(e: JdbcEvent, _ctx: KeyedProcessContext<number>, out: Collector<JdbcCount>): void {
    const prev = this.state.value() ?? { key: e.key, count: 0, total: 0, maxTs: Number.MIN_SAFE_INTEGER };
    const next = { key: e.key, count: prev.count + 1, total: prev.total + e.value, maxTs: Math.max(prev.maxTs, e.ts) };
    this.state.update(next);
    out.collect(next);
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [mode, url, user, password, table, countArg, rateArg, intervalArg, restart, retriesArg] = args;
  env.enableCheckpointing(Number(intervalArg));
  env.setRestartStrategy(
    restart === 'none' ? RestartStrategies.noRestart() : RestartStrategies.fixedDelayRestart(1000, 100),
  );
  // One source subtask: every key sees its events in index order, so each update is deterministic.
  const events = env
    .fromSource(
      new DataGeneratorSource(jdbcEventOf, Number(countArg), RateLimiterStrategy.perSecond(Number(rateArg))),
      WatermarkStrategy.noWatermarks<JdbcEvent>(),
      'Events',
    )
    .uid('events')
    .setParallelism(1);
  const counts = events
    .keyBy((e) => e.key)
    .process(new RunningCount())
    .uid('running-count')
    .name('Running count');
  const connection = new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
    // Timestamps are written and read in UTC.
    .withUrl(`${url}?connectionTimeZone=UTC&useSSL=false`)
    .withDriverName('org.mariadb.jdbc.Driver')
    .withUsername(user!)
    .withPassword(password!)
    .withConnectionCheckTimeoutSeconds(5)
    .build();
  if (mode === 'xa') {
    const execution = JdbcExecutionOptions.builder()
      .withBatchSize(100)
      .withBatchIntervalMs(200)
      .withMaxRetries(0)
      .build();
    counts
      .addSink(
        JdbcSink.exactlyOnceSink<JdbcCount>(
          `INSERT INTO ${table} (k, cnt, total, max_ts) VALUES (?, ?, ?, ?)`,
          (ps, c) => {
            ps.setInt(1, c.key);
            ps.setLong(2, c.count);
            ps.setLong(3, c.total);
            ps.setTimestamp(4, c.maxTs);
          },
          execution,
          JdbcExactlyOnceOptions.builder().withTransactionPerConnection(true).build(),
          connection,
        ),
      )
      .uid('jdbc-xa-sink')
      .name('Counts (XA)');
    return;
  }
  const execution = JdbcExecutionOptions.builder()
    .withBatchSize(100)
    .withBatchIntervalMs(200)
    .withMaxRetries(Number(retriesArg ?? 3))
    .build();
  counts
    .addSink(
      JdbcSink.sink<JdbcCount>(
        `INSERT INTO ${table} (k, cnt, total, max_ts) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE cnt = VALUES(cnt), total = VALUES(total), max_ts = VALUES(max_ts)`,
        (_ps, c) => [c.key, c.count, c.total, new Date(c.maxTs)],
        execution,
        connection,
      ),
    )
    .uid('jdbc-upsert-sink')
    .name('Counts (upsert)');
}
