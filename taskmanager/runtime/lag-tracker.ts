// Event-time lag at sinks: how far behind the wall clock the records reaching a sink are
// (now - record timestamp). Where timestamps are the events' creation times, this is the true
// event-to-output latency, window waiting and queueing included. Sampled, so it costs nothing
// per record on the hot path but a counter.

const SAMPLE_EVERY = 32;
const RESERVOIR = 512;

export class LagTracker {
  private readonly samples = new Float64Array(RESERVOIR);
  private filled = 0;
  private next = 0;
  private counter = 0;

  /** Called per sink record with a timestamp. */
  record(timestamp: number): void {
    // The first records are always sampled, so a sink that receives few still reports a lag.
    if (++this.counter < SAMPLE_EVERY && this.filled >= 16) return;
    this.counter = 0;
    this.samples[this.next] = Date.now() - timestamp;
    this.next = (this.next + 1) % RESERVOIR;
    if (this.filled < RESERVOIR) this.filled++;
  }

  /** Percentile (0..1) of the recent samples, or -1 without samples. */
  percentile(p: number): number {
    if (this.filled === 0) return -1;
    const sorted = Array.from(this.samples.subarray(0, this.filled)).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  }
}
