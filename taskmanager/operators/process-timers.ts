// The TimerService that process functions see (KeyedProcessFunction, KeyedCoProcessFunction,
// KeyedBroadcastProcessFunction): per-key timers without a namespace. Operators that are not keyed
// get the same reads, and registering a timer fails clearly, as in Flink.
import type { TimerService } from '../../api/functions.js';
import type {
  InternalTimerService,
  ProcessingTimeService,
  TimerNamespaceSerializer,
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
