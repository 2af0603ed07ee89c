// BroadcastProcessFunction and KeyedBroadcastProcessFunction: input 1 is the (possibly keyed)
// data stream, input 2 the broadcast stream. Broadcast elements update the broadcast state
// (the rules-engine pattern); data elements read it. Keyed when input 1 has a key selector:
// then data elements have a current key and per-key timers.
import type { Collector, TimeDomain, TimerService } from '../../api/functions.js';
import type { BroadcastState, ReadOnlyBroadcastState } from '../../api/broadcast-state.js';
import { BroadcastStates, type BroadcastStateDescriptorLike } from './broadcast-state.js';
import { coMethod } from './co-map.js';
import { CoTimerOperator, optionalMethod } from './co-timers.js';
import { onTimerContext, processContext } from './process-contexts.js';
import type { OperatorSetup, StateInitializationContext } from './operator.js';

interface BaseContext {
  timestamp(): number | null;
  currentProcessingTime(): number;
  currentWatermark(): number;
  output(tag: { id: string }, value: unknown): void;
}

/** Context of processElement (Flink's ReadOnlyContext). */
export interface BroadcastReadOnlyContext extends BaseContext {
  getBroadcastState(descriptor: BroadcastStateDescriptorLike): ReadOnlyBroadcastState;
  timerService(): TimerService;
  getCurrentKey(): unknown;
}

/** Context of processBroadcastElement: the broadcast state is writable. */
export interface BroadcastContext extends BaseContext {
  getBroadcastState(descriptor: BroadcastStateDescriptorLike): BroadcastState;
  timerService(): TimerService;
}

export interface BroadcastOnTimerContext extends BroadcastReadOnlyContext {
  timeDomain(): TimeDomain;
}

type ElementFn = (v: unknown, ctx: BroadcastReadOnlyContext, out: Collector<unknown>) => void;
type BroadcastElementFn = (v: unknown, ctx: BroadcastContext, out: Collector<unknown>) => void;
type OnTimerFn = (t: number, ctx: BroadcastOnTimerContext, out: Collector<unknown>) => void;

export class BroadcastProcessOperator extends CoTimerOperator {
  readonly broadcastStates: BroadcastStates;
  private readonly elementFn: ElementFn;
  private readonly broadcastElementFn: BroadcastElementFn;
  private readonly onTimerFn: OnTimerFn | undefined;
  private readonly keyOf: ((v: unknown) => unknown) | undefined;
  private readonly readOnlyContext: BroadcastReadOnlyContext;
  private readonly broadcastContext: BroadcastContext;
  private readonly onTimerContext: BroadcastOnTimerContext;

  constructor(setup: OperatorSetup) {
    super(setup, setup.keySelector !== undefined, 'keyBy() before connect(broadcastStream)');
    this.keyOf = setup.keySelector;
    const d = setup.descriptor;
    // Checked again here: in-process callers (test harnesses) build descriptors without the wire's schema.
    const names: unknown = d.kind === 'broadcastProcess' ? d.config.broadcastStates : undefined;
    if (names !== undefined && !(Array.isArray(names) && names.every((n) => typeof n === 'string'))) {
      throw new Error(`operator '${this.name}': config.broadcastStates must be a list of state names`);
    }
    this.broadcastStates = new BroadcastStates(
      d.kind === 'broadcastProcess' && names !== undefined ? d.config.broadcastStates : [],
      this.name,
    );
    this.elementFn = coMethod(this.name, setup.userCode, 'processElement');
    this.broadcastElementFn = coMethod(this.name, setup.userCode, 'processBroadcastElement');
    this.onTimerFn = optionalMethod(setup.userCode, 'onTimer');
    const states = this.broadcastStates;
    // Beyond a process function's contexts: the time readings and the broadcast state.
    const clocks = {
      currentProcessingTime: () => this.timerService.currentProcessingTime(),
      currentWatermark: () => this.currentWatermark(),
    };
    this.readOnlyContext = {
      ...processContext(this),
      ...clocks,
      getBroadcastState: (d) => states.readOnly(d),
    };
    // Broadcast elements belong to no key, so they cannot set timers (Flink's Context has none).
    const noTimers = (): never => {
      throw new Error(
        `operator '${this.name}': timers cannot be set in processBroadcastElement(), which runs for no key; set them in processElement()`,
      );
    };
    const broadcastTimerService: TimerService = {
      ...clocks,
      registerEventTimeTimer: noTimers,
      registerProcessingTimeTimer: noTimers,
      deleteEventTimeTimer: noTimers,
      deleteProcessingTimeTimer: noTimers,
    };
    const { timestamp, output } = processContext(this);
    this.broadcastContext = {
      timestamp,
      output,
      ...clocks,
      getBroadcastState: (d) => states.writable(d),
      timerService: () => broadcastTimerService,
    };
    this.onTimerContext = {
      ...onTimerContext(this),
      ...clocks,
      getBroadcastState: (d) => states.readOnly(d),
    };
  }

  override async initializeState(context: StateInitializationContext): Promise<void> {
    await super.initializeState(context);
    this.broadcastStates.attach((name) => context.getBroadcastState(name));
  }

  /** Keyed state entries, timers and broadcast state entries (the state-entries metric). */
  override stateEntries(): number {
    return super.stateEntries() + this.broadcastStates.size();
  }

  processElement1(value: unknown, timestamp: number | undefined): void {
    this.enterRecord(timestamp);
    try {
      if (this.keyOf) this.setCurrentKey(this.keyOf(value));
      this.elementFn(value, this.readOnlyContext, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }

  processElement2(value: unknown, timestamp: number | undefined): void {
    this.enterRecord(timestamp);
    try {
      this.broadcastElementFn(value, this.broadcastContext, this.collector);
    } catch (e) {
      this.fail(e);
    }
  }

  protected invokeOnTimer(time: number): void {
    this.onTimerFn?.(time, this.onTimerContext, this.collector);
  }
}
