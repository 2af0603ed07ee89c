// A rate-limited or endless DataGeneratorSource's subtasks generate interleaved indexes, so their
// event times advance together; a bounded one without a limit reads ranges handed out on request.
// Every index is generated exactly once, also across a rescale.
import { describe, expect, it } from 'vitest';
import type { OperatorDescriptor } from '../../common/jobgraph.js';
import type { Output } from '../../taskmanager/operators/operator.js';
import type { IndexRange } from '../../common/control.js';
import { initialSplit, splitSize } from '../../common/generator-splits.js';
import { createSourceReader, type SourceReader } from '../../taskmanager/connectors/source-readers.js';
import type { SplitRequester } from '../../taskmanager/connectors/split-requests.js';
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
  // A reader waiting for splits emits nothing: what it has is read.
  while (got.length < max && !reader.finished) if (reader.emitBatch(Math.min(7, max - got.length), out) === 0) break;
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

/** An enumerator as the JobManager's: ranges in order after the subtasks' initial ones; answers when `answer()` runs. */
class TestEnumerator {
  private next: number;
  readonly requests: number[] = [];

  constructor(
    private readonly count: number,
    private readonly parallelism: number,
    next?: number,
  ) {
    this.next = next ?? initialSplit(count, parallelism, parallelism - 1).end;
  }

  requester(subtask: number): SplitRequester {
    return { requestSplit: () => this.requests.push(subtask) };
  }

  /** Answers the oldest request. */
  answer(readers: SourceReader[]): void {
    const subtask = this.requests.shift()!;
    const start = this.next;
    this.next = Math.min(this.count, start + splitSize(this.count, this.parallelism));
    const ranges: IndexRange[] = start < this.next ? [{ start, end: this.next }] : [];
    readers[subtask]!.addSplits!({ ranges, files: [], noMoreSplits: ranges.length === 0 });
  }
}

function onRequest(count: number, parallelism: number, enumerator: TestEnumerator): SourceReader[] {
  const source = { generatorFunction: (i: number) => i, count };
  return Array.from({ length: parallelism }, (_, subtaskIndex) =>
    createSourceReader(
      op,
      source,
      fakeTaskServices({ processingTime, subtaskIndex, parallelism }),
      'Generator',
      enumerator.requester(subtaskIndex),
    ),
  );
}

describe('DataGeneratorSource splits handed out on request', () => {
  it('reads its initial range, asks for more ahead of need, and ends only when told there is no more', async () => {
    const count = 1000;
    const e = new TestEnumerator(count, 2);
    const [r0, r1] = onRequest(count, 2, e);
    await r0!.start!(undefined as never);
    await r1!.start!(undefined as never);
    // One request each at the start: a subtask holding one range asks for the next.
    expect(e.requests).toEqual([0, 1]);
    const size = splitSize(count, 2);
    expect(read(r0!, size)).toEqual(Array.from({ length: size }, (_, k) => k));
    let waited = false;
    void r0!.available!().then(() => (waited = true));
    expect(r0!.finished).toBe(false);
    // Subtask 0 is faster: it gets every range until none is left.
    const seen = [...read(r1!, 5)];
    const r0seen: number[] = [];
    while (e.requests.length > 0) {
      const subtask = e.requests[0]!;
      e.answer([r0!, r1!]);
      if (subtask === 0) r0seen.push(...read(r0!, Infinity));
    }
    await Promise.resolve();
    expect(waited).toBe(true);
    expect(r0!.finished).toBe(true);
    expect(r1!.finished).toBe(false);
    seen.push(...read(r1!, Infinity));
    while (e.requests.length > 0) e.answer([r0!, r1!]);
    expect(r1!.finished).toBe(true);
    const all = [...Array.from({ length: size }, (_, k) => k), ...r0seen, ...seen].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: count }, (_, k) => k));
    expect(r0seen.length).toBeGreaterThan(seen.length);
  });

  it('keeps its ranges in its snapshot: restored at another parallelism with the enumerator, each index once', () => {
    const count = 5000;
    for (const [from, to] of [
      [2, 3],
      [3, 2],
    ] as const) {
      const e = new TestEnumerator(count, from);
      const before = onRequest(count, from, e);
      const seen: number[] = [];
      for (const [i, r] of before.entries()) {
        void r.start!(undefined as never);
        seen.push(...read(r, 100 + 37 * i));
      }
      e.answer(before);
      const snapshots = before.map((r) => [{ name: 'splits', mode: 'split' as const, items: r.snapshotSplits(1) }]);
      const next = (e as unknown as { next: number }).next;
      // A new attempt: the enumerator from its snapshot, the readers from theirs.
      const e2 = new TestEnumerator(count, to, next);
      const after = onRequest(count, to, e2);
      for (const [i, r] of after.entries()) {
        r.restoreSplits(redistributeOperatorState(snapshots, to, i)[0]!.items);
        void r.start!(undefined as never);
      }
      while (after.some((r) => !r.finished)) {
        for (const r of after) seen.push(...read(r, 50));
        while (e2.requests.length > 0) e2.answer(after);
      }
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, k) => k));
    }
  });

  it('reads interleaved, asking nothing, when alone', () => {
    const e = new TestEnumerator(100, 1);
    const [r] = onRequest(100, 1, e);
    expect(r!.start).toBeUndefined();
    expect(read(r!, Infinity)).toEqual(Array.from({ length: 100 }, (_, k) => k));
    expect(e.requests).toEqual([]);
  });

  it('a rate-limited generator restored from ranges handed out on request takes what was not handed out, interleaved', () => {
    const count = 1000;
    const e = new TestEnumerator(count, 2);
    const before = onRequest(count, 2, e);
    const seen = before.flatMap((r, i) => read(r, 10 + 7 * i));
    const snapshots = before.map((r) => [{ name: 'splits', mode: 'split' as const, items: r.snapshotSplits(1) }]);
    const next = (e as unknown as { next: number }).next;
    for (const [i, r] of readers(count, 3).entries()) {
      r.restoreSplits(redistributeOperatorState(snapshots, 3, i)[0]!.items);
      r.restoreUnassigned!(next);
      seen.push(...read(r, Infinity));
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, k) => k));
  });

  it('splits in ranges of at most 50 000 indexes, at least 16 per subtask otherwise', () => {
    expect(splitSize(6_000_000, 2)).toBe(50_000);
    expect(splitSize(1000, 2)).toBe(32);
    expect(splitSize(3, 4)).toBe(1);
    expect(initialSplit(10, 4, 3)).toEqual({ start: 3, end: 4 });
    expect(initialSplit(2, 4, 3)).toEqual({ start: 2, end: 2 });
  });
});
