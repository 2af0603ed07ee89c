// Benchmark job: Nexmark q5 or q7 over generated events, results into a no-op sink.
//   args: <q5|q7> [events = 1000000] [outOfOrdernessMs = 200] [sizeMs = 10000] [slideMs = 2000]
//         then any of: one-phase (window aggregations not split around their exchange);
//         aligned <maxDriftMs> <updateIntervalMs> (source subtasks kept within maxDriftMs of event
//         time of each other: withWatermarkAlignment); warm <events> <file> (each source subtask
//         appends to file the time it passes index <events>: bench/jobs/warm-mark.ts)
// The queries are the example jobs' pipelines (examples/nexmark). At parallelism 1 every edge
// chains, so the whole job is one task.
import { DataGeneratorSource, type StreamExecutionEnvironment } from 'weir';
import { NexmarkSource, nexmarkEvent } from 'weir/nexmark';
import { hotItems } from '../../examples/nexmark/q5.js';
import { highestBids } from '../../examples/nexmark/q7.js';
import { bidsOf } from '../../examples/nexmark/queries.js';
import { consumeResult } from '../benchmarks/nexmark-loops.js';
import { withWarmMark, type WarmOption } from './warm-mark.js';

interface Options {
  onePhase: boolean;
  aligned?: { maxDriftMs: number; updateIntervalMs: number };
  warm?: WarmOption;
}

function options(args: string[]): Options {
  const o: Options = { onePhase: false };
  for (let i = 0; i < args.length; i++) {
    const word = args[i];
    if (word === 'one-phase') {
      o.onePhase = true;
      continue;
    }
    if (word !== 'aligned' && word !== 'warm')
      throw new Error(`unknown argument '${String(word)}' (one-phase, aligned or warm)`);
    const [first, second] = [args[i + 1], args[i + 2]];
    i += 2;
    if (first === undefined || second === undefined) throw new Error(`'${word}' takes two values`);
    if (word === 'aligned') o.aligned = { maxDriftMs: Number(first), updateIntervalMs: Number(second) };
    else o.warm = { events: Number(first), file: second };
  }
  return o;
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const query = args[0];
  const count = Number(args[1] ?? 1_000_000);
  const outOfOrdernessMs = Number(args[2] ?? 200);
  const sizeMs = Number(args[3] ?? 10_000);
  const slideMs = Number(args[4] ?? 2_000);
  const o = options(args.slice(5));
  if (o.onePhase) env.getConfig().disableLocalWindowAggregation();
  const created = NexmarkSource.create({ count, outOfOrdernessMs });
  const { config, watermarkStrategy: unaligned } = created;
  const source = o.warm
    ? new DataGeneratorSource(
        withWarmMark((i) => nexmarkEvent(i, config), o.warm),
        count,
      )
    : created.source;
  const watermarkStrategy = o.aligned
    ? unaligned.withWatermarkAlignment('nexmark', o.aligned.maxDriftMs, o.aligned.updateIntervalMs)
    : unaligned;
  const bids = bidsOf(env.fromSource(source, watermarkStrategy, 'Nexmark').uid('nexmark-source'));
  const results =
    query === 'q5' ? hotItems(bids, sizeMs, slideMs) : query === 'q7' ? highestBids(bids, sizeMs) : undefined;
  if (!results) throw new Error(`unknown query '${String(query)}' (q5 or q7)`);
  results.addSink((r: unknown) => consumeResult(r)).name('Discard');
  void env.execute(`Bench: Nexmark ${query}`);
}
