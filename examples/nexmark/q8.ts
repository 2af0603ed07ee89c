// Nexmark query 8, monitor new users: people who opened an auction in the same tumbling event-time
// window (10 s by default) in which they registered.
//   weir run q8.weir -- [outDir|-] [events=1000000] [sizeMs=10000] [outOfOrdernessMs=200] [eventsPerSecond|-]
// A window join of persons and auctions on person id = seller. One result per auction the person
// opened in that window, as Beam's Query8 (Flink's SQL q8 groups them into one).
import { FileSink, TumblingEventTimeWindows, type DataStream, type StreamExecutionEnvironment } from 'weir';
import { NexmarkSource, type Auction, type Person } from 'weir/nexmark';
import { auctionsOf, newUserLine, personsOf, tumblingStart, type NewUser } from './joins.js';
import { intArg } from './queries.js';

export function newUsers(
  persons: DataStream<Person>,
  auctions: DataStream<Auction>,
  sizeMs: number,
): DataStream<NewUser> {
  if (!(sizeMs > 0)) throw new RangeError(`q8: window size must be positive, got ${sizeMs}`);
  return (
    persons
      .join(auctions)
      .where((p: Person) => p.id)
      .equalTo((a: Auction) => a.seller)
      .window(TumblingEventTimeWindows.of(sizeMs))
      // The join function does not see the window; the person's timestamp lies in it.
      .apply((p: Person, _a: Auction): NewUser => ({
        id: p.id,
        name: p.name,
        windowStart: tumblingStart(p.dateTime, sizeMs),
      }))
      .uid('q8-join')
      .name('New users')
  );
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const outDir = args[0] && args[0] !== '-' ? args[0] : undefined;
  const count = intArg(args, 1, 1_000_000, 'events');
  const sizeMs = intArg(args, 2, 10_000, 'sizeMs');
  const outOfOrdernessMs = intArg(args, 3, 200, 'outOfOrdernessMs');
  const rate = args[4] && args[4] !== '-' ? intArg(args, 4, 0, 'eventsPerSecond') : undefined;
  const { source, watermarkStrategy } = NexmarkSource.create({ count, outOfOrdernessMs, eventsPerSecond: rate });
  const events = env.fromSource(source, watermarkStrategy, 'Nexmark').uid('nexmark-source');
  const lines = newUsers(personsOf(events), auctionsOf(events), sizeMs).map(newUserLine).name('To JSON');
  if (outDir) lines.sinkTo(FileSink.forRowFormat<string>(outDir).build()).name('Results');
  else lines.print();
  void env.execute('Nexmark q8: monitor new users');
}
