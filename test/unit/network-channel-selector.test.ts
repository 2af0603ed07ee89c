import { describe, expect, it } from 'vitest';
import type { ResultPartitionDescriptor } from '../../common/deployment.js';
import type { PartitionerKind } from '../../common/jobgraph.js';
import { assignToKeyGroup, operatorIndexForKeyGroup } from '../../common/keygroups.js';
import { consumersOf } from '../../common/partitioning.js';
import { createChannelSelector } from '../../taskmanager/network/channel-selector.js';

function desc(
  partitioner: PartitionerKind,
  consumers: number[],
  consumerParallelism = consumers.length,
  maxParallelism = 128,
): ResultPartitionDescriptor {
  return {
    edge: 0,
    partitionId: 'p.e0',
    partitioner,
    consumers,
    consumerParallelism,
    consumerMaxParallelism: maxParallelism,
  };
}

describe('channel selector', () => {
  it('hash: routes each key to the consumer owning its key group', () => {
    const p = 5;
    const maxP = 64;
    // Subpartitions in a shuffled consumer order, to check the consumer -> subpartition mapping.
    const consumers = [3, 0, 4, 1, 2];
    const sel = createChannelSelector(desc('hash', consumers, p, maxP), 0, (v) => (v as { key: unknown }).key);
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const key = i % 3 === 0 ? `user-${i}` : i * 7919;
      const sub = sel.select({ key, value: i });
      const expected = operatorIndexForKeyGroup(maxP, p, assignToKeyGroup(key, maxP));
      expect(consumers[sub]).toBe(expected);
      seen.add(sub);
    }
    expect(seen.size).toBe(p);
  });

  it('hash: requires a key selector', () => {
    expect(() => createChannelSelector(desc('hash', [0, 1]), 0)).toThrow(/key selector/);
  });

  it('rebalance: round robin over all subpartitions, starting at the producer index', () => {
    const sel = createChannelSelector(desc('rebalance', [0, 1, 2]), 4, undefined);
    expect(Array.from({ length: 7 }, () => sel.select(null))).toEqual([1, 2, 0, 1, 2, 0, 1]);
  });

  it("rescale: round robin over the producer's own subpartitions", () => {
    const consumers = consumersOf('rescale', 1, 2, 5);
    expect(consumers).toEqual([3, 4]);
    const sel = createChannelSelector(desc('rescale', consumers, 5), 1);
    expect(Array.from({ length: 5 }, () => sel.select(null))).toEqual([0, 1, 0, 1, 0]);
  });

  it('forward and global pick one fixed subpartition', () => {
    expect(createChannelSelector(desc('forward', [3], 4), 3).select('x')).toBe(0);
    const global = createChannelSelector(desc('global', [2, 0, 1]), 1);
    expect([global.select(1), global.select(2)]).toEqual([1, 1]);
    expect(() => createChannelSelector(desc('global', [1, 2], 3), 0)).toThrow(/consumer subtask 0/);
  });

  it('broadcast is marked and cannot select', () => {
    const sel = createChannelSelector(desc('broadcast', [0, 1, 2]), 0);
    expect(sel.broadcast).toBe(true);
    expect(() => sel.select(1)).toThrow(/broadcast/);
    expect(createChannelSelector(desc('rebalance', [0, 1]), 0).broadcast).toBe(false);
  });
});
