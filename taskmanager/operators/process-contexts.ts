// The contexts a process function's methods receive (Flink's Context and OnTimerContext). They read
// the operator's fields when called, so one pair of objects serves every record and every timer.
import type { KeyedProcessContext, OnTimerContext, TimeDomain } from '../../api/functions.js';
import type { Output } from './operator.js';
import type { ProcessTimerService } from './process-timers.js';

/** What the contexts read from their operator. */
export interface ProcessContextHost {
  readonly output: Output;
  readonly timerService: ProcessTimerService;
  /** The current record's timestamp (undefined for none, and in a processing-time timer). */
  readonly currentTimestamp: number | undefined;
  /** Set while onTimer runs: the timer's time and domain. */
  readonly timerTime: number;
  readonly timerDomain: TimeDomain;
  getCurrentKey(): unknown;
}

export function processContext(op: ProcessContextHost): KeyedProcessContext<unknown> {
  return {
    timestamp: () => op.currentTimestamp ?? null,
    timerService: () => op.timerService,
    getCurrentKey: () => op.getCurrentKey(),
    output: (tag: { id: string }, value: unknown) => op.output.collectSide(tag.id, value, op.currentTimestamp),
  } as KeyedProcessContext<unknown>;
}

export function onTimerContext(op: ProcessContextHost): OnTimerContext<unknown> {
  return {
    ...processContext(op),
    // As Flink: the timer's time, for processing-time timers too (their output has no timestamp).
    timestamp: () => op.timerTime,
    timeDomain: () => op.timerDomain,
  };
}
