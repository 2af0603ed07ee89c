// A fixed-resolution latency histogram (0.05 ms buckets up to 2 s, then one overflow bucket) that
// sink subtasks fill and write out, and the benchmark merges exactly.

export const BUCKET_MS = 0.05;
const BUCKETS = Math.round(2000 / BUCKET_MS);

export interface HistogramData {
  count: number;
  max: number;
  /** Sparse: [bucket index, count] for non-empty buckets; index BUCKETS is the overflow. */
  buckets: [number, number][];
}

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS + 1);
  private n = 0;
  private maxMs = 0;

  record(ms: number): void {
    const b = ms <= 0 ? 0 : Math.min(BUCKETS, Math.floor(ms / BUCKET_MS));
    this.counts[b]!++;
    this.n++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  get count(): number {
    return this.n;
  }

  toData(): HistogramData {
    const buckets: [number, number][] = [];
    this.counts.forEach((c, i) => {
      if (c > 0) buckets.push([i, c]);
    });
    return { count: this.n, max: this.maxMs, buckets };
  }

  static merge(parts: HistogramData[]): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const p of parts) {
      for (const [i, c] of p.buckets) h.counts[i]! += c;
      h.n += p.count;
      h.maxMs = Math.max(h.maxMs, p.max);
    }
    return h;
  }

  /** Upper edge of the bucket holding quantile q (0..1), in milliseconds. */
  quantile(q: number): number {
    if (this.n === 0) return NaN;
    const rank = Math.ceil(q * this.n);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i === BUCKETS ? this.maxMs : (i + 1) * BUCKET_MS;
    }
    return this.maxMs;
  }
}
