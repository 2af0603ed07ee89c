// The window-function variants the window operator tests run on `{key, v}` records: a reduce, an
// aggregate, a process function, and process functions behind either. Each test file supplies
// its own aggregate and rendering where it checks something particular (merge reusing its
// argument, elements in arrival order).
import type { Collector } from '../../api/functions.js';
import type { TimeWindow } from '../../api/windowing/time-window.js';
import type { AggregateFunction, ProcessWindowContext, Window, WindowOperatorSpec } from '../../api/windowing/types.js';

export interface Rec {
  key: string;
  v: number;
}

export type Variant = 'reduce' | 'aggregate' | 'process' | 'reduce+process' | 'aggregate+process';

export const sumReduce = (a: unknown, b: unknown): unknown => ({ key: (a as Rec).key, v: (a as Rec).v + (b as Rec).v });

export const tw = (ctx: ProcessWindowContext<Window>) => ctx.window as TimeWindow;

export type RenderFunction = (
  key: unknown,
  ctx: ProcessWindowContext<Window>,
  elements: Iterable<unknown>,
  out: Collector<unknown>,
) => void;

export function variantSpec(
  variant: Variant,
  aggregate: AggregateFunction<unknown, unknown, unknown>,
  render: RenderFunction,
): Partial<WindowOperatorSpec> {
  switch (variant) {
    case 'reduce':
      return { reduceFunction: sumReduce };
    case 'aggregate':
      return { aggregateFunction: aggregate };
    case 'process':
      return { windowFunction: render };
    case 'reduce+process':
      return { reduceFunction: sumReduce, windowFunction: render };
    case 'aggregate+process':
      return { aggregateFunction: aggregate, windowFunction: render };
  }
}
