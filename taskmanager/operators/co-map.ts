// Stateless two-input operators of connected streams: CoMapFunction and CoFlatMapFunction.
// Each input has its own method; results keep the input record's timestamp.
import type { Collector } from '../../api/functions.js';
import { TimestampedCollector } from './basic.js';
import { TwoInputStreamOperator, type OperatorSetup } from './operator.js';

/** A method of a two-method function object, bound to it; a plain function cannot serve two inputs. */
export function coMethod<F extends (...args: never[]) => unknown>(
  operatorName: string,
  userCode: unknown,
  method: string,
): F {
  const m =
    userCode !== null && typeof userCode === 'object' ? (userCode as Record<string, unknown>)[method] : undefined;
  if (typeof m !== 'function')
    throw new Error(
      `operator '${operatorName}': user code has no ${method}() method (two-input functions are objects with one method per input)`,
    );
  return (m as F).bind(userCode) as F;
}

export class CoStreamMap extends TwoInputStreamOperator {
  private readonly map1: (v: unknown) => unknown;
  private readonly map2: (v: unknown) => unknown;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.map1 = coMethod(this.name, setup.userCode, 'map1');
    this.map2 = coMethod(this.name, setup.userCode, 'map2');
  }

  processElement1(value: unknown, timestamp: number | undefined): void {
    let r: unknown;
    try {
      r = this.map1(value);
    } catch (e) {
      this.fail(e);
    }
    this.output.collect(r, timestamp);
  }

  processElement2(value: unknown, timestamp: number | undefined): void {
    let r: unknown;
    try {
      r = this.map2(value);
    } catch (e) {
      this.fail(e);
    }
    this.output.collect(r, timestamp);
  }
}

export class CoStreamFlatMap extends TwoInputStreamOperator {
  private readonly flatMap1: (v: unknown, out: Collector<unknown>) => void;
  private readonly flatMap2: (v: unknown, out: Collector<unknown>) => void;
  private readonly collector: TimestampedCollector;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.flatMap1 = coMethod(this.name, setup.userCode, 'flatMap1');
    this.flatMap2 = coMethod(this.name, setup.userCode, 'flatMap2');
    this.collector = new TimestampedCollector(this.output);
  }

  processElement1(value: unknown, timestamp: number | undefined): void {
    this.collector.timestamp = timestamp;
    try {
      this.flatMap1(value, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }

  processElement2(value: unknown, timestamp: number | undefined): void {
    this.collector.timestamp = timestamp;
    try {
      this.flatMap2(value, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }
}
