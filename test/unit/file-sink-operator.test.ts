import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BasePathBucketAssigner,
  DateTimeBucketAssigner,
  DefaultRollingPolicy,
  FileSink,
  OnCheckpointRollingPolicy,
  OutputFileConfig,
  type BucketAssignerContext,
  type FileSinkBuilder,
} from '../../api/file-sink.js';
import { FINAL_CHECKPOINT_ID } from '../../common/checkpoint.js';
import { FILE_SINK_STATE_NAME } from '../../taskmanager/operators/file-sink-operator.js';
import {
  committedFiles,
  filesBelow,
  readCommittedTree,
  startSink,
  type SinkOptions,
  type StateSnapshot,
} from '../helpers/file-sink-harness.js';
import { ManualTime } from '../helpers/manual-time.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-file-sink-op-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const sink = (o: SinkOptions = {}) => startSink(dir, o);
const files = () => filesBelow(dir);
const visible = () => readCommittedTree(dir);

/** The writer state entries a checkpoint stored. */
function entries(state: StateSnapshot): { subtaskIndex: number; pending: unknown[]; inProgress: unknown[] }[] {
  return state.get(FILE_SINK_STATE_NAME)!.items as never;
}

/** Moves processing time to `to` in steps of `step`, as a running task's clock passes its timers. */
function runTo(time: ManualTime, to: number, step = 1000): void {
  for (let t = time.now() + step; t < to; t += step) time.advance(t);
  time.advance(to);
}

const rolling = (rollover: number, inactivity: number, size?: number) => {
  let b = DefaultRollingPolicy.builder().withRolloverInterval(rollover).withInactivityInterval(inactivity);
  if (size !== undefined) b = b.withMaxPartSize(size);
  return b.build();
};
const withPolicy =
  (p: ReturnType<typeof rolling> | OnCheckpointRollingPolicy, check = 1000) =>
  (b: FileSinkBuilder<string>) =>
    b.withRollingPolicy(p).withBucketCheckInterval(check);
const onCheckpoint = withPolicy(OnCheckpointRollingPolicy.build());

// ---------------------------------------------------------------------------------------------

describe('FileSinkOperator with checkpointing and the DefaultRollingPolicy', () => {
  it('keeps a part in progress across checkpoints, recording its name and valid length', async () => {
    const s = await sink();
    s.write('a', 'b');
    expect(files()).toEqual(['.part-0-0.inprogress']);
    const st1 = await s.checkpoint(1);
    expect(st1.get(FILE_SINK_STATE_NAME)).toEqual({
      mode: 'union',
      items: [
        {
          dir,
          subtaskIndex: 0,
          pending: [],
          inProgress: [{ name: 'part-0-0', size: 4, creationTime: 0, lastUpdateTime: 0 }],
        },
      ],
    });
    // What the checkpoint recorded is on disk (flushed), the part still open.
    expect(readFileSync(join(dir, '.part-0-0.inprogress'), 'utf8')).toBe('a\nb\n');
    s.time.advance(500);
    s.write('c');
    const st2 = await s.checkpoint(2);
    expect(entries(st2)[0]!.inProgress).toEqual([{ name: 'part-0-0', size: 6, creationTime: 0, lastUpdateTime: 500 }]);
    await s.op.notifyCheckpointComplete(1);
    await s.op.notifyCheckpointComplete(2);
    // Not rolled: nothing visible, one part file for any number of checkpoints.
    expect(visible()).toEqual([]);
    for (let id = 3; id < 50; id++) {
      s.write(`r${id}`);
      await s.checkpoint(id);
      await s.op.notifyCheckpointComplete(id);
    }
    expect(files()).toEqual(['.part-0-0.inprogress']);
    await s.op.close();
  });

  it('rolls a part on its rollover interval at the processing-time check; it is visible once the next checkpoint completes', async () => {
    const s = await sink({ configure: withPolicy(rolling(10_000, 60_000)) });
    s.write('a');
    runTo(s.time, 5000);
    s.write('b');
    runTo(s.time, 9000);
    expect(files()).toEqual(['.part-0-0.inprogress']);
    const st = await s.checkpoint(1);
    expect(entries(st)[0]!.pending).toEqual([]);
    runTo(s.time, 10_000); // the check at 10 s rolls part 0 (opened at 0)
    s.write('c');
    expect(files()).toEqual(['.part-0-0.inprogress', '.part-0-1.inprogress']);
    await s.op.notifyCheckpointComplete(1); // covers nothing rolled
    expect(visible()).toEqual([]);
    const st2 = await s.checkpoint(2);
    expect(entries(st2)[0]).toMatchObject({
      pending: [{ name: 'part-0-0', size: 4, checkpointId: 2 }],
      inProgress: [{ name: 'part-0-1', size: 2, creationTime: 10_000, lastUpdateTime: 10_000 }],
    });
    expect(visible()).toEqual([]);
    await s.op.notifyCheckpointComplete(2);
    expect(files()).toEqual(['.part-0-1.inprogress', 'part-0-0']);
    expect(visible()).toEqual(['a', 'b']);
    await s.op.close();
  });

  it('rolls a quiet part on the inactivity interval, not one that is written to', async () => {
    const s = await sink({ configure: withPolicy(rolling(60_000, 3000)) });
    for (let t = 0; t <= 20_000; t += 1000) {
      runTo(s.time, t);
      s.write(`busy${t}`);
    }
    expect(files()).toEqual(['.part-0-0.inprogress']);
    runTo(s.time, 22_000);
    expect(files()).toEqual(['.part-0-0.inprogress']);
    runTo(s.time, 23_000); // 3 s after the last write
    await s.checkpoint(1);
    await s.op.notifyCheckpointComplete(1);
    expect(files()).toEqual(['part-0-0']);
    expect(visible()).toHaveLength(21);
    await s.op.close();
  });

  it('a part past its rollover interval rolls at a checkpoint even before the next check', async () => {
    const s = await sink({ configure: withPolicy(rolling(10_000, 60_000), 60_000) });
    s.write('a');
    s.time.advance(10_000);
    s.write('b');
    await s.checkpoint(1);
    await s.op.notifyCheckpointComplete(1);
    expect(visible()).toEqual(['a', 'b']);
    s.write('c');
    expect(files()).toEqual(['.part-0-1.inprogress', 'part-0-0']);
    await s.op.close();
  });

  it('rolls by size before the record that would go past the limit; the rolled part waits for the next checkpoint', async () => {
    const s = await sink({ configure: withPolicy(rolling(60_000, 60_000, 8)) });
    s.write('rec-1', 'rec-2', 'rec-3'); // 6 bytes each: the part holds 12 > 8 bytes when rec-3 comes
    expect(files()).toEqual(['.part-0-0.inprogress', '.part-0-1.inprogress']);
    expect(visible()).toEqual([]);
    await s.checkpoint(1);
    await s.op.notifyCheckpointComplete(1);
    expect(files()).toEqual(['.part-0-1.inprogress', 'part-0-0']);
    expect(visible()).toEqual(['rec-1', 'rec-2']);
    await s.op.close();
  });

  it('a stop-with-savepoint rolls every part, so its completion publishes everything; a plain savepoint does not roll', async () => {
    const s = await sink();
    s.write('a');
    const plain = await s.checkpoint(1, { savepoint: true });
    expect(entries(plain)[0]).toMatchObject({ pending: [], inProgress: [{ name: 'part-0-0', size: 2 }] });
    s.write('b');
    const stop = await s.checkpoint(2, { savepoint: true, stop: true });
    expect(entries(stop)[0]).toEqual({
      dir,
      subtaskIndex: 0,
      pending: [{ name: 'part-0-0', size: 4, checkpointId: 2 }],
      inProgress: [],
    });
    await s.op.notifyCheckpointComplete(1);
    expect(visible()).toEqual([]);
    await s.op.notifyCheckpointComplete(2);
    expect(visible()).toEqual(['a', 'b']);
    await s.op.close();
    expect(files()).toEqual(['part-0-0']);
  });

  it('a failed stop-with-savepoint: the rolled part is published by the next completed checkpoint', async () => {
    const s = await sink();
    s.write('a');
    await s.checkpoint(1, { savepoint: true, stop: true });
    await s.op.notifyCheckpointAborted(1);
    s.write('b');
    await s.checkpoint(2);
    await s.op.notifyCheckpointComplete(2);
    expect(visible()).toEqual(['a']);
    expect(files()).toEqual(['.part-0-1.inprogress', 'part-0-0']);
    await s.op.close();
  });

  it('end of input: nothing visible until the final checkpoint completes, then everything in one part', async () => {
    const s = await sink();
    s.write('a');
    await s.checkpoint(1);
    s.write('b');
    await s.op.finish();
    await s.checkpoint(FINAL_CHECKPOINT_ID);
    expect(visible()).toEqual([]);
    await s.op.notifyCheckpointComplete(1);
    expect(visible()).toEqual([]);
    await s.op.notifyCheckpointComplete(FINAL_CHECKPOINT_ID);
    expect(visible()).toEqual(['a', 'b']);
    await s.op.close();
    expect(files()).toEqual(['part-0-0']);
  });

  it('a checkpoint after the end of input (the task keeps taking part) publishes what the final snapshot rolled', async () => {
    const s = await sink();
    s.write('a');
    await s.op.finish();
    await s.checkpoint(FINAL_CHECKPOINT_ID);
    const after = await s.checkpoint(7, { savepoint: true, stop: true });
    expect(entries(after)[0]).toMatchObject({
      pending: [{ name: 'part-0-0', size: 2, checkpointId: 7 }],
      inProgress: [],
    });
    await s.op.notifyCheckpointComplete(7);
    expect(visible()).toEqual(['a']);
    await s.op.notifyCheckpointComplete(FINAL_CHECKPOINT_ID);
    expect(files()).toEqual(['part-0-0']);
    await s.op.close();
  });

  it('close after a failure leaves hidden files only, and the bucket check stops', async () => {
    const s = await sink({ configure: withPolicy(rolling(1000, 1000)) });
    s.write('a');
    await s.checkpoint(1);
    s.write('b');
    await s.op.close();
    runTo(s.time, 10_000);
    expect(visible()).toEqual([]);
    expect(files()).toEqual(['.part-0-0.inprogress']);
  });
});

describe('FileSinkOperator with OnCheckpointRollingPolicy (a part per checkpoint)', () => {
  it('publishes the records of a checkpoint only when it completes', async () => {
    const s = await sink({ configure: onCheckpoint });
    s.write('a', 'b');
    expect(files()).toEqual(['.part-0-0.inprogress']);
    const state = await s.checkpoint(1);
    expect(visible()).toEqual([]);
    expect(state.get(FILE_SINK_STATE_NAME)).toEqual({
      mode: 'union',
      items: [{ dir, subtaskIndex: 0, pending: [{ name: 'part-0-0', size: 4, checkpointId: 1 }], inProgress: [] }],
    });
    s.write('c'); // after the barrier: not part of checkpoint 1
    await s.op.notifyCheckpointComplete(1);
    expect(files()).toEqual(['.part-0-1.inprogress', 'part-0-0']);
    expect(visible()).toEqual(['a', 'b']);
    await s.checkpoint(2);
    await s.op.notifyCheckpointComplete(2);
    expect(visible()).toEqual(['a', 'b', 'c']);
    await s.op.close();
  });

  it('commits every earlier checkpoint with a later one, and nothing after it', async () => {
    const s = await sink({ configure: onCheckpoint });
    s.write('1');
    await s.checkpoint(1);
    s.write('2');
    await s.checkpoint(2);
    await s.checkpoint(3); // nothing written in between: no empty part
    s.write('4');
    await s.checkpoint(4);
    s.write('5');
    expect(visible()).toEqual([]);
    await s.op.notifyCheckpointComplete(3);
    expect(visible()).toEqual(['1', '2']);
    expect(files()).toEqual(['.part-0-2.inprogress', '.part-0-3.inprogress', 'part-0-0', 'part-0-1']);
    await s.op.notifyCheckpointComplete(4);
    expect(visible()).toEqual(['1', '2', '4']);
    await s.op.close();
  });

  it('after an aborted checkpoint, the next completed one commits both', async () => {
    const s = await sink({ configure: onCheckpoint });
    s.write('a');
    await s.checkpoint(1);
    await s.op.notifyCheckpointAborted(1);
    expect(visible()).toEqual([]);
    s.write('b');
    const state = await s.checkpoint(2);
    expect(entries(state)[0]!.pending).toEqual([
      { name: 'part-0-0', size: 2, checkpointId: 1 },
      { name: 'part-0-1', size: 2, checkpointId: 2 },
    ]);
    await s.op.notifyCheckpointComplete(2);
    expect(visible()).toEqual(['a', 'b']);
    await s.op.close();
  });

  it('never rolls on time', async () => {
    const s = await sink({ configure: onCheckpoint });
    s.write('a');
    runTo(s.time, 10 * 60_000, 60_000);
    expect(files()).toEqual(['.part-0-0.inprogress']);
    await s.op.close();
  });
});

describe('FileSinkOperator restore', () => {
  /** A run that took checkpoint `id` (never completed), wrote more, took `id + 1` (never completed either), wrote more and failed. */
  async function failedRun(opts: SinkOptions, before: string[], after: string[], id: number): Promise<StateSnapshot> {
    const s = await sink(opts);
    s.write(...before);
    const state = await s.checkpoint(id);
    s.write(...after);
    await s.checkpoint(id + 1); // makes `after` durable in the part: the restore must cut it off
    s.write(...after.map((v) => `${v}'`));
    await s.op.close();
    return state;
  }

  it('same parallelism: resumes the in-progress part cut back to its checkpointed length', async () => {
    const state = await failedRun({}, ['a', 'b'], ['late'], 1);
    expect(readFileSync(join(dir, '.part-0-0.inprogress'), 'utf8')).toBe('a\nb\nlate\n');
    const s = await sink({ restoreFrom: [state] });
    expect(readFileSync(join(dir, '.part-0-0.inprogress'), 'utf8')).toBe('a\nb\n');
    s.write('c');
    const next = await s.checkpoint(2);
    expect(entries(next)[0]!.inProgress).toMatchObject([{ name: 'part-0-0', size: 6 }]);
    await s.op.finish();
    await s.checkpoint(FINAL_CHECKPOINT_ID);
    await s.op.notifyCheckpointComplete(FINAL_CHECKPOINT_ID);
    expect(files()).toEqual(['part-0-0']);
    expect(visible()).toEqual(['a', 'b', 'c']);
    await s.op.close();
  });

  it("keeps the part's creation time, so the rollover interval counts from when it was opened", async () => {
    const first = await sink({ configure: withPolicy(rolling(10_000, 60_000)) });
    first.time.advance(1000);
    first.write('a');
    const state = await first.checkpoint(1);
    await first.op.close();
    const s = await sink({ restoreFrom: [state], configure: withPolicy(rolling(10_000, 60_000)) });
    runTo(s.time, 10_000);
    expect(files()).toEqual(['.part-0-0.inprogress']);
    runTo(s.time, 11_000);
    await s.checkpoint(2);
    await s.op.notifyCheckpointComplete(2);
    expect(files()).toEqual(['part-0-0']);
    await s.op.close();
  });

  it('commits pending parts, resumes the in-progress one, deletes what came after the checkpoint and numbers on', async () => {
    const first = await sink({ configure: withPolicy(rolling(60_000, 60_000, 3)) });
    first.write('old', 'x'); // 'x' rolls part 0 (4 bytes > 3)
    const state = await first.checkpoint(1);
    expect(entries(state)[0]).toMatchObject({
      pending: [{ name: 'part-0-0', size: 4, checkpointId: 1 }],
      inProgress: [{ name: 'part-0-1', size: 2 }],
    });
    first.write('y', 'late'); // part 1 rolls at 'late'; part 2 was never recorded
    await first.checkpoint(2);
    await first.op.close();
    expect(files()).toEqual(['.part-0-0.inprogress', '.part-0-1.inprogress', '.part-0-2.inprogress']);

    const s = await sink({ restoreFrom: [state], configure: withPolicy(rolling(60_000, 60_000, 3)) });
    expect(files()).toEqual(['.part-0-1.inprogress', 'part-0-0']);
    expect(visible()).toEqual(['old']);
    s.write('z');
    expect(readFileSync(join(dir, '.part-0-1.inprogress'), 'utf8')).toBe('x\n');
    s.write('w'); // part 1 holds 4 bytes: rolls, and the next part is number 2
    expect(files()).toEqual(['.part-0-1.inprogress', '.part-0-2.inprogress', 'part-0-0']);
    await s.checkpoint(3);
    await s.op.notifyCheckpointComplete(3);
    expect(visible()).toEqual(['old', 'x', 'z']);
    await s.op.close();
  });

  it('restoring the same checkpoint twice gives the same output', async () => {
    const state = await failedRun({}, ['a'], ['late'], 5);
    const again = await sink({ restoreFrom: [state] });
    again.write('x');
    await again.checkpoint(6); // never completes: this run fails too
    again.write('y');
    await again.op.close();
    expect(readFileSync(join(dir, '.part-0-0.inprogress'), 'utf8')).toBe('a\nx\n');

    const s = await sink({ restoreFrom: [state] });
    expect(files()).toEqual(['.part-0-0.inprogress']);
    s.write('b');
    await s.checkpoint(6, { savepoint: true, stop: true });
    await s.op.notifyCheckpointComplete(6);
    expect(visible()).toEqual(['a', 'b']);
    expect(files()).toEqual(['part-0-0']);
    await s.op.close();
  });

  it("rescale down: the owner commits a former subtask's in-progress part at the restore and resumes its own", async () => {
    const s0 = await failedRun({ subtaskIndex: 0, parallelism: 2 }, ['a0', 'b0'], ['late0'], 4);
    const s1 = await failedRun({ subtaskIndex: 1, parallelism: 2 }, ['a1'], ['late1'], 4);
    expect(files()).toEqual(['.part-0-0.inprogress', '.part-1-0.inprogress']);

    const s = await sink({ subtaskIndex: 0, parallelism: 1, restoreFrom: [s0, s1] });
    // Former subtask 1's part holds only what checkpoint 4 covers, and is published now.
    expect(files()).toEqual(['.part-0-0.inprogress', 'part-1-0']);
    expect(visible()).toEqual(['a1']);
    s.write('c');
    const next = await s.checkpoint(5);
    // Only this subtask's own entry goes on: former subtask 1 is settled.
    expect(entries(next).map((e) => e.subtaskIndex)).toEqual([0]);
    await s.op.finish();
    await s.checkpoint(FINAL_CHECKPOINT_ID);
    await s.op.notifyCheckpointComplete(FINAL_CHECKPOINT_ID);
    expect(files()).toEqual(['part-0-0', 'part-1-0']);
    expect(visible().sort()).toEqual(['a0', 'a1', 'b0', 'c']);
    await s.op.close();
  });

  it('rescale up: the new subtask starts clean next to the resumed one', async () => {
    const state = await failedRun({}, ['a'], ['late'], 1);
    const s0 = await sink({ subtaskIndex: 0, parallelism: 2, restoreFrom: [state] });
    const s1 = await sink({ subtaskIndex: 1, parallelism: 2, restoreFrom: [state] });
    s0.write('b');
    s1.write('c');
    const c0 = await s0.checkpoint(2, { savepoint: true, stop: true });
    const c1 = await s1.checkpoint(2, { savepoint: true, stop: true });
    await s0.op.notifyCheckpointComplete(2);
    await s1.op.notifyCheckpointComplete(2);
    expect(files()).toEqual(['part-0-0', 'part-1-0']);
    expect(visible()).toEqual(['a', 'b', 'c']);
    expect([c0, c1].map((c) => entries(c)[0]!.subtaskIndex)).toEqual([0, 1]);
    await s0.op.close();
    await s1.op.close();
  });

  it('a checkpoint of a sink before rolling policies (no in-progress parts recorded) restores', async () => {
    writeFileSync(join(dir, '.part-0-0.inprogress'), 'a\nlate\n');
    writeFileSync(join(dir, '.part-0-1.inprogress'), 'after\n');
    const old: StateSnapshot = new Map([
      [
        FILE_SINK_STATE_NAME,
        { mode: 'union', items: [{ dir, subtaskIndex: 0, pending: [{ name: 'part-0-0', size: 2, checkpointId: 3 }] }] },
      ],
    ]);
    const s = await sink({ restoreFrom: [old] });
    expect(files()).toEqual(['part-0-0']);
    s.write('b');
    expect(files()).toEqual(['.part-0-1.inprogress', 'part-0-0']);
    await s.op.close();
    expect(visible()).toEqual(['a']);
  });

  it('an in-progress part that vanished is a clear error', async () => {
    const state = await failedRun({}, ['a'], [], 1);
    rmSync(join(dir, '.part-0-0.inprogress'));
    await expect(sink({ restoreFrom: [state] })).rejects.toThrow(/part-0-0 of the restored checkpoint is gone/);
  });

  it('an in-progress part shorter than recorded is a clear error', async () => {
    const state = await failedRun({}, ['abc'], [], 1);
    writeFileSync(join(dir, '.part-0-0.inprogress'), 'ab');
    await expect(sink({ restoreFrom: [state] })).rejects.toThrow(/has 2 bytes but the restored checkpoint recorded 4/);
  });

  it('an in-progress part a later run already committed (an older savepoint) is left as it is; writing goes on in a new part', async () => {
    const state = await failedRun({}, ['a'], ['more'], 1);
    renameSync(join(dir, '.part-0-0.inprogress'), join(dir, 'part-0-0'));
    const s = await sink({ restoreFrom: [state] });
    s.write('b');
    expect(files()).toEqual(['.part-0-1.inprogress', 'part-0-0']);
    await s.op.close();
  });
});

describe('FileSinkOperator without periodic checkpoints', () => {
  it('publishes a part when it rolls by size or time and at the end of input', async () => {
    const s = await sink({ checkpointing: false, configure: withPolicy(rolling(10_000, 60_000, 8)) });
    s.write('rec-1', 'rec-2', 'rec-3');
    expect(files()).toEqual(['.part-0-1.inprogress', 'part-0-0']);
    expect(visible()).toEqual(['rec-1', 'rec-2']);
    runTo(s.time, 10_000);
    expect(visible()).toEqual(['rec-1', 'rec-2', 'rec-3']);
    s.write('rec-4');
    await s.op.finish();
    expect(visible()).toEqual(['rec-1', 'rec-2', 'rec-3', 'rec-4']);
    await s.op.close();
    expect(files()).toEqual(['part-0-0', 'part-0-1', 'part-0-2']);
  });

  it("a savepoint's snapshot publishes every part", async () => {
    const s = await sink({ checkpointing: false });
    s.write('a');
    const st = await s.checkpoint(1, { savepoint: true });
    expect(entries(st)[0]).toEqual({ dir, subtaskIndex: 0, pending: [], inProgress: [] });
    expect(visible()).toEqual(['a']);
    s.write('b');
    await s.checkpoint(2, { savepoint: true, stop: true });
    expect(visible()).toEqual(['a', 'b']);
    await s.op.close();
  });

  it('a canceled run publishes nothing of its open part, and the next run numbers on', async () => {
    const s = await sink({ checkpointing: false });
    s.write('a');
    await s.op.close();
    expect(files()).toEqual(['.part-0-0.inprogress']);
    const next = await sink({ checkpointing: false });
    next.write('b');
    await next.op.finish();
    await next.op.close();
    expect(files()).toEqual(['.part-0-0.inprogress', 'part-0-1']);
    expect(visible()).toEqual(['b']);
  });

  it('writes records as JSON when the sink has no encoder, strings as they are', async () => {
    const s = await sink({ checkpointing: false });
    s.op.processElement({ k: 1 }, undefined);
    s.op.processElement('plain', undefined);
    await s.op.finish();
    await s.op.close();
    expect(visible()).toEqual(['{"k":1}', 'plain']);
  });
});

describe('FileSinkOperator buckets', () => {
  const HOUR = 3_600_000;
  const T0 = Date.UTC(2024, 0, 2, 3, 58, 0);

  it('DateTimeBucketAssigner: a directory per hour of processing time, each with its own part; a quiet bucket is rolled by inactivity', async () => {
    const s = await sink({
      configure: (b) =>
        b
          .withBucketAssigner(new DateTimeBucketAssigner('yyyy-MM-dd--HH', 'UTC'))
          .withRollingPolicy(rolling(HOUR, 60_000))
          .withBucketCheckInterval(10_000),
      time: Object.assign(new ManualTime(), { time: T0 }),
    });
    s.write('a');
    runTo(s.time, T0 + 50_000, 10_000);
    s.write('b'); // 03:58:50
    runTo(s.time, T0 + 120_000, 10_000); // 04:00: the 03 bucket went quiet at 03:58:50 and was rolled at 03:59:50
    s.write('c');
    expect(files()).toEqual(['2024-01-02--03/.part-0-0.inprogress', '2024-01-02--04/.part-0-0.inprogress']);
    const st = await s.checkpoint(1);
    expect(entries(st)[0]).toMatchObject({
      pending: [{ bucket: '2024-01-02--03', name: 'part-0-0', size: 4, checkpointId: 1 }],
      inProgress: [{ bucket: '2024-01-02--04', name: 'part-0-0', size: 2 }],
    });
    await s.op.notifyCheckpointComplete(1);
    expect(committedFiles(dir)).toEqual(['2024-01-02--03/part-0-0']);
    expect(visible()).toEqual(['a', 'b']);
    await s.op.close();
  });

  it('a custom assigner: nested bucket ids, the element and its context; a bad id fails clearly', async () => {
    const seen: { ts: number | null; now: number; wm: number }[] = [];
    const assigner = {
      getBucketId(e: string, ctx: BucketAssignerContext) {
        seen.push({ ts: ctx.timestamp(), now: ctx.currentProcessingTime(), wm: ctx.currentWatermark() });
        return e === 'bad' ? '../escape' : `key=${e[0]}/sub`;
      },
    };
    const s = await sink({ configure: (b) => b.withBucketAssigner(assigner) });
    s.time.advance(7);
    s.op.processWatermark(40);
    s.op.processElement('x1', 42);
    s.write('y1', 'x2');
    expect(seen[0]).toEqual({ ts: 42, now: 7, wm: 40 });
    expect(seen[1]!.ts).toBeNull();
    expect(files()).toEqual(['key=x/sub/.part-0-0.inprogress', 'key=y/sub/.part-0-0.inprogress']);
    expect(() => s.write('bad')).toThrow(/bucket id '\.\.\/escape' is not a relative directory path/);
    await s.checkpoint(1, { savepoint: true, stop: true });
    await s.op.notifyCheckpointComplete(1);
    expect(committedFiles(dir)).toEqual(['key=x/sub/part-0-0', 'key=y/sub/part-0-0']);
    expect(readFileSync(join(dir, 'key=x/sub/part-0-0'), 'utf8')).toBe('x1\nx2\n');
    await s.op.close();
  });

  it('BasePathBucketAssigner writes into the directory itself; OutputFileConfig names the parts', async () => {
    const cfg = OutputFileConfig.builder().withPartPrefix('out').withPartSuffix('.txt').build();
    const s = await sink({
      configure: (b) => b.withBucketAssigner(new BasePathBucketAssigner()).withOutputFileConfig(cfg),
    });
    s.write('a');
    expect(files()).toEqual(['.out-0-0.txt.inprogress']);
    await s.op.finish();
    await s.checkpoint(FINAL_CHECKPOINT_ID);
    await s.op.notifyCheckpointComplete(FINAL_CHECKPOINT_ID);
    expect(files()).toEqual(['out-0-0.txt']);
    await s.op.close();
  });

  it("restore with buckets: in-progress parts resume in their buckets, leftovers in any bucket are deleted, other subtasks' files stay", async () => {
    const byKey = (b: FileSinkBuilder<string>) => b.withBucketAssigner({ getBucketId: (e: string) => `k${e[0]}` });
    const s = await sink({ configure: byKey, subtaskIndex: 0, parallelism: 2 });
    s.write('a1', 'b1');
    const state = await s.checkpoint(1);
    s.write('a2', 'c1'); // c: a bucket the checkpoint never saw
    await s.checkpoint(2);
    await s.op.close();
    writeFileSync(join(dir, 'kc', '.part-1-0.inprogress'), 'subtask 1 is writing here\n');
    expect(files()).toEqual([
      'ka/.part-0-0.inprogress',
      'kb/.part-0-0.inprogress',
      'kc/.part-0-0.inprogress',
      'kc/.part-1-0.inprogress',
    ]);

    const r = await sink({ configure: byKey, subtaskIndex: 0, parallelism: 2, restoreFrom: [state] });
    expect(files()).toEqual(['ka/.part-0-0.inprogress', 'kb/.part-0-0.inprogress', 'kc/.part-1-0.inprogress']);
    expect(readFileSync(join(dir, 'ka/.part-0-0.inprogress'), 'utf8')).toBe('a1\n');
    r.write('a3');
    await r.checkpoint(3, { savepoint: true, stop: true });
    await r.op.notifyCheckpointComplete(3);
    expect(readFileSync(join(dir, 'ka/part-0-0'), 'utf8')).toBe('a1\na3\n');
    expect(readFileSync(join(dir, 'kb/part-0-0'), 'utf8')).toBe('b1\n');
    await r.op.close();
  });

  it('without a bucket assigner a restore leaves sub-directories alone (another sink may live there)', async () => {
    const state = await (async () => {
      const s = await sink();
      s.write('a');
      const st = await s.checkpoint(1);
      await s.op.close();
      return st;
    })();
    const nested = join(dir, 'nested');
    mkdirSync(nested);
    writeFileSync(join(nested, '.part-0-0.inprogress'), "another sink's\n");
    const s = await sink({ restoreFrom: [state] });
    expect(files()).toEqual(['.part-0-0.inprogress', 'nested/.part-0-0.inprogress']);
    await s.op.close();
  });
});

describe('FileSink builder', () => {
  it("has Flink's rolling defaults and takes rolling policies, Flink's duration forms and the old part size", () => {
    const d = DefaultRollingPolicy.builder().build();
    expect([d.getMaxPartSize(), d.getRolloverInterval(), d.getInactivityInterval()]).toEqual([
      128 * 1024 * 1024,
      60_000,
      60_000,
    ]);
    const p = DefaultRollingPolicy.builder()
      .withMaxPartSize({ getBytes: () => 1024 })
      .withRolloverInterval({ toMillis: () => 15 * 60_000 })
      .withInactivityInterval('5 min')
      .build();
    expect([p.getMaxPartSize(), p.getRolloverInterval(), p.getInactivityInterval()]).toEqual([1024, 900_000, 300_000]);
    expect(FileSink.forRowFormat<string>('/out').withRollingPolicy(p).build().maxPartSize).toBe(1024);
    const plain = FileSink.forRowFormat<string>('/out').build();
    expect(plain.maxPartSize).toBe(128 * 1024 * 1024);
    expect(plain.bucketCheckInterval).toBe(60_000);
    expect(plain.bucketAssigner).toBeInstanceOf(BasePathBucketAssigner);
    expect(
      FileSink.forRowFormat<string>('/out').withRollingPolicy(OnCheckpointRollingPolicy.build()).build().maxPartSize,
    ).toBeUndefined();
    expect(() => DefaultRollingPolicy.builder().withMaxPartSize(0)).toThrow(/positive number of bytes/);
    expect(() => DefaultRollingPolicy.builder().withRolloverInterval(0)).toThrow(/rollover interval must be positive/);
    expect(() => DefaultRollingPolicy.builder().withInactivityInterval('soon')).toThrow(/inactivity interval/);
    expect(() => FileSink.forRowFormat<string>('/out').withRollingPolicy({ maxPartSize: 1 } as never)).toThrow(
      /needs a rolling policy/,
    );
    expect(() => FileSink.forRowFormat<string>('/out').withBucketAssigner({} as never)).toThrow(/getBucketId/);
    expect(() => FileSink.forRowFormat<string>('/out').withBucketCheckInterval(-1)).toThrow(/must be positive/);
  });

  it("DefaultRollingPolicy decides as Flink's: size past the limit, age, inactivity", () => {
    const p = rolling(1000, 300, 10);
    const part = (size: number, created: number, updated: number) => ({
      getBucketId: () => '',
      getSize: () => size,
      getCreationTime: () => created,
      getLastUpdateTime: () => updated,
    });
    expect(p.shouldRollOnEvent(part(10, 0, 0), 'x')).toBe(false);
    expect(p.shouldRollOnEvent(part(11, 0, 0), 'x')).toBe(true);
    expect(p.shouldRollOnCheckpoint(part(11, 0, 0))).toBe(true);
    expect(p.shouldRollOnProcessingTime(part(1, 0, 900), 999)).toBe(false);
    expect(p.shouldRollOnProcessingTime(part(1, 0, 900), 1000)).toBe(true);
    expect(p.shouldRollOnProcessingTime(part(1, 500, 600), 900)).toBe(true);
    const c = OnCheckpointRollingPolicy.build();
    expect([
      c.shouldRollOnCheckpoint(part(0, 0, 0)),
      c.shouldRollOnEvent(part(1e12, 0, 0), 'x'),
      c.shouldRollOnProcessingTime(part(1, 0, 0), 1e12),
    ]).toEqual([true, false, false]);
  });

  it('OutputFileConfig: builder, plain objects, checks', () => {
    const cfg = OutputFileConfig.builder().withPartPrefix('pre').withPartSuffix('.ext').build();
    expect([cfg.getPartPrefix(), cfg.getPartSuffix()]).toEqual(['pre', '.ext']);
    const a = FileSink.forRowFormat<string>('/out').withOutputFileConfig(cfg).build();
    expect([a.partPrefix, a.partSuffix]).toEqual(['pre', '.ext']);
    const b = FileSink.forRowFormat<string>('/out').withOutputFileConfig({ partSuffix: '.csv' }).build();
    expect([b.partPrefix, b.partSuffix]).toEqual(['part', '.csv']);
    expect(() => OutputFileConfig.builder().withPartSuffix('a/b').build()).toThrow(/path separators/);
    expect(() => OutputFileConfig.builder().withPartPrefix('.hidden').build()).toThrow(/must not start with '\.'/);
  });

  it('DateTimeBucketAssigner formats processing time as Java patterns do, in a given zone', () => {
    const t = Date.UTC(2024, 2, 5, 7, 8, 9, 45);
    const at = (a: DateTimeBucketAssigner) => a.bucketIdAt(t);
    expect(at(new DateTimeBucketAssigner(undefined, 'UTC'))).toBe('2024-03-05--07');
    expect(new DateTimeBucketAssigner().formatString).toBe('yyyy-MM-dd--HH');
    expect(at(new DateTimeBucketAssigner('yyyy/MM/dd/HH', 'Asia/Kolkata'))).toBe('2024/03/05/12');
    expect(at(new DateTimeBucketAssigner('yy-M-d H:m:s.SSS', '+02:00'))).toBe('24-3-5 9:8:9.045');
    expect(at(new DateTimeBucketAssigner("'date='yyyyMMdd'/h''r='HH", 'UTC-05:00'))).toBe("date=20240305/h'r=02");
    expect(at(new DateTimeBucketAssigner('yyyy-MM-dd', 'America/New_York'))).toBe('2024-03-05');
    expect(new DateTimeBucketAssigner('HH', 'Europe/Berlin').bucketIdAt(Date.UTC(2024, 6, 1, 22))).toBe('00'); // summer time
    expect(() => new DateTimeBucketAssigner('yyyy-MMM')).toThrow(/month names/);
    expect(() => new DateTimeBucketAssigner('yyyy-ww')).toThrow(/pattern letter 'w'/);
    expect(() => new DateTimeBucketAssigner("yyyy'open")).toThrow(/unclosed quote/);
    expect(() => new DateTimeBucketAssigner('yyyy', 'Mars/Olympus')).toThrow(/unknown time zone 'Mars\/Olympus'/);
    // The context's processing time names the bucket.
    const ctx = { currentProcessingTime: () => t, currentWatermark: () => 0, timestamp: () => null };
    expect(new DateTimeBucketAssigner('yyyy-MM-dd--HH', 'UTC').getBucketId('x', ctx)).toBe('2024-03-05--07');
  });
});
