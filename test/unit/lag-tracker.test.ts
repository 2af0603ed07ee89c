import { afterEach, describe, expect, it, vi } from 'vitest';
import { LagTracker } from '../../taskmanager/runtime/lag-tracker.js';

afterEach(() => vi.useRealTimers());

describe('LagTracker', () => {
  it('reports nothing before a sample, then percentiles of now - timestamp', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const t = new LagTracker();
    expect(t.percentile(0.5)).toBe(-1);
    t.record(1_000_000 - 40);
    expect(t.percentile(0.5)).toBe(40);
    for (let i = 0; i < 10_000; i++) t.record(1_000_000 - (i % 100));
    expect(t.percentile(0.5)).toBeGreaterThanOrEqual(30);
    expect(t.percentile(0.5)).toBeLessThanOrEqual(70);
    expect(t.percentile(0.99)).toBeGreaterThanOrEqual(95);
    expect(t.percentile(0.99)).toBeLessThanOrEqual(99);
  });
});
