import { describe, expect, it } from 'vitest';
import {
  BoundedOutOfOrdernessWatermarks,
  WatermarkStrategy,
  type WatermarkGenerator,
  type WatermarkOutput,
} from 'weir';

/** Records what a generator emits, in order; 'E' marks where each event was handed over. */
class Recorder implements WatermarkOutput {
  readonly log: (number | string)[] = [];
  emitWatermark(w: number): void {
    this.log.push(w);
  }
  markIdle(): void {
    this.log.push('idle');
  }
  markActive(): void {
    this.log.push('active');
  }
}

function drive<T>(g: WatermarkGenerator<T>, steps: ({ event: T; ts: number } | 'tick')[]): (number | string)[] {
  const out = new Recorder();
  for (const s of steps) {
    if (s === 'tick') g.onPeriodicEmit(out);
    else g.onEvent(s.event, s.ts, out);
  }
  return out.log;
}

const ev = (ts: number) => ({ event: ts, ts });

describe('built-in watermark generators', () => {
  it('bounded out-of-orderness emits max seen - bound - 1 periodically, nothing before the first event', () => {
    const g = WatermarkStrategy.forBoundedOutOfOrderness<number>(100).createWatermarkGenerator();
    expect(g).toBeInstanceOf(BoundedOutOfOrdernessWatermarks);
    expect(drive(g, ['tick', ev(1000), 'tick', ev(900), 'tick', ev(1500), ev(1200), 'tick', 'tick'])).toEqual([
      899, 899, 1399, 1399,
    ]);
  });

  it('monotonous timestamps emit max seen - 1', () => {
    const g = WatermarkStrategy.forMonotonousTimestamps<number>().createWatermarkGenerator();
    expect(drive(g, ['tick', ev(5), 'tick', ev(7), 'tick'])).toEqual([4, 6]);
  });

  it('handles negative timestamps', () => {
    const g = WatermarkStrategy.forBoundedOutOfOrderness<number>(10).createWatermarkGenerator();
    expect(drive(g, [ev(-50), 'tick'])).toEqual([-61]);
  });

  it('noWatermarks never emits', () => {
    const g = WatermarkStrategy.noWatermarks<number>().createWatermarkGenerator();
    expect(drive(g, [ev(1), 'tick', ev(1000), 'tick'])).toEqual([]);
  });

  it('every call gives a fresh generator with its own state', () => {
    const s = WatermarkStrategy.forBoundedOutOfOrderness<number>(0);
    const a = s.createWatermarkGenerator();
    drive(a, [ev(100)]);
    expect(drive(s.createWatermarkGenerator(), ['tick'])).toEqual([]);
    expect(drive(a, ['tick'])).toEqual([99]);
  });
});

describe('WatermarkStrategy.forGenerator', () => {
  // Punctuated: a watermark right after each event that carries one.
  const punctuated = (): WatermarkGenerator<{ ts: number; mark?: boolean }> => ({
    onEvent: (e, ts, out) => {
      if (e.mark) out.emitWatermark(ts);
    },
    onPeriodicEmit: () => {},
  });

  it('uses the supplied generator, keeps it through withTimestampAssigner and withIdleness', () => {
    const s = WatermarkStrategy.forGenerator(punctuated)
      .withTimestampAssigner((e) => e.ts)
      .withIdleness(500);
    expect(s.describe()).toEqual({ kind: 'generator', idleness: 500 });
    expect(s.timestampAssigner!({ ts: 42 }, null)).toBe(42);
    const g = s.createWatermarkGenerator();
    const out = new Recorder();
    g.onEvent({ ts: 10 }, 10, out);
    g.onEvent({ ts: 20, mark: true }, 20, out);
    g.onPeriodicEmit(out);
    expect(out.log).toEqual([20]);
  });

  it('calls the supplier once per generator', () => {
    let calls = 0;
    const s = WatermarkStrategy.forGenerator(() => {
      calls++;
      return punctuated();
    });
    expect(calls).toBe(0);
    s.createWatermarkGenerator();
    s.createWatermarkGenerator();
    expect(calls).toBe(2);
  });

  it('accepts a supplier object and may mark idleness itself', () => {
    const s = WatermarkStrategy.forGenerator<number>({
      createWatermarkGenerator: () => ({
        onEvent: (_e, _t, out) => out.markActive(),
        onPeriodicEmit: (out) => out.markIdle(),
      }),
    });
    expect(drive(s.createWatermarkGenerator(), ['tick', ev(3)])).toEqual(['idle', 'active']);
  });

  it('rejects what is not a generator', () => {
    expect(() => WatermarkStrategy.forGenerator(42 as never)).toThrow(/expects a function/);
    const bad = WatermarkStrategy.forGenerator(() => ({ onEvent: () => {} }) as never);
    expect(() => bad.createWatermarkGenerator()).toThrow(/onEvent\(\) and onPeriodicEmit\(\)/);
  });

  it('keeps kind, bound and idleness visible to the runtime', () => {
    const s = WatermarkStrategy.forBoundedOutOfOrderness<number>('2 s')
      .withIdleness('1 s')
      .withTimestampAssigner((x) => x);
    expect(s.kind).toBe('boundedOutOfOrderness');
    expect(s.maxOutOfOrderness).toBe(2000);
    expect(s.idleness).toBe(1000);
    expect(drive(s.createWatermarkGenerator(), [ev(5000), 'tick'])).toEqual([2999]);
  });
});
