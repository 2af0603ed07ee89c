import { describe, expect, it } from 'vitest';
import { CheckpointBarrierHandler, type BarrierInfo } from '../../taskmanager/runtime/checkpoint-barrier-handler.js';

function recorder() {
  const log: string[] = [];
  const blocked = new Set<number>();
  const actions = {
    blockChannel: (c: number) => {
      blocked.add(c);
      log.push(`block ${c}`);
    },
    resumeChannel: (c: number) => {
      blocked.delete(c);
      log.push(`resume ${c}`);
    },
    triggerCheckpoint: async (b: BarrierInfo, alignment: number) => {
      log.push(`trigger ${b.checkpointId} after ${alignment}`);
    },
    abortCheckpoint: (id: number, reason: string) => {
      log.push(`abort ${id}: ${reason}`);
    },
  };
  return { log, blocked, actions };
}

const b = (id: number): BarrierInfo => ({ checkpointId: id, timestamp: 1000 + id });

describe('CheckpointBarrierHandler (EXACTLY_ONCE: aligned)', () => {
  it('holds a channel that delivered barrier n until every channel has', async () => {
    const r = recorder();
    let t = 0;
    const h = new CheckpointBarrierHandler(3, 'EXACTLY_ONCE', r.actions, () => t);
    await h.processBarrier(1, b(1));
    expect([...r.blocked]).toEqual([1]);
    expect(h.isAligning).toBe(true);
    t = 5;
    await h.processBarrier(0, b(1));
    expect([...r.blocked].sort()).toEqual([0, 1]);
    t = 12;
    await h.processBarrier(2, b(1));
    expect(r.blocked.size).toBe(0);
    expect(r.log).toEqual(['block 1', 'block 0', 'resume 0', 'resume 1', 'trigger 1 after 12']);
    expect(h.isAligning).toBe(false);
  });

  it('triggers at once with a single channel', async () => {
    const r = recorder();
    const h = new CheckpointBarrierHandler(1, 'EXACTLY_ONCE', r.actions, () => 0);
    await h.processBarrier(0, b(7));
    expect(r.log).toEqual(['trigger 7 after 0']);
  });

  it('a newer barrier aborts an unfinished alignment and starts its own', async () => {
    const r = recorder();
    const h = new CheckpointBarrierHandler(2, 'EXACTLY_ONCE', r.actions, () => 0);
    await h.processBarrier(0, b(1));
    await h.processBarrier(0, b(2)); // channel 0 moved on to checkpoint 2 (1 was given up upstream)
    expect(r.log.slice(0, 3)).toEqual([
      'block 0',
      'resume 0',
      'abort 1: barrier of checkpoint 2 arrived before checkpoint 1 was aligned',
    ]);
    await h.processBarrier(1, b(1)); // late barrier of the aborted checkpoint: ignored
    await h.processBarrier(1, b(2));
    expect(r.log.slice(3)).toEqual(['block 0', 'resume 0', 'trigger 2 after 0']);
  });

  it('a channel that ends no longer takes part in the alignment', async () => {
    const r = recorder();
    const h = new CheckpointBarrierHandler(3, 'EXACTLY_ONCE', r.actions, () => 0);
    await h.processBarrier(0, b(1));
    await h.processEndOfPartition(2);
    expect(r.log).toEqual(['block 0']);
    await h.processBarrier(1, b(1));
    expect(r.log.at(-1)).toBe('trigger 1 after 0');
    // The next checkpoint needs only the two open channels.
    await h.processBarrier(0, b(2));
    await h.processEndOfPartition(1);
    expect(r.log.at(-1)).toBe('trigger 2 after 0');
  });

  it('a cancel marker releases held channels and aborts', async () => {
    const r = recorder();
    const h = new CheckpointBarrierHandler(2, 'EXACTLY_ONCE', r.actions, () => 0);
    await h.processBarrier(0, b(3));
    h.processCancelBarrier(3);
    expect(r.blocked.size).toBe(0);
    expect(r.log).toContain('abort 3: canceled upstream');
    await h.processBarrier(1, b(3));
    expect(r.log.filter((l) => l.startsWith('trigger'))).toEqual([]);
  });
});

describe('CheckpointBarrierHandler (AT_LEAST_ONCE: tracked)', () => {
  it('never blocks and triggers when every channel delivered the barrier', async () => {
    const r = recorder();
    const h = new CheckpointBarrierHandler(2, 'AT_LEAST_ONCE', r.actions, () => 0);
    await h.processBarrier(0, b(1));
    await h.processBarrier(0, b(2));
    expect(r.blocked.size).toBe(0);
    await h.processBarrier(1, b(2));
    expect(r.log).toEqual(['abort 1: checkpoint 2 completed first', 'trigger 2 after 0']);
    await h.processBarrier(1, b(1));
    expect(r.log).toHaveLength(2);
  });
});
