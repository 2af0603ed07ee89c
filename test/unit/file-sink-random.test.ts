// The FileSink's exactly-once output against a plain reference, on randomized schedules with fixed
// seeds: sink subtasks driven as their tasks would drive them receive records, processing time
// passes (firing the bucket checks), checkpoints are taken, completed (their notifications sometimes
// lost) or aborted, subtasks fail and restore from the latest completed checkpoint at a random
// parallelism (the source rewinds to the checkpoint's position), and stop-with-savepoint ends a run
// that a later one resumes. At every step the committed output holds no record twice and only
// records a completed checkpoint covers; after a stop it is exactly the records before the stop;
// at the end it is exactly the input.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DefaultRollingPolicy,
  OnCheckpointRollingPolicy,
  type BucketAssignerContext,
  type FileSinkBuilder,
} from '../../api/file-sink.js';
import { FINAL_CHECKPOINT_ID, type CheckpointOptions } from '../../common/checkpoint.js';
import {
  committedFiles,
  readCommittedTree,
  startSink,
  type SinkHarness,
  type StateSnapshot,
} from '../helpers/file-sink-harness.js';
import { ManualTime } from '../helpers/manual-time.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { mulberry32 } from '../reference/random.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-file-sink-random-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const KEYS = 11;
const keyOf = (i: number) => (i * 7919) % KEYS;
const line = (i: number) => `r${i}`;
const indexOf = (l: string) => Number(l.slice(1));
/** The reference: records 0..n-1, each once. */
const reference = (n: number) => Array.from({ length: n }, (_, i) => line(i));

interface Completed {
  id: number;
  /** Records emitted before the barrier (the source's position in the checkpoint). */
  pos: number;
  parallelism: number;
  states: StateSnapshot[];
}

interface Scenario {
  seed: number;
  records: number;
  configure: (b: FileSinkBuilder<string>) => FileSinkBuilder<string>;
}

interface Stats {
  checkpoints: number;
  completed: number;
  failures: number;
  rescales: number;
  stops: number;
  maxVisibleDuringRun: number;
}

async function runScenario(sc: Scenario): Promise<Stats> {
  const random = mulberry32(sc.seed);
  const time = new ManualTime();
  const stats: Stats = { checkpoints: 0, completed: 0, failures: 0, rescales: 0, stops: 0, maxVisibleDuringRun: 0 };
  let parallelism = 2;
  let subtasks: SinkHarness[] = [];
  let pos = 0;
  let nextId = 1;
  let latest: Completed | undefined;

  const start = async (p: number, from: Completed | undefined) => {
    subtasks = [];
    for (let i = 0; i < p; i++)
      subtasks.push(
        await startSink(dir, {
          subtaskIndex: i,
          parallelism: p,
          time,
          configure: sc.configure,
          restoreFrom: from?.states,
        }),
      );
    parallelism = p;
    pos = from?.pos ?? 0;
  };

  /** Committed output: no record twice, and none a completed checkpoint does not cover. */
  const checkVisible = (where: string) => {
    const lines = readCommittedTree(dir);
    const seen = new Set<string>();
    for (const l of lines) {
      if (seen.has(l)) throw new Error(`${where}: ${l} is committed twice`);
      seen.add(l);
      if (!latest || indexOf(l) >= latest.pos)
        throw new Error(
          `${where}: ${l} is committed but no completed checkpoint covers it (covered: ${latest?.pos ?? 0})`,
        );
    }
    stats.maxVisibleDuringRun = Math.max(stats.maxVisibleDuringRun, lines.length);
    return lines;
  };

  const snapshotAll = async (id: number, options?: CheckpointOptions): Promise<Completed> => {
    const states: StateSnapshot[] = [];
    for (const s of subtasks) states.push(await s.checkpoint(id, options));
    stats.checkpoints++;
    return { id, pos, parallelism, states };
  };

  const closeAll = async () => {
    for (const s of subtasks) await s.op.close();
  };

  await start(parallelism, undefined);
  while (pos < sc.records) {
    const r = random();
    if (r < 0.5) {
      const n = 1 + Math.floor(random() * 40);
      for (let k = 0; k < n && pos < sc.records; k++, pos++) subtasks[keyOf(pos) % parallelism]!.write(line(pos));
    } else if (r < 0.65) {
      const to = time.now() + Math.floor(random() * 12) * 250;
      for (let t = time.now() + 250; t < to; t += 250) time.advance(t);
      time.advance(to);
    } else if (r < 0.85) {
      const savepoint = random() < 0.1;
      const cp = await snapshotAll(nextId++, savepoint ? { savepoint: true } : undefined);
      if (random() < 0.75) {
        latest = cp;
        stats.completed++;
        // Each subtask hears of it, or not (a lost notification: a later one, or the restore, commits).
        for (const s of subtasks) if (random() < 0.85) await s.op.notifyCheckpointComplete(cp.id);
      } else {
        for (const s of subtasks) if (random() < 0.5) await s.op.notifyCheckpointAborted(cp.id);
      }
      checkVisible(`after checkpoint ${cp.id}`);
    } else if (r < 0.95) {
      // A failure: everything stops (a full restart) and restores the latest completed checkpoint.
      await closeAll();
      stats.failures++;
      const p = 1 + Math.floor(random() * 3);
      if (p !== parallelism) stats.rescales++;
      await start(p, latest);
      checkVisible('after a restore');
    } else {
      // Stop-with-savepoint, then a new run from it at a random parallelism.
      const sp = await snapshotAll(nextId++, { savepoint: true, stop: true });
      latest = sp;
      stats.completed++;
      for (const s of subtasks) await s.op.notifyCheckpointComplete(sp.id);
      await closeAll();
      stats.stops++;
      const lines = checkVisible(`after stop-with-savepoint ${sp.id}`);
      expect(
        multisetDiff(lines, reference(sp.pos)),
        `stop-with-savepoint ${sp.id} publishes everything it covers`,
      ).toEqual(NO_DIFF);
      const p = 1 + Math.floor(random() * 3);
      if (p !== parallelism) stats.rescales++;
      await start(p, sp);
    }
  }
  // End of input: finish, the final checkpoint, and its completion.
  for (const s of subtasks) await s.op.finish();
  for (const s of subtasks) await s.checkpoint(FINAL_CHECKPOINT_ID);
  for (const s of subtasks) await s.op.notifyCheckpointComplete(FINAL_CHECKPOINT_ID);
  await closeAll();
  const lines = readCommittedTree(dir);
  expect(multisetDiff(lines, reference(sc.records))).toEqual(NO_DIFF);
  expect(lines.length).toBe(sc.records);
  return stats;
}

const defaultPolicy = (b: FileSinkBuilder<string>) =>
  b
    .withRollingPolicy(DefaultRollingPolicy.builder().withRolloverInterval(5000).withInactivityInterval(2000).build())
    .withBucketCheckInterval(500);
const smallParts = (b: FileSinkBuilder<string>) =>
  b
    .withRollingPolicy(
      DefaultRollingPolicy.builder()
        .withRolloverInterval(4000)
        .withInactivityInterval(1500)
        .withMaxPartSize(120)
        .build(),
    )
    .withBucketCheckInterval(750);
/** Buckets by processing time and record: nested directories that come and go. */
const buckets = (b: FileSinkBuilder<string>) =>
  smallParts(b).withBucketAssigner({
    getBucketId: (e: string, ctx: BucketAssignerContext) =>
      `t${Math.floor(ctx.currentProcessingTime() / 3000)}/k${indexOf(e) % 3}`,
  });
const onCheckpoint = (b: FileSinkBuilder<string>) => b.withRollingPolicy(OnCheckpointRollingPolicy.build());

describe('FileSink exactly-once against the reference (randomized, fixed seeds)', () => {
  const cases: [string, (b: FileSinkBuilder<string>) => FileSinkBuilder<string>, number[]][] = [
    ['default rolling policy (time and inactivity)', defaultPolicy, [1, 2, 3]],
    ['small parts (rolled by size)', smallParts, [4, 5]],
    ['buckets by time and record', buckets, [6, 7, 8]],
    ['OnCheckpointRollingPolicy', onCheckpoint, [9]],
  ];
  for (const [name, configure, seeds] of cases) {
    for (const seed of seeds) {
      it(`${name}, seed ${seed}`, async () => {
        const stats = await runScenario({ seed, records: 2500, configure });
        // The schedule did exercise what it is meant to.
        expect(stats.completed).toBeGreaterThan(5);
        expect(stats.failures).toBeGreaterThan(0);
        expect(stats.rescales).toBeGreaterThan(0);
        expect(stats.maxVisibleDuringRun).toBeGreaterThan(0);
      }, 60_000);
    }
  }

  it('the schedules together include stops with savepoints', async () => {
    let stops = 0;
    for (const seed of [11, 12, 13]) {
      rmSync(dir, { recursive: true, force: true });
      stops += (await runScenario({ seed, records: 1500, configure: buckets })).stops;
    }
    expect(stops).toBeGreaterThan(0);
  }, 60_000);
});

describe('FileSink part count', () => {
  it('is bounded by the rolling policy, not by the number of checkpoints', async () => {
    const time = new ManualTime();
    const count = async (configure: (b: FileSinkBuilder<string>) => FileSinkBuilder<string>, sub: string) => {
      const out = join(dir, sub);
      const s = [0, 1].map((i) => startSink(out, { subtaskIndex: i, parallelism: 2, time, configure }));
      const sinks = await Promise.all(s);
      let i = 0;
      // 200 checkpoints, 200 ms apart (40 s), records in between.
      for (let id = 1; id <= 200; id++) {
        for (let k = 0; k < 10; k++, i++) sinks[i % 2]!.write(line(i));
        time.advance(time.now() + 200);
        for (const x of sinks) await x.checkpoint(id);
        for (const x of sinks) await x.op.notifyCheckpointComplete(id);
      }
      for (const x of sinks) await x.op.finish();
      for (const x of sinks) await x.checkpoint(FINAL_CHECKPOINT_ID);
      for (const x of sinks) await x.op.notifyCheckpointComplete(FINAL_CHECKPOINT_ID);
      for (const x of sinks) await x.op.close();
      expect(multisetDiff(readCommittedTree(out), reference(i))).toEqual(NO_DIFF);
      return committedFiles(out).length;
    };
    // Flink's defaults (60 s): one part per subtask for 40 s of checkpoints.
    expect(await count((b) => b, 'default')).toBe(2);
    // A 10 s rollover interval: a part per subtask every 10 s (checked every second).
    const tenSeconds = await count(
      (b) =>
        b
          .withRollingPolicy(DefaultRollingPolicy.builder().withRolloverInterval(10_000).build())
          .withBucketCheckInterval(1000),
      'ten',
    );
    expect(tenSeconds).toBeGreaterThanOrEqual(8);
    expect(tenSeconds).toBeLessThanOrEqual(10);
    // OnCheckpointRollingPolicy: a part per subtask and checkpoint.
    expect(await count(onCheckpoint, 'per-checkpoint')).toBe(400);
  }, 60_000);
});
