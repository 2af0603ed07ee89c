// The JobManager's split enumerators: where a new attempt starts (from the start, from a snapshot's
// enumerator state, from a snapshot of interleaved splits), and that splits and checkpoint triggers
// reach a subtask in the order that keeps a snapshot consistent, whatever the calls' delays.
import { describe, expect, it } from 'vitest';
import type { CheckpointMetadata } from '../../common/checkpoint.js';
import type { AddSplitsRequest } from '../../common/control.js';
import { splitSize } from '../../common/generator-splits.js';
import type { JobVertex } from '../../common/jobgraph.js';
import { SourceCoordinator, checkEnumeratorStates, unassignedFrom } from '../../jobmanager/source-coordinator.js';
import { mulberry32 } from '../reference/random.js';
import { savepointMetadata } from '../helpers/descriptors.js';

const OP = 'op-gen';

function vertex(count: number, parallelism: number, ratePerSecond?: number): JobVertex {
  return {
    id: OP,
    name: 'Source: Gen',
    parallelism,
    maxParallelism: 128,
    numInputs: 0,
    operators: [
      {
        id: OP,
        name: 'Source: Gen',
        kind: 'source',
        config: { sourceKind: 'datagen', bounded: true, count, ...(ratePerSecond ? { ratePerSecond } : {}) },
      },
    ] as unknown as JobVertex['operators'],
  };
}

function metadata(op: Record<string, unknown> | undefined): CheckpointMetadata {
  return savepointMetadata(
    op ? [{ operatorId: OP, name: 'Source: Gen', parallelism: 2, maxParallelism: 128, subtasks: [], ...op }] : [],
  );
}

/** A coordinator whose sends are recorded (and settle at once). */
function recording(): { coord: SourceCoordinator; sent: AddSplitsRequest[]; undelivered: string[] } {
  const sent: AddSplitsRequest[] = [];
  const undelivered: string[] = [];
  const coord = new SourceCoordinator('j', {
    send: async (r) => {
      sent.push(r);
    },
    undelivered: (_e, message) => undelivered.push(message),
    failed: (m) => {
      throw new Error(m);
    },
    warn: () => {},
  });
  return { coord, sent, undelivered };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('SourceCoordinator', () => {
  it('hands out what follows the initial ranges, then no more', async () => {
    const { coord, sent } = recording();
    const count = 1000;
    coord.reset([vertex(count, 2)], undefined);
    const size = splitSize(count, 2);
    for (let k = 0; k < 40; k++) coord.onSplitRequest('e0', OP);
    await flush();
    expect(sent[0]!.ranges).toEqual([{ start: 2 * size, end: 3 * size }]);
    const ranges = sent.flatMap((r) => r.ranges);
    expect(ranges.at(-1)!.end).toBe(count);
    expect(ranges.reduce((n, r) => n + r.end - r.start, 0)).toBe(count - 2 * size);
    expect(sent.at(-1)).toMatchObject({ ranges: [], noMoreSplits: true });
    expect(coord.snapshot()).toEqual({ [OP]: { next: count } });
  });

  it('resumes from a snapshot: its enumerator state, none left for interleaved splits, an error for a damaged one', async () => {
    const { coord, sent } = recording();
    coord.reset([vertex(1000, 3)], metadata({ coordinatorState: { next: 700 } }));
    coord.onSplitRequest('e0', OP);
    coord.reset([vertex(1000, 3)], metadata({}));
    coord.onSplitRequest('e1', OP);
    await flush();
    expect(sent.map((r) => [r.executionId, r.ranges[0]?.start, r.noMoreSplits])).toEqual([
      ['e0', 700, false],
      ['e1', undefined, true],
    ]);
    expect(() => coord.reset([vertex(1000, 3)], metadata({ coordinatorState: { next: -1 } }))).toThrow(
      "the checkpoint's split enumerator state of source 'Source: Gen' is not valid: {\"next\":-1}",
    );
    expect(() => checkEnumeratorStates([vertex(1000, 3)], metadata({ coordinatorState: 'x' }))).toThrow(/not valid/);
    // A rate-limited generator has no enumerator: its subtasks take what was not handed out, interleaved.
    expect(() => checkEnumeratorStates([vertex(1000, 3, 50)], metadata({ coordinatorState: 'x' }))).toThrow(
      /not valid/,
    );
    const saved = metadata({ coordinatorState: { next: 700 } }).operators[0];
    expect(unassignedFrom(vertex(1000, 3, 50), saved)).toBe(700);
    expect(unassignedFrom(vertex(500, 3, 50), saved)).toBe(500);
    expect(unassignedFrom(vertex(1000, 3), saved)).toBeUndefined();
    // Alone, a subtask reads interleaved (stride 1): it takes the rest itself.
    expect(unassignedFrom(vertex(1000, 1), saved)).toBe(700);
    expect(unassignedFrom(vertex(1000, 3, 50), metadata({}).operators[0])).toBeUndefined();
  });

  it('a failed send fails the subtask over; a request for a source without an enumerator too', async () => {
    const undelivered: string[] = [];
    const coord = new SourceCoordinator('j', {
      send: () => Promise.reject(new Error('TaskManager gone')),
      undelivered: (e, message) => undelivered.push(`${e}: ${message}`),
      failed: (m) => {
        throw new Error(m);
      },
      warn: () => {},
    });
    coord.reset([vertex(1000, 2)], undefined);
    coord.onSplitRequest('e0', OP);
    coord.onSplitRequest('e1', 'other');
    await flush();
    expect(undelivered).toEqual([
      'e1: source operator other hands out no splits on request',
      'e0: the split [64, 96) could not be handed to the subtask: TaskManager gone',
    ]);
  });

  it('a split handed out before a snapshot reaches the subtask before that checkpoint’s trigger, one after it after', async () => {
    const random = mulberry32(42);
    const delay = () => new Promise((r) => setTimeout(r, Math.floor(random() * 3)));
    const log = new Map<string, Array<{ trigger: number; next: number } | { start: number; end: number }>>();
    const arrive = (e: string, entry: { trigger: number; next: number } | { start: number; end: number }) => {
      if (!log.has(e)) log.set(e, []);
      log.get(e)!.push(entry);
    };
    const coord = new SourceCoordinator('j', {
      // The reply comes after the TaskManager passed the call on; a delay before and after.
      send: async (r) => {
        await delay();
        for (const x of r.ranges) arrive(r.executionId, x);
        await delay();
      },
      undelivered: (_e, m) => {
        throw new Error(m);
      },
      failed: (m) => {
        throw new Error(m);
      },
      warn: () => {},
    });
    const count = 200_000;
    const subtasks = ['e0', 'e1', 'e2'];
    coord.reset([vertex(count, 3)], undefined);
    const work: Promise<unknown>[] = [];
    for (let step = 0; step < 400; step++) {
      const r = random();
      if (r < 0.1) {
        // A checkpoint: the snapshot and the triggers in one turn, as the checkpoint coordinator does.
        const next = (coord.snapshot()[OP] as { next: number }).next;
        for (const e of subtasks)
          work.push(
            coord.inOrder(e, async () => {
              await delay();
              arrive(e, { trigger: step, next });
              await delay();
            }),
          );
      } else coord.onSplitRequest(subtasks[Math.floor(r * 30) % 3]!, OP);
      if (random() < 0.3) await delay();
    }
    await Promise.all(work);
    await new Promise((r) => setTimeout(r, 50));
    let triggers = 0;
    for (const entries of log.values()) {
      for (const [j, entry] of entries.entries()) {
        if (!('trigger' in entry)) continue;
        triggers++;
        for (const before of entries.slice(0, j))
          if ('end' in before) expect(before.end).toBeLessThanOrEqual(entry.next);
        for (const after of entries.slice(j + 1))
          if ('start' in after) expect(after.start).toBeGreaterThanOrEqual(entry.next);
      }
    }
    expect(triggers).toBeGreaterThan(20);
  });
});
