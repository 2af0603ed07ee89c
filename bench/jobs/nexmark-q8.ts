// Benchmark job: Nexmark q8 (a tumbling-window join of persons and auctions) over generated
// events, results into a sink that only consumes them.
//   args: [events = 1000000] [outOfOrdernessMs = 200] [sizeMs = 10000]
// The pipeline is the example job's (examples/nexmark/q8.ts).
import type { StreamExecutionEnvironment } from 'weir';
import { NexmarkSource } from 'weir/nexmark';
import { auctionsOf, personsOf, type NewUser } from '../../examples/nexmark/joins.js';
import { newUsers } from '../../examples/nexmark/q8.js';
import { consumeNewUser } from '../benchmarks/nexmark-q8-loop.js';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const count = Number(args[0] ?? 1_000_000);
  const outOfOrdernessMs = Number(args[1] ?? 200);
  const sizeMs = Number(args[2] ?? 10_000);
  const { source, watermarkStrategy } = NexmarkSource.create({ count, outOfOrdernessMs });
  const events = env.fromSource(source, watermarkStrategy, 'Nexmark').uid('nexmark-source');
  newUsers(personsOf(events), auctionsOf(events), sizeMs)
    .addSink((r: NewUser) => consumeNewUser(r))
    .name('Discard');
  void env.execute('Bench: Nexmark q8');
}
