// Window function shapes beyond the contract: Flink's ProcessWindowFunction and
// ProcessAllWindowFunction base classes, and the all-window function (no key) of windowAll.
import { AbstractRichFunction, type Collector } from '../functions.js';
import type { ProcessWindowContext, Window } from './types.js';

export type { AggregateFunction, ProcessWindowContext, ProcessWindowFunctionLike } from './types.js';

export abstract class ProcessWindowFunction<IN, OUT, K, W extends Window = Window> extends AbstractRichFunction {
  abstract process(key: K, context: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): void;
}

/** windowAll's window function: like a ProcessWindowFunction, without the key. */
export type ProcessAllWindowFunctionLike<IN, OUT, W extends Window = Window> =
  | ((context: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>) => void)
  | {
      process(context: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): void;
      open?(ctx: unknown): unknown;
      close?(): unknown;
    };

export abstract class ProcessAllWindowFunction<IN, OUT, W extends Window = Window> extends AbstractRichFunction {
  abstract process(context: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): void;
}
