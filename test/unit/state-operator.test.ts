import { describe, expect, it } from 'vitest';
import { ListStateDescriptor } from '../../api/state.js';
import { OperatorStateBackend, redistributeOperatorState } from '../../taskmanager/state/operator-state.js';
import type { OperatorStateEntry } from '../../taskmanager/state/types.js';

/** Old subtask i holds split items i*10.., union items 'u<i>-*', and the same broadcast map. */
function oldSnapshots(parallelism: number, perSubtask: number): OperatorStateEntry[][] {
  return Array.from({ length: parallelism }, (_, i) => {
    const b = new OperatorStateBackend();
    const split = b.getListState(new ListStateDescriptor<number>('offsets'));
    const union = b.getUnionListState(new ListStateDescriptor<string>('watermarks'));
    for (let j = 0; j < perSubtask; j++) split.add(i * 100 + j);
    union.add(`u${i}`);
    const rules = b.getBroadcastMap('rules');
    rules.set('r1', { limit: 5 });
    rules.set('r2', { limit: 9 });
    return b.snapshot();
  });
}

function restored(entries: OperatorStateEntry[]) {
  const b = new OperatorStateBackend();
  b.restore(entries);
  return {
    backend: b,
    split: b.getListState(new ListStateDescriptor<number>('offsets')).get(),
    union: b.getUnionListState(new ListStateDescriptor<string>('watermarks')).get(),
    rules: b.getBroadcastMap('rules'),
  };
}

describe('operator state', () => {
  it('redistributes split, union and broadcast state for parallelism changes', () => {
    for (const [oldP, newP, per] of [
      [1, 1, 5],
      [1, 3, 7],
      [2, 1, 4],
      [3, 2, 5],
      [2, 5, 3],
      [4, 4, 1],
      [3, 7, 2],
    ]) {
      const old = oldSnapshots(oldP, per);
      const allSplit = old.flatMap((s) => s.find((e) => e.name === 'offsets')!.items);
      const got = Array.from({ length: newP }, (_, i) => restored(redistributeOperatorState(old, newP, i)));
      // Split: contiguous shares, sizes differ by at most one, nothing lost or doubled, in old order.
      expect(got.flatMap((g) => g.split)).toEqual(allSplit);
      const sizes = got.map((g) => g.split.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      got.forEach((g, i) => {
        const n = allSplit.length;
        expect(g.split).toEqual(allSplit.slice(Math.floor((i * n) / newP), Math.floor(((i + 1) * n) / newP)));
        // Union: every subtask gets every element.
        expect(g.union).toEqual(Array.from({ length: oldP }, (_, j) => `u${j}`));
        expect([...g.rules]).toEqual([
          ['r1', { limit: 5 }],
          ['r2', { limit: 9 }],
        ]);
        expect(g.backend.isRestored()).toBe(true);
      });
    }
  });

  it('takes a broadcast copy from subtask min(i, old - 1) and tolerates subtasks without state', () => {
    const a: OperatorStateEntry[] = [{ name: 'b', mode: 'broadcast', items: [['k', 'from-0']] }];
    const c: OperatorStateEntry[] = [{ name: 'b', mode: 'broadcast', items: [['k', 'from-1']] }];
    expect(redistributeOperatorState([a, c], 4, 0)[0].items).toEqual([['k', 'from-0']]);
    expect(redistributeOperatorState([a, c], 4, 3)[0].items).toEqual([['k', 'from-1']]);
    expect(redistributeOperatorState([a, []], 2, 1)[0].items).toEqual([['k', 'from-0']]);
    const split: OperatorStateEntry[] = [{ name: 's', mode: 'split', items: [1, 2, 3] }];
    expect(redistributeOperatorState([[], split], 2, 1)[0].items).toEqual([2, 3]);
    expect(() => redistributeOperatorState([split], 2, 2)).toThrow(/outside 0\.\.1/);
    expect(() => redistributeOperatorState([split, [{ name: 's', mode: 'union', items: [] }]], 1, 0)).toThrow(
      /mode split in one old subtask and union in another/,
    );
  });

  it('snapshots deep copies and keeps restored states nobody asked for', () => {
    const b = new OperatorStateBackend();
    b.restore([
      { name: 'kept', mode: 'union', items: [{ a: 1 }] },
      { name: 'list', mode: 'split', items: [{ n: 1 }] },
    ]);
    const list = b.getListState(new ListStateDescriptor<{ n: number }>('list'));
    list.add({ n: 2 });
    const snap = b.snapshot();
    list.get()[0].n = 100; // the element object is shared with the live list, not with the snapshot
    list.update([{ n: 3 }]);
    expect(snap).toEqual([
      { name: 'list', mode: 'split', items: [{ n: 1 }, { n: 2 }] },
      { name: 'kept', mode: 'union', items: [{ a: 1 }] },
    ]);
    expect(b.snapshot()).toEqual([
      { name: 'list', mode: 'split', items: [{ n: 3 }] },
      { name: 'kept', mode: 'union', items: [{ a: 1 }] },
    ]);
    list.clear();
    expect(list.get()).toEqual([]);
  });

  it('refuses mode changes with clear errors', () => {
    const b = new OperatorStateBackend();
    b.restore([{ name: 'x', mode: 'union', items: [1] }]);
    expect(() => b.getListState(new ListStateDescriptor('x'))).toThrow(
      /'x' was checkpointed with getUnionListState\(\) and cannot be restored with getListState\(\)/,
    );
    b.getListState(new ListStateDescriptor('y'));
    expect(() => b.getUnionListState(new ListStateDescriptor('y'))).toThrow(
      /'y' is registered with getListState\(\) and cannot be used with getUnionListState\(\)/,
    );
    expect(() => b.getBroadcastMap('y')).toThrow(/cannot be used with getBroadcastMap/);
    expect(() => b.restore([])).toThrow(/before any state is registered/);
    expect(new OperatorStateBackend().isRestored()).toBe(false);
  });
});
