// Benchmark job: Nexmark q5 or q7 over generated events, results into a no-op sink.
//   args: <q5|q7> [events = 1000000] [outOfOrdernessMs = 200] [sizeMs = 10000] [slideMs = 2000]
//         [one-phase: window aggregations not split around their exchange
//          | aligned <maxDriftMs> <updateIntervalMs>: source subtasks kept within maxDriftMs of event
//            time of each other (withWatermarkAlignment)]
// The queries are the example jobs' pipelines (examples/nexmark). At parallelism 1 every edge
// chains, so the whole job is one task.
import type { StreamExecutionEnvironment } from 'weir';
import { NexmarkSource } from 'weir/nexmark';
import { hotItems } from '../../examples/nexmark/q5.js';
import { highestBids } from '../../examples/nexmark/q7.js';
import { bidsOf } from '../../examples/nexmark/queries.js';
import { consumeResult } from '../benchmarks/nexmark-loops.js';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const query = args[0];
  const count = Number(args[1] ?? 1_000_000);
  const outOfOrdernessMs = Number(args[2] ?? 200);
  const sizeMs = Number(args[3] ?? 10_000);
  const slideMs = Number(args[4] ?? 2_000);
  if (args[5] === 'one-phase') env.getConfig().disableLocalWindowAggregation();
  else if (args[5] !== undefined && args[5] !== 'aligned')
    throw new Error(`unknown argument '${args[5]}' (one-phase or aligned)`);
  const { source, watermarkStrategy: unaligned } = NexmarkSource.create({ count, outOfOrdernessMs });
  const watermarkStrategy =
    args[5] === 'aligned' ? unaligned.withWatermarkAlignment('nexmark', Number(args[6]), Number(args[7])) : unaligned;
  const bids = bidsOf(env.fromSource(source, watermarkStrategy, 'Nexmark').uid('nexmark-source'));
  const results =
    query === 'q5' ? hotItems(bids, sizeMs, slideMs) : query === 'q7' ? highestBids(bids, sizeMs) : undefined;
  if (!results) throw new Error(`unknown query '${String(query)}' (q5 or q7)`);
  results.addSink((r: unknown) => consumeResult(r)).name('Discard');
  void env.execute(`Bench: Nexmark ${query}`);
}
