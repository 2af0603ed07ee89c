import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FINAL_CHECKPOINT_ID } from '../../common/checkpoint.js';
import { commitPendingFile, FileSinkCommitter } from '../../taskmanager/connectors/file-sink-committer.js';
import { recoverFileSink, type FileSinkWriterState } from '../../taskmanager/connectors/file-sink-recovery.js';
import { RowFormatPartWriter, type ClosedPart } from '../../taskmanager/connectors/file-sink-writer.js';
import { hiddenPartName, PartFileNaming } from '../../taskmanager/connectors/part-file-naming.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-file-sink-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const naming = new PartFileNaming('part', '');

function files(): string[] {
  return readdirSync(dir).sort();
}

function writer(
  closed: ClosedPart[],
  opts: { subtaskIndex?: number; firstPartNumber?: number; bucketId?: string } = {},
): RowFormatPartWriter {
  return new RowFormatPartWriter(
    {
      dir,
      subtaskIndex: opts.subtaskIndex ?? 0,
      naming,
      firstPartNumber: opts.firstPartNumber,
      bucketId: opts.bucketId,
    },
    (p) => closed.push(p),
  );
}

describe('PartFileNaming', () => {
  it('tells parts of one subtask apart from other subtasks and other files, hidden or not', () => {
    const n = new PartFileNaming('out-x', '.csv');
    expect(n.finalName(1, 7)).toBe('out-x-1-7.csv');
    expect(n.parse('out-x-1-7.csv', 1)).toEqual({ partNumber: 7, hidden: false });
    expect(n.parse(hiddenPartName('out-x-1-12.csv'), 1)).toEqual({ partNumber: 12, hidden: true });
    expect(n.parse('out-x-12-7.csv', 1)).toBeUndefined();
    expect(n.parse('out-x-1-7.csv.crc', 1)).toBeUndefined();
    expect(n.parse('out-x-1-7.txt', 1)).toBeUndefined();
    expect(n.parse('.out-x-1-7.csv', 1)).toBeUndefined();
  });

  it('parses parts of any subtask and finds hidden parts of some subtasks in a directory tree', () => {
    const n = new PartFileNaming('out-1', '.csv');
    expect(n.parseAny('out-1-2-7.csv')).toEqual({ subtaskIndex: 2, partNumber: 7, hidden: false });
    expect(n.parseAny('.out-1-12-0.csv.inprogress')).toEqual({ subtaskIndex: 12, partNumber: 0, hidden: true });
    expect(n.parseAny('out-1-2-7.csv.inprogress')).toBeUndefined();
    expect(n.parseAny('part-0-0')).toBeUndefined();
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    for (const f of [
      '.out-1-0-0.csv.inprogress',
      'a/.out-1-1-3.csv.inprogress',
      'a/b/.out-1-0-9.csv.inprogress',
      'a/b/out-1-0-8.csv',
      'a/.out-1-2-0.csv.inprogress',
    ]) {
      writeFileSync(join(dir, f), '');
    }
    expect(n.hiddenPartsBelow(dir, new Set([0, 1])).sort()).toEqual(
      ['.out-1-0-0.csv.inprogress', 'a/.out-1-1-3.csv.inprogress', 'a/b/.out-1-0-9.csv.inprogress'].map((f) =>
        join(dir, f),
      ),
    );
    expect(n.hiddenPartsIn(dir, new Set([0, 1]))).toEqual([join(dir, '.out-1-0-0.csv.inprogress')]);
    expect(n.hiddenPartsIn(join(dir, 'missing'), new Set([0]))).toEqual([]);
  });

  it('numbers the next part after every committed and hidden part of the subtask', () => {
    expect(naming.nextPartNumber(dir, 0)).toBe(0);
    writeFileSync(join(dir, 'part-0-3'), '');
    writeFileSync(join(dir, hiddenPartName('part-0-5')), '');
    writeFileSync(join(dir, 'part-1-9'), '');
    expect(naming.nextPartNumber(dir, 0)).toBe(6);
    expect(naming.nextPartNumber(dir, 1)).toBe(10);
    expect(naming.nextPartNumber(dir, 2)).toBe(0);
  });
});

describe('RowFormatPartWriter', () => {
  it('writes into a hidden part and hands it on closed with its exact size', () => {
    const closed: ClosedPart[] = [];
    const w = writer(closed, { firstPartNumber: 4 });
    w.closePart();
    expect(closed).toEqual([]);
    w.write('a', 0);
    w.write('ünï', 0);
    expect(files()).toEqual(['.part-0-4.inprogress']);
    w.closePart();
    expect(closed).toEqual([{ name: 'part-0-4', size: Buffer.byteLength('a\nünï\n') }]);
    expect(readFileSync(join(dir, '.part-0-4.inprogress'), 'utf8')).toBe('a\nünï\n');
    w.write('b', 0);
    w.closePart();
    expect(closed.map((p) => p.name)).toEqual(['part-0-4', 'part-0-5']);
  });

  it('numbers its first part after the parts already in its directory', () => {
    writeFileSync(join(dir, 'part-0-3'), '');
    writeFileSync(join(dir, hiddenPartName('part-0-7')), '');
    const closed: ClosedPart[] = [];
    const w = writer(closed);
    w.write('x', 0);
    w.closePart();
    w.write('y', 0);
    expect(closed).toEqual([{ name: 'part-0-8', size: 2 }]);
    expect(files()).toContain('.part-0-9.inprogress');
  });

  it('tells the rolling policy its size (buffered bytes included), creation and last update time', () => {
    const w = writer([]);
    w.write('abc', 100);
    w.write('de', 250);
    expect([w.getBucketId(), w.getSize(), w.getCreationTime(), w.getLastUpdateTime()]).toEqual(['', 7, 100, 250]);
    w.flush();
    expect(w.getSize()).toBe(7);
    w.abort();
  });

  it('persist() makes the open part durable and reports it as a checkpoint records it; the part stays open', () => {
    const closed: ClosedPart[] = [];
    const w = writer(closed, { bucketId: 'b/c' });
    expect(w.persist()).toBeUndefined();
    w.write('a', 5);
    expect(w.persist()).toEqual({ bucket: 'b/c', name: 'part-0-0', size: 2, creationTime: 5, lastUpdateTime: 5 });
    expect(readFileSync(join(dir, 'b/c/.part-0-0.inprogress'), 'utf8')).toBe('a\n');
    w.write('b', 9);
    expect(w.persist()).toMatchObject({ size: 4, lastUpdateTime: 9 });
    w.closePart();
    expect(closed).toEqual([{ bucket: 'b/c', name: 'part-0-0', size: 4 }]);
  });

  it('resume() appends to a recorded part of the checkpointed length, and refuses one of another length', () => {
    writeFileSync(join(dir, hiddenPartName('part-0-2')), 'a\n');
    const closed: ClosedPart[] = [];
    const w = writer(closed);
    w.resume({ name: 'part-0-2', size: 2, creationTime: 1, lastUpdateTime: 3 });
    expect([w.getSize(), w.getCreationTime(), w.getLastUpdateTime()]).toEqual([2, 1, 3]);
    w.write('b', 4);
    w.closePart();
    expect(closed).toEqual([{ name: 'part-0-2', size: 4 }]);
    expect(readFileSync(join(dir, hiddenPartName('part-0-2')), 'utf8')).toBe('a\nb\n');
    w.write('c', 5); // numbering goes on after the resumed part
    expect(files()).toContain('.part-0-3.inprogress');
    w.abort();
    expect(() => writer([]).resume({ name: 'part-0-2', size: 3, creationTime: 0, lastUpdateTime: 0 })).toThrow(
      /has 4 bytes, the checkpoint recorded 3/,
    );
  });

  it('abort leaves the open part hidden and hands nothing on', () => {
    const closed: ClosedPart[] = [];
    const w = writer(closed);
    w.write('x', 0);
    w.abort();
    expect(closed).toEqual([]);
    expect(files()).toEqual(['.part-0-0.inprogress']);
  });

  it('refuses to write into a hidden file that already exists', () => {
    writeFileSync(join(dir, hiddenPartName('part-0-0')), 'someone else');
    const w = writer([], { firstPartNumber: 0 });
    expect(() => w.write('x', 0)).toThrow(/part-0-0\.inprogress/);
    expect(readFileSync(join(dir, hiddenPartName('part-0-0')), 'utf8')).toBe('someone else');
  });
});

describe('commitPendingFile', () => {
  const pending = (name: string, size: number) => ({ name, size, checkpointId: 3 });

  it('renames the hidden file into view, and accepts a file committed before', () => {
    writeFileSync(join(dir, hiddenPartName('part-0-0')), 'abc\n');
    expect(commitPendingFile(dir, pending('part-0-0', 4))).toBe('committed');
    expect(files()).toEqual(['part-0-0']);
    expect(commitPendingFile(dir, pending('part-0-0', 4))).toBe('already-committed');
    expect(readFileSync(join(dir, 'part-0-0'), 'utf8')).toBe('abc\n');
  });

  it('cuts a longer hidden file back to the recorded size', () => {
    writeFileSync(join(dir, hiddenPartName('part-0-0')), 'abc\nafter the checkpoint\n');
    commitPendingFile(dir, pending('part-0-0', 4));
    expect(readFileSync(join(dir, 'part-0-0'), 'utf8')).toBe('abc\n');
  });

  it('fails clearly when the output of a completed checkpoint is gone or short', () => {
    expect(() => commitPendingFile(dir, pending('part-0-7', 4))).toThrow(
      /part-0-7 of checkpoint 3 is gone.*\.part-0-7\.inprogress/,
    );
    writeFileSync(join(dir, hiddenPartName('part-0-8')), 'ab');
    expect(() => commitPendingFile(dir, pending('part-0-8', 4))).toThrow(/has 2 bytes but checkpoint 3 recorded 4/);
  });

  it('never overwrites a visible file of the same name', () => {
    writeFileSync(join(dir, hiddenPartName('part-0-0')), 'new\n');
    writeFileSync(join(dir, 'part-0-0'), 'old\n');
    expect(() => commitPendingFile(dir, pending('part-0-0', 4))).toThrow(/part-0-0 already exists/);
    expect(readFileSync(join(dir, 'part-0-0'), 'utf8')).toBe('old\n');
  });
});

describe('FileSinkCommitter', () => {
  function closedPart(name: string): ClosedPart {
    writeFileSync(join(dir, hiddenPartName(name)), `${name}\n`);
    return { name, size: name.length + 1 };
  }

  it('commits the parts of a checkpoint and every earlier one, and nothing later', () => {
    const c = new FileSinkCommitter(dir);
    c.add(closedPart('part-0-0'));
    expect(c.prepareSnapshot(1)).toEqual([{ name: 'part-0-0', size: 9, checkpointId: 1 }]);
    c.add(closedPart('part-0-1'));
    c.prepareSnapshot(2);
    c.add(closedPart('part-0-2'));
    expect(c.prepareSnapshot(3).map((p) => [p.name, p.checkpointId])).toEqual([
      ['part-0-0', 1],
      ['part-0-1', 2],
      ['part-0-2', 3],
    ]);
    c.add(closedPart('part-0-3')); // closed after checkpoint 3: belongs to the next one
    expect(c.commitUpTo(2)).toEqual([join(dir, 'part-0-0'), join(dir, 'part-0-1')]);
    expect(files()).toEqual(['.part-0-2.inprogress', '.part-0-3.inprogress', 'part-0-0', 'part-0-1']);
    expect(c.commitUpTo(2)).toEqual([]);
    expect(c.prepareSnapshot(4).map((p) => p.name)).toEqual(['part-0-2', 'part-0-3']);
    c.commitUpTo(4);
    expect(c.size).toBe(0);
    expect(c.committedCount).toBe(4);
  });

  it('commits the final snapshot only when the final checkpoint completes', () => {
    const c = new FileSinkCommitter(dir);
    c.add(closedPart('part-0-0'));
    c.prepareSnapshot(5);
    c.add(closedPart('part-0-1'));
    c.prepareSnapshot(FINAL_CHECKPOINT_ID);
    // A late notification of checkpoint 5 must not publish what came after it.
    expect(c.commitUpTo(5)).toEqual([join(dir, 'part-0-0')]);
    expect(c.commitUpTo(6)).toEqual([]);
    expect(c.commitUpTo(FINAL_CHECKPOINT_ID)).toEqual([join(dir, 'part-0-1')]);
  });
});

describe('FileSinkCommitter with buckets', () => {
  it('commits parts in their bucket directories', () => {
    mkdirSync(join(dir, 'x', 'y'), { recursive: true });
    writeFileSync(join(dir, 'x', 'y', hiddenPartName('part-0-0')), 'a\n');
    const c = new FileSinkCommitter(dir);
    c.add({ bucket: 'x/y', name: 'part-0-0', size: 2 });
    expect(c.prepareSnapshot(1)).toEqual([{ bucket: 'x/y', name: 'part-0-0', size: 2, checkpointId: 1 }]);
    expect(c.commitUpTo(1)).toEqual([join(dir, 'x', 'y', 'part-0-0')]);
    expect(readFileSync(join(dir, 'x', 'y', 'part-0-0'), 'utf8')).toBe('a\n');
  });
});

describe('recoverFileSink', () => {
  function state(subtaskIndex: number, pending: [string, string][]): FileSinkWriterState {
    for (const [name, content] of pending) writeFileSync(join(dir, hiddenPartName(name)), content);
    return {
      dir,
      subtaskIndex,
      pending: pending.map(([name, content]) => ({ name, size: Buffer.byteLength(content), checkpointId: 7 })),
    };
  }

  it('from three subtasks to two: each former subtask is recovered by exactly one new subtask', () => {
    const states = [state(0, [['part-0-0', 'a\n']]), state(1, [['part-1-0', 'b\n']]), state(2, [['part-2-0', 'c\n']])];
    // Written after checkpoint 7: to be deleted by the owner of its index.
    for (const n of ['part-0-1', 'part-1-1', 'part-2-1']) writeFileSync(join(dir, hiddenPartName(n)), 'late\n');
    const r0 = recoverFileSink({ dir, naming, subtaskIndex: 0, parallelism: 2, states });
    expect(r0.committed).toEqual([join(dir, 'part-0-0'), join(dir, 'part-2-0')]);
    expect(r0.deleted.sort()).toEqual([join(dir, '.part-0-1.inprogress'), join(dir, '.part-2-1.inprogress')]);
    // Index 1 is new subtask 1's: subtask 0 leaves its files alone (subtask 1 may be writing already).
    expect(files()).toEqual(['.part-1-0.inprogress', '.part-1-1.inprogress', 'part-0-0', 'part-2-0']);
    const r1 = recoverFileSink({ dir, naming, subtaskIndex: 1, parallelism: 2, states });
    expect(r1.committed).toEqual([join(dir, 'part-1-0')]);
    expect(r1.deleted).toEqual([join(dir, '.part-1-1.inprogress')]);
    expect(files()).toEqual(['part-0-0', 'part-1-0', 'part-2-0']);
  });

  it('in-progress parts: the subtask of the same index resumes them cut back, another owner commits them; bucket leftovers go', () => {
    mkdirSync(join(dir, 'b1'));
    writeFileSync(join(dir, 'b1', hiddenPartName('part-0-4')), 'kept\nlate\n');
    writeFileSync(join(dir, 'b1', hiddenPartName('part-0-5')), 'written after the checkpoint\n');
    writeFileSync(join(dir, hiddenPartName('part-2-1')), 'x\nlate\n');
    writeFileSync(join(dir, 'b1', hiddenPartName('part-2-0')), 'pending\n');
    const states: FileSinkWriterState[] = [
      {
        dir,
        subtaskIndex: 0,
        pending: [],
        inProgress: [{ bucket: 'b1', name: 'part-0-4', size: 5, creationTime: 1, lastUpdateTime: 2 }],
      },
      {
        dir,
        subtaskIndex: 2,
        pending: [{ bucket: 'b1', name: 'part-2-0', size: 8, checkpointId: 3 }],
        inProgress: [{ name: 'part-2-1', size: 2, creationTime: 1, lastUpdateTime: 2 }],
      },
    ];
    const r = recoverFileSink({ dir, naming, subtaskIndex: 0, parallelism: 2, states });
    expect(r.resume).toEqual([states[0]!.inProgress![0]]);
    expect(r.committed.sort()).toEqual([join(dir, 'b1', 'part-2-0'), join(dir, 'part-2-1')]);
    expect(r.deleted).toEqual([join(dir, 'b1', hiddenPartName('part-0-5'))]);
    expect(readFileSync(join(dir, 'b1', hiddenPartName('part-0-4')), 'utf8')).toBe('kept\n');
    expect(readFileSync(join(dir, 'part-2-1'), 'utf8')).toBe('x\n');
    // Again (a second failure before any checkpoint): the same result, nothing lost.
    const again = recoverFileSink({ dir, naming, subtaskIndex: 0, parallelism: 2, states });
    expect(again.resume).toHaveLength(1);
    expect(again.deleted).toEqual([]);
    expect(readFileSync(join(dir, 'b1', 'part-2-0'), 'utf8')).toBe('pending\n');
  });

  it('an in-progress part recorded under another directory is committed there, not resumed', () => {
    const old = join(dir, 'old');
    mkdirSync(old);
    writeFileSync(join(old, hiddenPartName('part-0-0')), 'a\n');
    const r = recoverFileSink({
      dir,
      naming,
      subtaskIndex: 0,
      parallelism: 1,
      states: [
        {
          dir: old,
          subtaskIndex: 0,
          pending: [],
          inProgress: [{ name: 'part-0-0', size: 2, creationTime: 0, lastUpdateTime: 0 }],
        },
      ],
    });
    expect(r.resume).toEqual([]);
    expect(r.committed).toEqual([join(old, 'part-0-0')]);
  });

  it('rejects bucket paths that climb out of the directory', () => {
    const bad = { dir, subtaskIndex: 0, pending: [{ bucket: '../x', name: 'part-0-0', size: 1, checkpointId: 1 }] };
    expect(() => recoverFileSink({ dir, naming, subtaskIndex: 0, parallelism: 1, states: [bad] })).toThrow(
      /not a FileSink writer state/,
    );
  });

  it('rejects state that is not FileSink writer state', () => {
    expect(() => recoverFileSink({ dir, naming, subtaskIndex: 0, parallelism: 1, states: [{ next: 3 }] })).toThrow(
      /not a FileSink writer state/,
    );
  });

  it('keeps committed files and files of other sinks in the directory', () => {
    writeFileSync(join(dir, 'part-0-0'), 'kept\n');
    writeFileSync(join(dir, '.other.inprogress'), 'not ours\n');
    writeFileSync(join(dir, hiddenPartName('results-0-0')), 'another prefix\n');
    recoverFileSink({ dir, naming, subtaskIndex: 0, parallelism: 1, states: [] });
    expect(files()).toEqual(['.other.inprogress', '.results-0-0.inprogress', 'part-0-0']);
    expect(existsSync(join(dir, 'part-0-0')) && statSync(join(dir, 'part-0-0')).size).toBe(5);
  });
});
