// One-input operators without engine state: map, filter, flatMap. On a keyed stream their rich
// functions may use keyed state (getRuntimeContext().getState(...)), so they set each record's key.
import type { Collector } from '../../api/functions.js';
import type { KeyedStateBackend } from '../state/types.js';
import { StreamOperator, type OperatorSetup, type StateInitializationContext } from './operator.js';

const NO_RECORD = Symbol('no record');

/**
 * On a keyed stream, sets the backend's current key per record once the function uses keyed state
 * (a RichMapFunction that calls getState()); until then, and off keyed streams, a record costs one
 * field write.
 */
abstract class RecordKeyingOperator extends StreamOperator {
  private readonly keyOf: ((v: unknown) => unknown) | undefined;
  /** The backend, once the function uses keyed state. */
  private keyingBackend: KeyedStateBackend | undefined;
  /** The record being processed, for a function that asks for keyed state in the middle of it. */
  private record: unknown = NO_RECORD;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.keyOf = setup.keySelector;
  }

  override async initializeState(context: StateInitializationContext): Promise<void> {
    if (context.keyedStateBackend && !this.keyOf)
      throw new Error(`operator '${this.name}' was given keyed state but has no key selector`);
    await super.initializeState(context);
  }

  protected override keyedStateUsed(backend: KeyedStateBackend): void {
    this.keyingBackend = backend;
    if (this.record !== NO_RECORD) backend.setCurrentKey(this.keyOf!(this.record));
  }

  /** Call inside the record's try block: a failing key selector is a user-code error. */
  protected setRecordKey(value: unknown): void {
    const b = this.keyingBackend;
    if (b !== undefined) b.setCurrentKey(this.keyOf!(value));
    else this.record = value;
  }
}

export class StreamMap extends RecordKeyingOperator {
  private readonly fn: (v: unknown) => unknown;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.fn = this.userFunction('map');
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    let r: unknown;
    try {
      this.setRecordKey(value);
      r = this.fn(value);
    } catch (e) {
      this.fail(e);
    }
    this.output.collect(r, timestamp);
  }
}

export class StreamFilter extends RecordKeyingOperator {
  private readonly fn: (v: unknown) => unknown;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.fn = this.userFunction('filter');
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    let keep: unknown;
    try {
      this.setRecordKey(value);
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

export class StreamFlatMap extends RecordKeyingOperator {
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
      this.setRecordKey(value);
      this.fn(value, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }
}
