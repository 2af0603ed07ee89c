// Nexmark query 3, local item suggestion: auctions in category 10 by sellers who live in Oregon,
// Idaho or California, with the seller's name, city and state.
//   weir run q3.weir -- [outDir|-] [events=1000000] [outOfOrdernessMs=200] [eventsPerSecond|-]
// Persons keyed by id meet auctions keyed by seller in a KeyedCoProcessFunction that keeps, per
// key, the person once seen and the auctions that came before them. Like Flink's nexmark q3 (an
// unbounded SQL join) nothing expires: state grows with the number of people and of auctions
// whose seller never shows up.
import {
  FileSink,
  KeyedCoProcessFunction,
  type Collector,
  type DataStream,
  type KeyedCoProcessContext,
  type StreamExecutionEnvironment,
} from 'weir';
import { NexmarkSource, type Auction, type Person } from 'weir/nexmark';
import { auctionsOf, localItemLine, personsOf, q3Auction, q3Person, type LocalItem } from './joins.js';
import { intArg } from './queries.js';

interface SellerState {
  person?: Person;
  pending: Auction[];
}

const localItem = (p: Person, a: Auction): LocalItem => ({ name: p.name, city: p.city, state: p.state, auction: a.id });

export class LocalItemJoin extends KeyedCoProcessFunction<number, Person, Auction, LocalItem> {
  // Per key (person id = seller); a subtask only ever sees its own keys.
  private readonly sellers = new Map<number, SellerState>();

  private stateOf(key: number): SellerState {
    let s = this.sellers.get(key);
    if (!s) this.sellers.set(key, (s = { pending: [] }));
    return s;
  }

  processElement1(person: Person, ctx: KeyedCoProcessContext<number>, out: Collector<LocalItem>): void {
    const s = this.stateOf(ctx.getCurrentKey());
    s.person = person;
    for (const a of s.pending) out.collect(localItem(person, a));
    s.pending = [];
  }

  processElement2(auction: Auction, ctx: KeyedCoProcessContext<number>, out: Collector<LocalItem>): void {
    const s = this.stateOf(ctx.getCurrentKey());
    if (s.person) out.collect(localItem(s.person, auction));
    else s.pending.push(auction);
  }
}

export function localItems(persons: DataStream<Person>, auctions: DataStream<Auction>): DataStream<LocalItem> {
  return persons
    .filter(q3Person)
    .name('Persons in OR, ID, CA')
    .keyBy((p: Person) => p.id)
    .connect(
      auctions
        .filter(q3Auction)
        .name('Auctions in category 10')
        .keyBy((a: Auction) => a.seller),
    )
    .process(new LocalItemJoin())
    .uid('q3-join')
    .name('Join persons and auctions');
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const outDir = args[0] && args[0] !== '-' ? args[0] : undefined;
  const count = intArg(args, 1, 1_000_000, 'events');
  const outOfOrdernessMs = intArg(args, 2, 200, 'outOfOrdernessMs');
  const rate = args[3] && args[3] !== '-' ? intArg(args, 3, 0, 'eventsPerSecond') : undefined;
  const { source, watermarkStrategy } = NexmarkSource.create({ count, outOfOrdernessMs, eventsPerSecond: rate });
  const events = env.fromSource(source, watermarkStrategy, 'Nexmark').uid('nexmark-source');
  const lines = localItems(personsOf(events), auctionsOf(events)).map(localItemLine).name('To JSON');
  if (outDir) lines.sinkTo(FileSink.forRowFormat<string>(outDir).build()).name('Results');
  else lines.print();
  void env.execute('Nexmark q3: local item suggestion');
}
