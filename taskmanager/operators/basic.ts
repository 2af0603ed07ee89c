// Stateless one-input operators: map, filter, flatMap.
import type { Collector } from '../../api/functions.js';
import { StreamOperator, type OperatorSetup } from './operator.js';

export class StreamMap extends StreamOperator {
  private readonly fn: (v: unknown) => unknown;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.fn = this.userFunction('map');
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    let r: unknown;
    try {
      r = this.fn(value);
    } catch (e) {
      this.fail(e);
    }
    this.output.collect(r, timestamp);
  }
}

export class StreamFilter extends StreamOperator {
  private readonly fn: (v: unknown) => unknown;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.fn = this.userFunction('filter');
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    let keep: unknown;
    try {
      keep = this.fn(value);
    } catch (e) {
      this.fail(e);
    }
    if (keep) this.output.collect(value, timestamp);
  }
}

/** A Collector that stamps emitted records with the input record's timestamp. */
export class TimestampedCollector implements Collector<unknown> {
  timestamp: number | undefined;

  constructor(private readonly out: { collect(v: unknown, t: number | undefined): void }) {}

  collect(value: unknown): void {
    this.out.collect(value, this.timestamp);
  }
}

export class StreamFlatMap extends StreamOperator {
  private readonly fn: (v: unknown, out: Collector<unknown>) => void;
  private readonly collector: TimestampedCollector;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.fn = this.userFunction('flatMap');
    this.collector = new TimestampedCollector(this.output);
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.collector.timestamp = timestamp;
    try {
      this.fn(value, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }
}
