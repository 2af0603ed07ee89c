// An unbounded job whose watermark comes from two parallel assignTimestampsAndWatermarks subtasks,
// one of which never sees a record. With withIdleness the idle one stops holding the watermark
// back and tumbling windows fire while the job runs; without it nothing ever fires.
//   args: <outDir> <idlenessMs|-> [recordsPerSecond=1000] [windowMs=200]
// Record i has event time IDLE_BASE + i; only even i survive the filter, and with source
// parallelism 2 (strided: subtask s emits s, s+2, ...) all of them come from subtask 0.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DataGeneratorSource,
  RateLimiterStrategy,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type AggregateFunction,
  type Collector,
  type ProcessWindowContext,
  type RuntimeContext,
  type StreamExecutionEnvironment,
  type TimeWindow,
} from 'weir';

export const IDLE_BASE = 5_000_000;
export const IDLE_KEYS = 4;

export interface IdleRecord {
  seq: number;
  key: number;
  ts: number;
}

export function idleRecord(i: number): IdleRecord {
  return { seq: i, key: (i >> 1) % IDLE_KEYS, ts: IDLE_BASE + i };
}

export function idleLine(key: number, start: number, end: number, count: number): string {
  return `${key}|${start}|${end}|${count}`;
}

const count: AggregateFunction<IdleRecord, number, number> = {
  createAccumulator: () => 0,
  add: (_r, n) => n + 1,
  getResult: (n) => n,
  merge: (a, b) => a + b,
};

/** Appends each line to <dir>/part-<subtask> at once, so a test sees output while the job runs. */
class AppendingSink {
  private file = '';

  constructor(private readonly dir: string) {}

  open(ctx: RuntimeContext): void {
    mkdirSync(this.dir, { recursive: true });
    this.file = join(this.dir, `part-${ctx.getIndexOfThisSubtask()}`);
  }

  invoke(line: string): void {
    appendFileSync(this.file, line + '\n');
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, idleness = '-', rate = '1000', windowMs = '200'] = args;
  if (!outDir) throw new Error('usage: et-idle <outDir> <idlenessMs|-> [recordsPerSecond] [windowMs]');
  env.getConfig().setAutoWatermarkInterval(50);
  let strategy = WatermarkStrategy.forBoundedOutOfOrderness<IdleRecord>(10).withTimestampAssigner(
    (r: IdleRecord) => r.ts,
  );
  if (idleness !== '-') strategy = strategy.withIdleness(Number(idleness));
  env
    .fromSource(
      new DataGeneratorSource(idleRecord, Infinity, RateLimiterStrategy.perSecond(Number(rate))),
      WatermarkStrategy.noWatermarks(),
      'Input',
    )
    .setParallelism(2)
    .filter((r: IdleRecord) => r.seq % 2 === 0)
    .setParallelism(2)
    .assignTimestampsAndWatermarks(strategy)
    .setParallelism(2)
    .keyBy((r: IdleRecord) => r.key)
    .window(TumblingEventTimeWindows.of(Number(windowMs)))
    .aggregate(
      count,
      (key: number, ctx: ProcessWindowContext<TimeWindow>, counts: Iterable<number>, out: Collector<string>) => {
        for (const n of counts) out.collect(idleLine(key, ctx.window.start, ctx.window.end, n));
      },
    )
    .uid('idle-windows')
    .name('Counts')
    .addSink(new AppendingSink(outDir))
    .name('Appending sink');
  void env.execute('Idle input');
}
