// An endless interval join: two unbounded, rate-limited sources of out-of-order records, joined
// per key within [lower, upper]. The sink checks every pair (same key, within the bounds,
// timestamp = max of both) and fails the job on a wrong one; the test watches the join's
// buffered rows while it runs.
//   args: <JInputParams as JSON> <boundMs> <lower> <upper> <recordsPerSecond per side>
import {
  DataGeneratorSource,
  RateLimiterStrategy,
  WatermarkStrategy,
  type Collector,
  type ProcessJoinContext,
  type StreamExecutionEnvironment,
} from 'weir';
import { jRecord, type JInputParams, type JRecord } from './j-input.js';

interface Pair {
  l: JRecord;
  r: JRecord;
  ts: number;
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [json, bound, lowerArg, upperArg, rateArg] = args;
  if (!json || !bound || !lowerArg || !upperArg || !rateArg)
    throw new Error('usage: j-endless <input JSON> <boundMs> <lower> <upper> <rate>');
  const input = JSON.parse(json) as JInputParams;
  const lower = Number(lowerArg);
  const upper = Number(upperArg);
  const rate = Number(rateArg);
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness<JRecord>(Number(bound)).withTimestampAssigner(
    (r: JRecord) => r.ts,
  );
  const source = (side: 0 | 1, name: string) =>
    env
      .fromSource(
        new DataGeneratorSource((i: number) => jRecord(side, i, input), Infinity, RateLimiterStrategy.perSecond(rate)),
        strategy,
        name,
      )
      .uid(name.toLowerCase());
  source(0, 'Left')
    .keyBy((r: JRecord) => r.key)
    .intervalJoin(source(1, 'Right').keyBy((r: JRecord) => r.key))
    .between(lower, upper)
    .process({
      processElement(l: JRecord, r: JRecord, ctx: ProcessJoinContext, out: Collector<Pair>) {
        out.collect({ l, r, ts: ctx.getTimestamp() });
      },
    })
    .uid('endless-join')
    .name('Endless interval join')
    .addSink((p: Pair) => {
      const d = p.r.ts - p.l.ts;
      if (p.l.key !== p.r.key || d < lower || d > upper || p.ts !== Math.max(p.l.ts, p.r.ts))
        throw new Error(`wrong pair: ${JSON.stringify(p)}`);
    })
    .name('Check pairs');
  void env.execute('Joins: endless interval join');
}
