// The PrometheusSink's writer (Flink's PrometheusSinkWriter on an AsyncSinkWriter with one request
// in flight): records are buffered in arrival order and cut into WriteRequests of at most
// maxBatchSizeInSamples samples (whole records). A request goes out when the buffer holds a full
// batch, when the oldest buffered record has waited maxTimeInBufferMS, and on flush() (checkpoint
// barrier, end of input). One request is in flight at a time, so the samples of a series reach
// Prometheus in the order the sink received them, within and across requests. While a request is
// in flight the next batch fills; when it is full, write() returns a promise the task awaits
// (backpressure), so at most about two batches are held.
import { checkTimeSeries, seriesIdentity } from '../../api/prometheus-sink.js';
import { wireIdentity, wireLabels, writeRequestBody, type WireTimeSeries } from './prometheus-remote-write.js';

/** A buffered record: its series' wire labels and its samples. */
interface Entry {
  readonly series: WireTimeSeries;
}

/** One WriteRequest to send: a TimeSeries per series, samples in order. */
export interface PrometheusBatch {
  readonly timeseries: WireTimeSeries[];
  readonly samples: number;
}

export interface PrometheusSinkWriterOptions {
  maxBatchSizeInSamples: number;
  maxRecordSizeInSamples: number;
  maxTimeInBufferMS: number;
  /** Sends one batch; resolves when it is written or discarded, rejects when the task must fail. */
  send(batch: PrometheusBatch): Promise<void>;
  /** Runs `fn` after `delayMs` inside the task; returns a cancel function. */
  schedule(delayMs: number, fn: () => void): () => void;
  /** A request in flight failed for good while nobody waited for it: fail the task. */
  onAsyncFailure(error: unknown): void;
}

/** Groups records into one TimeSeries per series, series in order of first appearance. */
export function groupBySeries(entries: readonly { series: WireTimeSeries }[]): WireTimeSeries[] {
  const byIdentity = new Map<string, WireTimeSeries>();
  const out: WireTimeSeries[] = [];
  for (const e of entries) {
    const id = wireIdentity(e.series.labels);
    const ts = byIdentity.get(id);
    if (ts) {
      for (const s of e.series.samples) ts.samples.push(s);
    } else {
      const copy = { labels: e.series.labels, samples: [...e.series.samples] };
      byIdentity.set(id, copy);
      out.push(copy);
    }
  }
  return out;
}

/** Posts a batch through `write` as a snappy-compressed WriteRequest body. */
export function batchSender(
  write: (body: Uint8Array, samples: number) => Promise<void>,
): (batch: PrometheusBatch) => Promise<void> {
  return (batch) => write(writeRequestBody({ timeseries: batch.timeseries }), batch.samples);
}

export class PrometheusSinkWriter {
  private queue: Entry[] = [];
  /** Samples in `queue`. */
  private buffered = 0;
  private inFlight: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;
  private cancelTimer: (() => void) | undefined;
  /** The buffer timer fired while a request was in flight: send as soon as it completes. */
  private due = false;
  private closed = false;

  constructor(private readonly o: PrometheusSinkWriterOptions) {}

  /** Samples buffered, not yet sent. */
  get bufferedSamples(): number {
    return this.buffered;
  }

  /** Records buffered, not yet sent. */
  get bufferedRecords(): number {
    return this.queue.length;
  }

  get requestInFlight(): boolean {
    return this.inFlight !== undefined;
  }

  /**
   * Buffers one record (a PrometheusTimeSeries). Returns a promise when the caller must wait before
   * the next record (a full batch waits for the request in flight), else undefined. Throws on an
   * invalid record and once a request failed for good.
   */
  write(value: unknown): Promise<void> | undefined {
    this.throwIfFailed();
    const ts = checkTimeSeries(value);
    const n = ts.samples.length;
    if (n > this.o.maxRecordSizeInSamples) {
      throw new RangeError(
        `PrometheusSink: a record of series ${seriesIdentity(ts)} has ${n} samples, more than maxRecordSizeInSamples (${this.o.maxRecordSizeInSamples})`,
      );
    }
    const samples = new Array<{ value: number; timestamp: number }>(n);
    for (let i = 0; i < n; i++) {
      const s = ts.samples[i]!;
      samples[i] = { value: s.value, timestamp: s.timestamp };
    }
    this.queue.push({ series: { labels: wireLabels(ts), samples } });
    this.buffered += n;
    if (this.buffered >= this.o.maxBatchSizeInSamples) return this.batchFull();
    this.armTimer();
    return undefined;
  }

  private batchFull(): Promise<void> | undefined {
    const inFlight = this.inFlight;
    if (!inFlight) {
      this.sendNext();
      return undefined;
    }
    return inFlight.then(() => {
      this.throwIfFailed();
      if (!this.inFlight && this.buffered >= this.o.maxBatchSizeInSamples) this.sendNext();
    });
  }

  /** Sends everything buffered and waits until no request is in flight. Rejects once a request failed for good. */
  async flush(): Promise<void> {
    for (;;) {
      this.throwIfFailed();
      if (this.inFlight) {
        await this.inFlight;
        continue;
      }
      if (this.buffered === 0) {
        this.stopTimer();
        return;
      }
      this.sendNext();
    }
  }

  /** Drops what is buffered and stops the timer; the owner aborts the HTTP client. */
  close(): void {
    this.closed = true;
    this.stopTimer();
    this.queue = [];
    this.buffered = 0;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
    if (this.closed) throw new Error('PrometheusSink: the writer is closed');
  }

  /** Cuts the next batch off the buffer (whole records, at most maxBatchSizeInSamples samples) and sends it. */
  private sendNext(): void {
    const max = this.o.maxBatchSizeInSamples;
    let samples = 0;
    let k = 0;
    while (k < this.queue.length) {
      const n = this.queue[k]!.series.samples.length;
      if (k > 0 && samples + n > max) break;
      samples += n;
      k++;
    }
    const entries = this.queue.splice(0, k);
    this.buffered -= samples;
    this.due = false;
    this.stopTimer();
    if (this.buffered > 0) this.armTimer();
    const batch: PrometheusBatch = { timeseries: groupBySeries(entries), samples };
    const p = (async () => {
      // Start after `inFlight` is set, even if send() throws at once.
      await Promise.resolve();
      try {
        await this.o.send(batch);
      } catch (error) {
        if (!this.failure && !this.closed) {
          this.failure = { error };
          this.o.onAsyncFailure(error);
        }
      } finally {
        this.inFlight = undefined;
      }
      if (this.due && this.buffered > 0 && !this.failure && !this.closed) this.sendNext();
    })();
    this.inFlight = p;
  }

  private armTimer(): void {
    if (this.cancelTimer || this.buffered === 0 || this.closed) return;
    this.cancelTimer = this.o.schedule(this.o.maxTimeInBufferMS, () => {
      this.cancelTimer = undefined;
      if (this.buffered === 0 || this.closed || this.failure) return;
      if (this.inFlight) this.due = true;
      else this.sendNext();
    });
  }

  private stopTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }
}
