// Time to live of keyed state (Flink's TtlStateFactory and AbstractTtlDecorator): values are
// stored as { v, t } with t the time of the last write (or access, with OnReadAndWrite); an expired
// value is removed when it is accessed and, unless the visibility allows it once more, is absent.
import { StateTtlConfig } from '../../api/state.js';

export interface TtlValue<V = unknown> {
  v: V;
  t: number;
}

export interface StateClock {
  /** Processing time in milliseconds. */
  now(): number;
}

export class TtlPolicy {
  readonly ttlMs: number;
  readonly updateOnRead: boolean;
  readonly returnExpired: boolean;

  constructor(
    config: StateTtlConfig,
    private readonly clock: StateClock,
  ) {
    this.ttlMs = config.ttlMs;
    this.updateOnRead = config.updateType === 'OnReadAndWrite';
    this.returnExpired = config.stateVisibility === 'ReturnExpiredIfNotCleanedUp';
  }

  now(): number {
    return this.clock.now();
  }

  isExpired(value: TtlValue, now: number): boolean {
    return value.t + this.ttlMs <= now;
  }

  wrap<V>(v: V, now: number = this.clock.now()): TtlValue<V> {
    return { v, t: now };
  }
}

/** The TTL configuration of a descriptor, if it has one (MapStateDescriptor may carry it without enableTimeToLive()). */
export function ttlConfigOf(descriptor: unknown): StateTtlConfig | undefined {
  const config = (descriptor as { ttlConfig?: unknown }).ttlConfig;
  if (config === undefined || config === null) return undefined;
  if (!(config instanceof StateTtlConfig))
    throw new TypeError(
      `state '${(descriptor as { name?: string }).name}': ttlConfig must be a StateTtlConfig (StateTtlConfig.newBuilder(ms).build())`,
    );
  return config;
}
