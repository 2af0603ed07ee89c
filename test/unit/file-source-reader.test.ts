import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSource, TextLineInputFormat } from '../../api/file-source.js';
import type { OperatorDescriptor } from '../../common/jobgraph.js';
import { FileSourceReader, type FileSourceSplit } from '../../taskmanager/connectors/file-source-reader.js';
import { createSourceReader, type SourceReader } from '../../taskmanager/connectors/source-readers.js';
import { TextLineSplitReader } from '../../taskmanager/connectors/text-line-split-reader.js';
import type { Output } from '../../taskmanager/operators/operator.js';
import { CollectingOutput } from '../helpers/task-fakes.js';
import { fakeTaskServices } from '../helpers/task-services.js';
import { ManualTime } from '../helpers/manual-time.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-file-source-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function allLines(r: TextLineSplitReader): string[] {
  const out: string[] = [];
  for (let l = r.nextLine(); l !== undefined; l = r.nextLine()) out.push(l);
  r.release();
  return out;
}

const descriptor: OperatorDescriptor = {
  id: 'a'.repeat(32),
  name: 'Source: Files',
  kind: 'source',
  config: { sourceKind: 'file', bounded: true, paths: [], format: 'text-line' },
  stateful: false,
  outputs: [],
};

function reader(source: FileSource, subtaskIndex = 0, parallelism = 1): SourceReader {
  return createSourceReader(
    descriptor,
    source,
    fakeTaskServices({ processingTime: new ManualTime(), subtaskIndex, parallelism }),
    descriptor.name,
  );
}

function drain(r: SourceReader, batch = 256): unknown[] {
  const out = new CollectingOutput();
  while (!r.finished) r.emitBatch(batch, out);
  return out.values;
}

describe('TextLineSplitReader', () => {
  it('cuts lines on \\n and \\r\\n, keeps empty lines and a last line without terminator', () => {
    const cases: [string, string[]][] = [
      ['', []],
      ['\n', ['']],
      ['a', ['a']],
      ['a\n', ['a']],
      ['a\n\nb', ['a', '', 'b']],
      ['a\r\nb\r\n\r\nc', ['a', 'b', '', 'c']],
      ['lone\rcr\n', ['lone\rcr']],
      ['\n\n', ['', '']],
    ];
    for (const [content, lines] of cases) {
      const path = file('f.txt', content);
      for (const chunk of [1, 2, 3, 64 * 1024])
        expect(
          allLines(new TextLineSplitReader(path, 0, chunk)),
          `${JSON.stringify(content)} in chunks of ${chunk}`,
        ).toEqual(lines);
    }
  });

  it('decodes multibyte UTF-8 split across chunks, whatever the chunk size', () => {
    const lines = ['häßlich €', '', '😀🎉 emoji', 'ascii', 'x'.repeat(40) + 'ж', '日本語のテキスト', '\r'];
    const content = lines.join('\r\n') + '\n';
    const path = file('utf8.txt', content);
    for (let chunk = 1; chunk <= 17; chunk++)
      expect(allLines(new TextLineSplitReader(path, 0, chunk)), `chunks of ${chunk}`).toEqual(
        lines.map((l) => (l === '\r' ? '' : l)),
      );
  });

  it('a four-byte character across the 64 KiB boundary and lines longer than a chunk', () => {
    const first = 'a'.repeat(65534) + '😀'; // the emoji occupies bytes 65534..65537
    const long = 'é'.repeat(100_000);
    const path = file('big.txt', `${first}\n${long}\r\nend`);
    expect(allLines(new TextLineSplitReader(path, 0))).toEqual([first, long, 'end']);
  });

  it('offset is the byte offset of the next line, and resumes there', () => {
    const path = file('f.txt', 'é1\r\n\nthird\nlast');
    const r = new TextLineSplitReader(path, 0, 3);
    expect(r.nextLine()).toBe('é1');
    expect(r.offset).toBe(5);
    expect(r.nextLine()).toBe('');
    expect(r.offset).toBe(6);
    r.release();
    expect(allLines(new TextLineSplitReader(path, 6, 3))).toEqual(['third', 'last']);
    expect(allLines(new TextLineSplitReader(path, 16))).toEqual([]);
  });

  it('says which file is missing, or too short to resume', () => {
    expect(() => new TextLineSplitReader(join(dir, 'nope.txt'), 0).nextLine()).toThrow(
      `FileSource: file ${join(dir, 'nope.txt')} does not exist`,
    );
    const path = file('short.txt', 'ab\n');
    expect(() => new TextLineSplitReader(path, 10).nextLine()).toThrow(
      /cannot resume .*short\.txt at byte 10: the file has only 3 bytes/,
    );
  });
});

describe('FileSource', () => {
  it('builds from files and directories with TextLineInputFormat', () => {
    const s = FileSource.forRecordStreamFormat(new TextLineInputFormat(), '/data/a', '/data/b.txt').build();
    expect(s.paths).toEqual(['/data/a', '/data/b.txt']);
    expect(s.boundedness).toBe('BOUNDED');
    expect(() => FileSource.forRecordStreamFormat(new TextLineInputFormat())).toThrow(/at least one file or directory/);
    expect(() => FileSource.forRecordStreamFormat({} as TextLineInputFormat, '/x')).toThrow(
      /needs a TextLineInputFormat/,
    );
    expect(() => new TextLineInputFormat('ISO-8859-1')).toThrow(/only UTF-8/);
  });

  it('reads a directory as the regular files below it, recursively, but for names starting with . or _, in path order', () => {
    file('b.txt', 'b1\nb2\n');
    file('a.txt', 'a1\na2');
    file('.hidden', 'never\n');
    file('_SUCCESS', 'never\n');
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'x.txt'), 'nested\n');
    writeFileSync(join(dir, 'sub', 'deeper', 'y.txt'), 'deeper\n');
    writeFileSync(join(dir, 'sub', '.part-0-0.inprogress'), 'never\n');
    mkdirSync(join(dir, '.staging'));
    writeFileSync(join(dir, '.staging', 'z.txt'), 'never\n');
    file('c.txt', '');
    expect(drain(reader(FileSource.forRecordStreamFormat(new TextLineInputFormat(), dir).build()))).toEqual([
      'a1',
      'a2',
      'b1',
      'b2',
      'deeper',
      'nested',
    ]);
  });

  it('subtask i of p reads the files whose index is i mod p', () => {
    for (let k = 0; k < 5; k++) file(`f${k}.txt`, `f${k}-1\nf${k}-2\n`);
    const source = FileSource.forRecordStreamFormat(new TextLineInputFormat(), dir).build();
    expect(drain(reader(source, 0, 2))).toEqual(['f0-1', 'f0-2', 'f2-1', 'f2-2', 'f4-1', 'f4-2']);
    expect(drain(reader(source, 1, 2))).toEqual(['f1-1', 'f1-2', 'f3-1', 'f3-2']);
    expect(reader(source, 2, 6).snapshotSplits()).toEqual([{ path: join(dir, 'f2.txt'), offset: 0 }]);
    expect(reader(source, 5, 6).finished).toBe(true);
  });

  it('a snapshot mid-file restores into a new reader with exactly the remaining lines', () => {
    const lines = Array.from({ length: 1000 }, (_, k) => `line ${k} ${'ü'.repeat(k % 7)}`);
    file('a.txt', lines.slice(0, 600).join('\n') + '\n');
    file('b.txt', lines.slice(600).join('\r\n'));
    const source = FileSource.forRecordStreamFormat(new TextLineInputFormat(), dir).build();
    for (const cut of [1, 255, 599, 600, 601, 999]) {
      const first = reader(source);
      const out = new CollectingOutput();
      while (out.values.length < cut) first.emitBatch(Math.min(97, cut - out.values.length), out);
      // The state goes through a checkpoint as plain data.
      const state = structuredClone(first.snapshotSplits());
      const second = reader(source);
      second.restoreSplits(state);
      expect([...out.values, ...drain(second)], `cut after ${cut}`).toEqual(lines);
    }
  });

  it('splits of two former subtasks restore into one reader', () => {
    for (let k = 0; k < 4; k++) file(`f${k}.txt`, `f${k}-1\nf${k}-2\nf${k}-3\n`);
    const source = FileSource.forRecordStreamFormat(new TextLineInputFormat(), dir).build();
    const r0 = reader(source, 0, 2);
    const r1 = reader(source, 1, 2);
    const out0 = new CollectingOutput();
    const out1 = new CollectingOutput();
    r0.emitBatch(4, out0);
    r1.emitBatch(2, out1);
    expect([...out0.values, ...out1.values]).toEqual(['f0-1', 'f0-2', 'f0-3', 'f2-1', 'f1-1', 'f1-2']);
    const merged = reader(source, 0, 1);
    merged.restoreSplits([...r0.snapshotSplits(), ...r1.snapshotSplits()]);
    expect(drain(merged)).toEqual(['f2-2', 'f2-3', 'f1-3', 'f3-1', 'f3-2', 'f3-3']);
  });

  it('stops a batch when an async sink asks to wait', () => {
    file('a.txt', '1\n2\n3\n');
    const services = fakeTaskServices({ processingTime: new ManualTime() });
    const r = new FileSourceReader([{ path: join(dir, 'a.txt'), offset: 0 }], services);
    const out: Output = {
      collect: () => void (services.pending = Promise.resolve()),
      collectSide: () => {},
      emitWatermark: () => {},
    };
    expect(r.emitBatch(10, out)).toBe(1);
    expect(r.snapshotSplits()).toEqual([{ path: join(dir, 'a.txt'), offset: 2 }]);
  });

  it('names a missing file or directory, and rejects state that is not a file split', () => {
    const missing = join(dir, 'missing');
    expect(() => reader(FileSource.forRecordStreamFormat(new TextLineInputFormat(), missing).build())).toThrow(
      `FileSource: path '${missing}' does not exist`,
    );
    const path = file('gone.txt', 'x\n');
    const r = reader(FileSource.forRecordStreamFormat(new TextLineInputFormat(), path).build());
    rmSync(path);
    expect(() => r.emitBatch(1, new CollectingOutput())).toThrow(`FileSource: file ${path} does not exist`);
    expect(() => r.restoreSplits([{ next: 1, end: 2, stride: 1 }])).toThrow(/is not a file split/);
    const restored: FileSourceSplit[] = [{ path: join(dir, 'other.txt'), offset: 0 }];
    r.restoreSplits(restored);
    expect(() => r.emitBatch(1, new CollectingOutput())).toThrow(/other\.txt does not exist/);
  });
});
