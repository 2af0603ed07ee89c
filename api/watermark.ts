// Flink's Watermark: event time has reached `timestamp`; no record with a smaller or equal
// timestamp is expected any more. Scripted sources emit it (SourceContext.emitWatermark) and test
// harnesses report it in their output.

export class Watermark {
  /** The watermark that ends event time: every event-time window and timer fires. */
  static readonly MAX_WATERMARK = new Watermark(Number.MAX_SAFE_INTEGER);

  constructor(readonly timestamp: number) {
    if (typeof timestamp !== 'number' || Number.isNaN(timestamp))
      throw new TypeError(`a Watermark needs a numeric timestamp, got ${String(timestamp)}`);
  }

  getTimestamp(): number {
    return this.timestamp;
  }

  toString(): string {
    return `Watermark @ ${this.timestamp}`;
  }
}
