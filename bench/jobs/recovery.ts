// Benchmark job: a steady keyed count that the benchmark kills a TaskManager under.
//   args: <startAtEpochMs> <ratePerSecond> <keys> <checkpointIntervalMs> <restartDelayMs>
// Record i is created at startAt + i / rate (its event timestamp) and emitted then, or at once
// when the source is behind (after a failover replays from the last checkpoint), so the sinks'
// event-time lag (sink-lag-p50) shows the backlog and when it has drained.
import { DataGeneratorSource, RestartStrategies, WatermarkStrategy, type StreamExecutionEnvironment } from 'weir';
import { CountPerKey } from '../lib/count-per-key.js';
import { consume, keyOf, type CountEvent } from '../lib/keyed-records.js';
import { Pacer } from '../lib/pacer.js';

interface TimedEvent extends CountEvent {
  /** Epoch ms at which the record was due: its event time. */
  created: number;
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [startAt, rate, keys, interval, restartDelay] = args.map(Number);
  if (!(startAt! > 0 && rate! > 0 && keys! > 0 && interval! > 0 && restartDelay! >= 0)) {
    throw new Error('usage: recovery <startAtEpochMs> <ratePerSecond> <keys> <checkpointIntervalMs> <restartDelayMs>');
  }
  env.enableCheckpointing(interval!);
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(1000, restartDelay!));
  const events = env
    .fromSource(
      new DataGeneratorSource(
        (i: number): TimedEvent => ({ key: keyOf(i, keys!), value: i, created: startAt! + (i * 1000) / rate! }),
        Infinity,
      ),
      WatermarkStrategy.forBoundedOutOfOrderness<TimedEvent>(0).withTimestampAssigner((e: TimedEvent) => e.created),
      'Events',
    )
    .uid('events');
  events
    .addSink(new Pacer<TimedEvent>((e) => e.value, { freeRecords: 0, ratePerSecond: rate!, startAt: startAt! }))
    .name('Pace');
  events
    .keyBy((e: TimedEvent) => e.key)
    .map(new CountPerKey<TimedEvent>())
    .uid('count-per-key')
    .name('Count per key')
    .addSink((e: CountEvent) => consume(e))
    .name('Output');
  void env.execute('Bench: recovery');
}
