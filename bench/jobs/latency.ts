// Benchmark job: end-to-end latency at a fixed rate. Nexmark events carry their wall-clock
// creation time (stamped by the generator as the source emits them); bids are keyed by auction
// (a shuffle, across TaskManagers at parallelism 2), converted to another currency (Nexmark q1)
// and reach a sink that records now - created per event into a histogram, written on close.
//   args: <outDir> [eventsPerSecond = 50000] [seconds = 10] [warmupSeconds = 1]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DataGeneratorSource,
  RateLimiterStrategy,
  WatermarkStrategy,
  type RuntimeContext,
  type StreamExecutionEnvironment,
} from 'weir';
import { nexmarkConfig, nexmarkEvent, type NexmarkEvent } from 'weir/nexmark';
import { LatencyHistogram } from '../benchmarks/latency-histogram.js';

interface TimedEvent {
  index: number;
  /** Epoch milliseconds with sub-millisecond precision. */
  created: number;
  event: NexmarkEvent;
}

interface TimedBid {
  index: number;
  created: number;
  auction: number;
  priceEuro: number;
}

const now = () => performance.timeOrigin + performance.now();

/** Records the latency of events after the warm-up; writes latency-<subtask>.json on close. */
class LatencySink {
  private readonly histogram = new LatencyHistogram();
  private subtask = 0;

  constructor(
    private readonly outDir: string,
    private readonly warmupEvents: number,
  ) {}

  open(ctx: RuntimeContext): void {
    this.subtask = ctx.getIndexOfThisSubtask();
  }

  invoke(b: TimedBid): void {
    if (b.index >= this.warmupEvents) this.histogram.record(now() - b.created);
  }

  close(): void {
    mkdirSync(this.outDir, { recursive: true });
    writeFileSync(join(this.outDir, `latency-${this.subtask}.json`), JSON.stringify(this.histogram.toData()));
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const outDir = args[0];
  if (!outDir) throw new Error('usage: latency <outDir> [eventsPerSecond] [seconds] [warmupSeconds]');
  const rate = Number(args[1] ?? 50_000);
  const seconds = Number(args[2] ?? 10);
  const warmup = Number(args[3] ?? 1);
  const config = nexmarkConfig({ eventsPerSecond: rate });
  const source = new DataGeneratorSource<TimedEvent>(
    (index: number) => ({ index, created: now(), event: nexmarkEvent(index, config) }),
    Math.round(rate * seconds),
    RateLimiterStrategy.perSecond(rate),
  );
  env
    .fromSource(
      source,
      WatermarkStrategy.forBoundedOutOfOrderness<TimedEvent>(0).withTimestampAssigner((e: TimedEvent) => e.created),
      'Nexmark',
    )
    .uid('nexmark-source')
    .flatMap((e: TimedEvent, out: { collect(b: TimedBid): void }) => {
      if (e.event.type === 'bid')
        out.collect({ index: e.index, created: e.created, auction: e.event.bid.auction, priceEuro: e.event.bid.price });
    })
    .name('Bids')
    .keyBy((b: TimedBid) => b.auction)
    .map((b: TimedBid) => ({ ...b, priceEuro: Math.round(b.priceEuro * 0.908) }))
    .name('To euro')
    .addSink(new LatencySink(outDir, Math.round(rate * warmup)))
    .name('Latency');
  void env.execute('Bench: latency');
}
