// A DataGeneratorSource's subtasks generate interleaved indexes, bounded or not, so their event
// times advance together; every index is generated exactly once, also across a rescale.
import { describe, expect, it } from 'vitest';
import type { OperatorDescriptor } from '../../common/jobgraph.js';
import type { Output } from '../../taskmanager/operators/operator.js';
import { createSourceReader, type SourceReader } from '../../taskmanager/connectors/source-readers.js';
import { redistributeOperatorState } from '../../taskmanager/state/operator-state.js';
import { fakeTaskServices } from '../helpers/task-services.js';

const op = { kind: 'source', config: { sourceKind: 'datagen' } } as unknown as OperatorDescriptor;
const processingTime = { now: () => 0, schedule: () => () => {} };

function readers(count: number, parallelism: number): SourceReader[] {
  const source = { generatorFunction: (i: number) => i, count };
  return Array.from({ length: parallelism }, (_, subtaskIndex) =>
    createSourceReader(op, source, fakeTaskServices({ processingTime, subtaskIndex, parallelism }), 'Generator'),
  );
}

function read(reader: SourceReader, max: number): number[] {
  const got: number[] = [];
  const out = { collect: (v: unknown) => got.push(v as number) } as unknown as Output;
  while (got.length < max && !reader.finished) reader.emitBatch(Math.min(7, max - got.length), out);
  return got;
}

describe('DataGeneratorSource splits', () => {
  it('gives subtask i of p the indexes i, i + p, … of a bounded count', () => {
    const [r0, r1, r2] = readers(100, 3);
    expect(read(r0!, Infinity)).toEqual(Array.from({ length: 34 }, (_, k) => 3 * k));
    expect(read(r1!, Infinity)).toEqual(Array.from({ length: 33 }, (_, k) => 3 * k + 1));
    expect(read(r2!, Infinity)).toEqual(Array.from({ length: 33 }, (_, k) => 3 * k + 2));
  });

  it('interleaves an unbounded source the same way', () => {
    const [r0, r1] = readers(Infinity, 2);
    expect(read(r0!, 5)).toEqual([0, 2, 4, 6, 8]);
    expect(read(r1!, 5)).toEqual([1, 3, 5, 7, 9]);
    expect(r0!.finished).toBe(false);
  });

  it('generates each index once when restored at another parallelism', () => {
    const count = 1000;
    for (const [from, to] of [
      [3, 2],
      [2, 5],
      [4, 1],
    ] as const) {
      const before = readers(count, from);
      const seen = before.flatMap((r, i) => read(r, 40 + 13 * i));
      const snapshots = before.map((r) => [{ name: 'splits', mode: 'split' as const, items: r.snapshotSplits(1) }]);
      for (const [i, r] of readers(count, to).entries()) {
        r.restoreSplits(redistributeOperatorState(snapshots, to, i)[0]!.items);
        seen.push(...read(r, Infinity));
      }
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, k) => k));
    }
  });
});
