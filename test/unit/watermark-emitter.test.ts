// Periodic watermarks follow the clock, and under load the record count too: a fast source must
// not hold a whole interval's worth of window state behind each watermark.
import { describe, expect, it } from 'vitest';
import { WatermarkStrategy } from '../../api/watermark-strategy.js';
import type { Output } from '../../taskmanager/operators/operator.js';
import { SplitWatermarks } from '../../taskmanager/runtime/split-watermarks.js';
import { WATERMARK_RECORD_INTERVAL, WatermarkEmitter } from '../../taskmanager/runtime/watermark-emitter.js';
import { ManualTime } from '../helpers/manual-time.js';
import { fakeTaskServices } from '../helpers/task-services.js';

function recorder(): Output & { watermarks: number[]; records: number } {
  const o = {
    watermarks: [] as number[],
    records: 0,
    collect: () => void o.records++,
    collectSide: () => {},
    emitWatermark: (w: number) => void o.watermarks.push(w),
  };
  return o;
}

const BOUND = 100;
const strategy = () =>
  WatermarkStrategy.forBoundedOutOfOrderness<number>(BOUND).withTimestampAssigner((v) => v) as never;

describe('periodic watermarks', () => {
  it('are emitted every WATERMARK_RECORD_INTERVAL records while the interval has not elapsed', () => {
    const time = new ManualTime();
    const out = recorder();
    const e = new WatermarkEmitter(strategy(), out, fakeTaskServices({ processingTime: time }), 200, () => {});
    e.start();
    const n = 2 * WATERMARK_RECORD_INTERVAL + 7;
    for (let i = 1; i <= n; i++) e.collect(i * 10, undefined);
    // Bounded out-of-orderness: the highest timestamp so far, less the bound, less 1.
    expect(out.watermarks).toEqual([
      WATERMARK_RECORD_INTERVAL * 10 - BOUND - 1,
      2 * WATERMARK_RECORD_INTERVAL * 10 - BOUND - 1,
    ]);
    // The clock's tick emits what came since, and starts the count again.
    time.advance(200);
    expect(out.watermarks.at(-1)).toBe(n * 10 - BOUND - 1);
    for (let i = n + 1; i < n + WATERMARK_RECORD_INTERVAL; i++) e.collect(i * 10, undefined);
    expect(out.watermarks).toHaveLength(3);
    e.collect((n + WATERMARK_RECORD_INTERVAL) * 10, undefined);
    expect(out.watermarks).toHaveLength(4);
    expect(out.records).toBe(n + WATERMARK_RECORD_INTERVAL);
  });

  it('follow only the clock for a source slower than the record interval', () => {
    const time = new ManualTime();
    const out = recorder();
    const e = new WatermarkEmitter(strategy(), out, fakeTaskServices({ processingTime: time }), 200, () => {});
    e.start();
    for (let t = 1; t <= 5; t++) {
      for (let i = 0; i < 1000; i++) e.collect(t * 100_000 + i, undefined);
      expect(out.watermarks).toHaveLength(t - 1);
      time.advance(t * 200);
      expect(out.watermarks.at(-1)).toBe(t * 100_000 + 999 - BOUND - 1);
    }
  });

  it('are not emitted by count when periodic watermarks are off (interval 0)', () => {
    const time = new ManualTime();
    const out = recorder();
    const e = new WatermarkEmitter(strategy(), out, fakeTaskServices({ processingTime: time }), 0, () => {});
    e.start();
    for (let i = 1; i <= 3 * WATERMARK_RECORD_INTERVAL; i++) e.collect(i, undefined);
    time.advance(10_000);
    expect(out.watermarks).toEqual([]);
    e.endOfInput();
    expect(out.watermarks).toEqual([Number.MAX_SAFE_INTEGER]);
  });

  it('are counted per split, so a busy split does not advance past a quiet one', () => {
    const time = new ManualTime();
    const out = recorder();
    const w = new SplitWatermarks(strategy(), out, fakeTaskServices({ processingTime: time }), 200, () => {});
    w.addSplit('t-0');
    w.addSplit('t-1');
    w.start();
    w.collect('t-1', 5000, undefined);
    for (let i = 1; i <= WATERMARK_RECORD_INTERVAL; i++) w.collect('t-0', 10_000 + i, undefined);
    // t-0 emitted by count; t-1 has not emitted at all, so the source's watermark waits for it.
    expect(out.watermarks).toEqual([]);
    for (let i = 1; i < WATERMARK_RECORD_INTERVAL; i++) w.collect('t-1', 5000 + i, undefined);
    expect(out.watermarks).toEqual([5000 + WATERMARK_RECORD_INTERVAL - 1 - BOUND - 1]);
    // The quiet split overtakes: at the clock's tick the source's watermark is t-0's.
    w.collect('t-1', 50_000, undefined);
    for (let i = 1; i <= 10; i++) w.collect('t-0', 40_000 + i, undefined);
    time.advance(200);
    expect(out.watermarks.at(-1)).toBe(40_010 - BOUND - 1);
  });
});
