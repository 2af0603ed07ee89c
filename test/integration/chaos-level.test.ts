// Exactly-once under failures with the level state backend: see test/helpers/chaos.ts.
import { describe, expect, it } from 'vitest';
import { runChaos } from '../helpers/chaos.js';

describe('chaos (level backend)', () => {
  it('commits exactly the reference output while TaskManagers are SIGKILLed five times', async () => {
    const r = await runChaos('level', { orders: 32_000, rate: 800, kills: 5 });
    expect(r.kills).toBe(5);
    expect(r.restarts).toBeGreaterThanOrEqual(5);
    expect(r.completedCheckpoints).toBeGreaterThan(5);
  }, 300_000);
});
