import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

function writer(closed: ClosedPart[], opts: { subtaskIndex?: number; rollBytes?: number; firstPartNumber?: number } = {}): RowFormatPartWriter {
  return new RowFormatPartWriter(
    { dir, subtaskIndex: opts.subtaskIndex ?? 0, naming, rollBytes: opts.rollBytes ?? 1 << 20, firstPartNumber: opts.firstPartNumber ?? 0 },
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
    w.write('a');
    w.write('ünï');
    expect(files()).toEqual(['.part-0-4.inprogress']);
    w.closePart();
    expect(closed).toEqual([{ name: 'part-0-4', size: Buffer.byteLength('a\nünï\n') }]);
    expect(readFileSync(join(dir, '.part-0-4.inprogress'), 'utf8')).toBe('a\nünï\n');
    w.write('b');
    w.closePart();
    expect(closed.map((p) => p.name)).toEqual(['part-0-4', 'part-0-5']);
  });

  it('rolls a part once it reaches the size limit', () => {
    const closed: ClosedPart[] = [];
    const w = writer(closed, { rollBytes: 10 });
    for (let i = 0; i < 7; i++) w.write(`line${i}`); // 6 bytes each: two per part
    expect(closed).toEqual([
      { name: 'part-0-0', size: 12 },
      { name: 'part-0-1', size: 12 },
      { name: 'part-0-2', size: 12 },
    ]);
    expect(files()).toEqual(['.part-0-0.inprogress', '.part-0-1.inprogress', '.part-0-2.inprogress', '.part-0-3.inprogress']);
  });

  it('abort leaves the open part hidden and hands nothing on', () => {
    const closed: ClosedPart[] = [];
    const w = writer(closed);
    w.write('x');
    w.abort();
    expect(closed).toEqual([]);
    expect(files()).toEqual(['.part-0-0.inprogress']);
  });

  it('refuses to write into a hidden file that already exists', () => {
    writeFileSync(join(dir, hiddenPartName('part-0-0')), 'someone else');
    const w = writer([]);
    expect(() => w.write('x')).toThrow(/part-0-0\.inprogress/);
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
    expect(() => commitPendingFile(dir, pending('part-0-7', 4))).toThrow(/part-0-7 of checkpoint 3 is gone.*\.part-0-7\.inprogress/);
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
    expect(c.prepareSnapshot(3).map((p) => [p.name, p.checkpointId])).toEqual([['part-0-0', 1], ['part-0-1', 2], ['part-0-2', 3]]);
    c.add(closedPart('part-0-3')); // closed after checkpoint 3: belongs to the next one
    expect(c.commitUpTo(2)).toEqual([join(dir, 'part-0-0'), join(dir, 'part-0-1')]);
    expect(files()).toEqual(['.part-0-2.inprogress', '.part-0-3.inprogress', 'part-0-0', 'part-0-1']);
    expect(c.commitUpTo(2)).toEqual([]);
    expect(c.prepareSnapshot(4).map((p) => p.name)).toEqual(['part-0-2', 'part-0-3']);
    c.commitUpTo(4);
    expect(c.size).toBe(0);
    expect(c.committed).toEqual(['part-0-0', 'part-0-1', 'part-0-2', 'part-0-3'].map((n) => join(dir, n)));
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

describe('recoverFileSink', () => {
  function state(subtaskIndex: number, pending: [string, string][]): FileSinkWriterState {
    for (const [name, content] of pending) writeFileSync(join(dir, hiddenPartName(name)), content);
    return { dir, subtaskIndex, pending: pending.map(([name, content]) => ({ name, size: Buffer.byteLength(content), checkpointId: 7 })) };
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

  it('rejects state that is not FileSink writer state', () => {
    expect(() => recoverFileSink({ dir, naming, subtaskIndex: 0, parallelism: 1, states: [{ next: 3 }] })).toThrow(/not a FileSink writer state/);
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
