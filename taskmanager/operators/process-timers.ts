// The TimerService that process functions see (KeyedProcessFunction, KeyedCoProcessFunction,
// KeyedBroadcastProcessFunction): per-key timers without a namespace. Operators that are not keyed
// get the same reads, and registering a timer fails clearly, as in Flink.
import type { TimerService } from '../../api/functions.js';
import {
  InternalTimerService,
  type KeyContext,
  type ProcessingTimeService,
  type TimerNamespaceSerializer,
  type Triggerable,
} from '../runtime/timer-service.js';
import { VOID_NAMESPACE } from '../state/types.js';

/** Process functions run without a namespace (Flink's VoidNamespace). */
const VOID = null;

export class ProcessTimerService implements TimerService {
  constructor(
    private readonly operatorName: string,
    private readonly timers: InternalTimerService<null> | undefined,
    private readonly processingTime: ProcessingTimeService,
    private readonly watermark: () => number,
    /** How the user makes the stream keyed, for the error message. */
    private readonly notKeyedHint: string,
  ) {}

  currentProcessingTime(): number {
    return this.processingTime.now();
  }

  currentWatermark(): number {
    return this.watermark();
  }

  private keyed(): InternalTimerService<null> {
    if (!this.timers)
      throw new Error(
        `operator '${this.operatorName}': timers are only available on keyed streams (${this.notKeyedHint})`,
      );
    return this.timers;
  }

  registerEventTimeTimer(time: number): void {
    this.keyed().registerEventTimeTimer(VOID, time);
  }

  registerProcessingTimeTimer(time: number): void {
    this.keyed().registerProcessingTimeTimer(VOID, time);
  }

  deleteEventTimeTimer(time: number): void {
    this.keyed().deleteEventTimeTimer(VOID, time);
  }

  deleteProcessingTimeTimer(time: number): void {
    this.keyed().deleteProcessingTimeTimer(VOID, time);
  }
}

/** Timers of process functions have no namespace: snapshots write the void namespace. */
export const VOID_TIMER_NAMESPACE: TimerNamespaceSerializer<null> = {
  serialize: () => VOID_NAMESPACE,
  deserialize: () => VOID,
};

/**
 * A process function's timers (none when the operator is not keyed) and the TimerService it sees.
 * @param notKeyedHint how the user makes the stream keyed, for the error an unkeyed timer gets
 */
export function processFunctionTimers(
  operator: KeyContext & Triggerable<null> & { readonly name: string },
  keyed: boolean,
  processingTime: ProcessingTimeService,
  watermark: () => number,
  notKeyedHint: string,
): { timers: InternalTimerService<null> | undefined; timerService: ProcessTimerService } {
  const timers = keyed
    ? new InternalTimerService<null>(operator, operator, processingTime, () => '', 'user-timers', VOID_TIMER_NAMESPACE)
    : undefined;
  const timerService = new ProcessTimerService(operator.name, timers, processingTime, watermark, notKeyedHint);
  return { timers, timerService };
}
