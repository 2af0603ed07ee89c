// CoProcessFunction and KeyedCoProcessFunction on connected streams. Keyed when both inputs
// have a key selector (a.keyBy(k).connect(b.keyBy(k))): then records of either input with the
// same key share that key's timers, and onTimer fires per key.
import { onTimerContext, processContext } from './process-contexts.js';
import type { Collector, OnTimerContext, ProcessContext } from '../../api/functions.js';
import { coMethod } from './co-map.js';
import { CoTimerOperator, optionalMethod } from './co-timers.js';
import type { OperatorSetup } from './operator.js';

type ElementFn = (v: unknown, ctx: ProcessContext, out: Collector<unknown>) => void;
type OnTimerFn = (t: number, ctx: OnTimerContext<unknown>, out: Collector<unknown>) => void;

export class CoProcessOperator extends CoTimerOperator {
  private readonly fn1: ElementFn;
  private readonly fn2: ElementFn;
  private readonly onTimerFn: OnTimerFn | undefined;
  private readonly keyOf1: ((v: unknown) => unknown) | undefined;
  private readonly keyOf2: ((v: unknown) => unknown) | undefined;
  private readonly processContext: ProcessContext & { getCurrentKey(): unknown };
  private readonly onTimerContext: OnTimerContext<unknown>;

  constructor(setup: OperatorSetup) {
    const keyed = setup.keySelector !== undefined || setup.keySelector2 !== undefined;
    super(setup, keyed, 'keyBy() on both inputs before connect()');
    if (keyed && (!setup.keySelector || !setup.keySelector2)) {
      throw new Error(
        `operator '${this.name}': a keyed co-process needs key selectors for both inputs (keyBy() each stream before connect())`,
      );
    }
    this.keyOf1 = setup.keySelector;
    this.keyOf2 = setup.keySelector2;
    this.fn1 = coMethod(this.name, setup.userCode, 'processElement1');
    this.fn2 = coMethod(this.name, setup.userCode, 'processElement2');
    this.onTimerFn = optionalMethod(setup.userCode, 'onTimer');
    this.processContext = processContext(this);
    this.onTimerContext = onTimerContext(this);
  }

  processElement1(value: unknown, timestamp: number | undefined): void {
    this.enterRecord(timestamp);
    try {
      if (this.keyOf1) this.setCurrentKey(this.keyOf1(value));
      this.fn1(value, this.processContext, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }

  processElement2(value: unknown, timestamp: number | undefined): void {
    this.enterRecord(timestamp);
    try {
      if (this.keyOf2) this.setCurrentKey(this.keyOf2(value));
      this.fn2(value, this.processContext, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }

  protected invokeOnTimer(time: number): void {
    this.onTimerFn?.(time, this.onTimerContext, this.collector);
  }
}
