// Per-second record rates from successive samples of monotonic counters, and the bounded
// history the throughput chart draws.

export interface VertexCounters {
  read: number;
  write: number;
}

export interface VertexRates {
  readPerSecond: number;
  writePerSecond: number;
}

export class RateTracker {
  private prev: { t: number; counters: Map<string, VertexCounters> } | undefined;

  /**
   * `t` in milliseconds. Returns rates for the vertices seen in the previous sample too;
   * a vertex seen for the first time has no rate yet and is absent. `null` when the sample
   * came too soon after the previous one to say anything (the previous rates still hold).
   */
  update(t: number, counters: Map<string, VertexCounters>): Map<string, VertexRates> | null {
    const prev = this.prev;
    // Polls closer than this say more about timer jitter than about throughput.
    if (prev && t - prev.t < 200) return null;
    const rates = new Map<string, VertexRates>();
    if (prev) {
      const dt = (t - prev.t) / 1000;
      for (const [id, c] of counters) {
        const p = prev.counters.get(id);
        if (!p) continue;
        // A counter that went down was reset by a restart: no meaningful rate for this step.
        rates.set(id, {
          readPerSecond: c.read >= p.read ? (c.read - p.read) / dt : 0,
          writePerSecond: c.write >= p.write ? (c.write - p.write) / dt : 0,
        });
      }
    }
    this.prev = { t, counters: new Map(counters) };
    return rates;
  }
}

/** Time-aligned series for uPlot: x in seconds, one array per key. */
export class SeriesHistory {
  readonly times: number[] = [];
  private readonly series = new Map<string, (number | null)[]>();

  constructor(private readonly capacity: number) {}

  add(tSeconds: number, values: Map<string, number>): void {
    const n = this.times.length;
    this.times.push(tSeconds);
    for (const [key, v] of values) {
      let s = this.series.get(key);
      if (!s) {
        // A key that appears later has no past: pad with gaps so the columns stay aligned.
        s = new Array<number | null>(n).fill(null);
        this.series.set(key, s);
      }
      s.push(v);
    }
    for (const [key, s] of this.series) if (!values.has(key)) s.push(null);
    if (this.times.length > this.capacity) {
      const drop = this.times.length - this.capacity;
      this.times.splice(0, drop);
      for (const s of this.series.values()) s.splice(0, drop);
    }
  }

  get(key: string): (number | null)[] {
    return this.series.get(key) ?? new Array<number | null>(this.times.length).fill(null);
  }

  get length(): number {
    return this.times.length;
  }
}
