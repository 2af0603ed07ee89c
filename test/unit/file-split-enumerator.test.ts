// A FileSource's files handed out on request: the JobManager's enumerator (one file per request, in
// path order; continuous discovery of new files, each handed out once; its checkpointed state and a
// damaged one), the coordinator answering requests that waited for files, and the readers asking
// for files, reading each line of each file exactly once whichever reader asks when.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckpointMetadata } from '../../common/checkpoint.js';
import type { AddSplitsRequest } from '../../common/control.js';
import { listFiles, listFilesSync } from '../../common/file-listing.js';
import type { JobVertex, OperatorDescriptor } from '../../common/jobgraph.js';
import {
  FileSplitEnumerator,
  parseFileEnumeratorState,
  type FileEnumeratorContext,
  type FileSourceSpec,
} from '../../jobmanager/file-split-enumerator.js';
import { SourceCoordinator, checkEnumeratorStates } from '../../jobmanager/source-coordinator.js';
import { createSourceReader, type SourceReader } from '../../taskmanager/connectors/source-readers.js';
import { savepointMetadata } from '../helpers/descriptors.js';
import { waitFor } from '../helpers/eventually.js';
import { ManualTime } from '../helpers/manual-time.js';
import { CollectingOutput } from '../helpers/task-fakes.js';
import { fakeTaskServices } from '../helpers/task-services.js';
import { mulberry32 } from '../reference/random.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-file-enumerator-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a file as a producer should: under a hidden name, then renamed into place. */
function put(name: string, content: string): string {
  const path = join(dir, name);
  const hidden = join(dir, `.${name.replaceAll('/', '_')}.tmp`);
  writeFileSync(hidden, content);
  renameSync(hidden, path);
  return path;
}

interface Events extends FileEnumeratorContext {
  discoveries: number;
  failures: string[];
  warnings: string[];
}

function events(): Events {
  const e: Events = {
    discoveries: 0,
    failures: [],
    warnings: [],
    discovered: () => void e.discoveries++,
    failed: (m) => void e.failures.push(m),
    warn: (m) => void e.warnings.push(m),
  };
  return e;
}

const spec = (paths: string[], discoveryIntervalMs?: number): FileSourceSpec => ({
  name: 'Source: Lines',
  paths,
  discoveryIntervalMs,
});

/** Every split the enumerator has for one asker, until it says there are no more or has none yet. */
function drainSplits(e: FileSplitEnumerator): { files: string[]; end: boolean } {
  const files: string[] = [];
  for (;;) {
    const s = e.nextSplits();
    if (s === null) return { files, end: false };
    files.push(...s.files);
    if (s.noMoreSplits) return { files, end: true };
  }
}

describe('listing files', () => {
  it('both listings agree: recursive, sorted, hidden names left out, each file once, a link back up the tree not followed', async () => {
    const b = put('b.txt', 'b\n');
    mkdirSync(join(dir, 'a', 'deep'), { recursive: true });
    const x = put('a/deep/x.txt', 'x\n');
    const y = put('a/y.txt', 'y\n');
    put('_tmp.txt', '');
    symlinkSync(dir, join(dir, 'a', 'loop'));
    const single = put('b2.txt', '');
    const listed = listFilesSync([dir, single]);
    expect(listed).toEqual([x, y, b, single]);
    expect(await listFiles([dir, single])).toEqual(listed);
  });
});

describe('FileSplitEnumerator', () => {
  it('bounded: lists once, hands out one file per request in path order, then no more', async () => {
    const ev = events();
    const b = put('b.txt', 'b\n');
    const a = put('a.txt', 'a\n');
    mkdirSync(join(dir, 'sub'));
    const c = put('sub/c.txt', 'c\n');
    put('_SUCCESS', '');
    const e = new FileSplitEnumerator(spec([dir]), undefined, ev);
    // Not listed yet: a request waits, and a snapshot says nothing was listed (a restore lists again).
    expect(e.nextSplits()).toBeNull();
    expect(e.snapshot()).toEqual({ pending: null });
    e.start();
    await waitFor('the listing', () => ev.discoveries === 1);
    expect(e.nextSplits()).toEqual({ ranges: [], files: [a], noMoreSplits: false });
    expect(e.snapshot()).toEqual({ pending: [b, c] });
    expect(drainSplits(e)).toEqual({ files: [b, c], end: true });
    expect(e.snapshot()).toEqual({ pending: [] });
    e.close();
  });

  it('restored: hands out what its state had pending, without listing; no state at all means the subtasks hold everything', async () => {
    const ev = events();
    put('a.txt', 'a\n');
    const restored = new FileSplitEnumerator(spec([dir]), { pending: ['/x/1', '/x/2'] }, ev);
    restored.start();
    expect(drainSplits(restored)).toEqual({ files: ['/x/1', '/x/2'], end: true });
    const interleaved = new FileSplitEnumerator(spec([dir]), 'no-state', ev);
    interleaved.start();
    expect(drainSplits(interleaved)).toEqual({ files: [], end: true });
    expect(ev.discoveries).toBe(0);
  });

  it('continuous: hands out each new file once, in the order found; a request waits while there is none', async () => {
    const ev = events();
    const a = put('a.txt', 'a\n');
    const e = new FileSplitEnumerator(spec([dir], 20), undefined, ev);
    e.start();
    await waitFor('the first listing', () => ev.discoveries === 1);
    expect(drainSplits(e)).toEqual({ files: [a], end: false });
    const c = put('c.txt', 'c\n');
    const b = put('b.txt', 'b\n');
    await waitFor('the new files', () => e.snapshot().pending!.length === 2);
    expect(drainSplits(e)).toEqual({ files: [b, c], end: false });
    // Changed files are not read again; hidden ones not at all.
    writeFileSync(a, 'a\nmore\n');
    writeFileSync(join(dir, '.d.txt.tmp'), 'half');
    const d = put('d.txt', 'd\n');
    await waitFor('d', () => e.snapshot().pending!.length === 1);
    expect(e.snapshot()).toEqual({ pending: [d], seen: [a, b, c, d] });
    e.close();
    // Restored from that state: d is still to read, and nothing it saw is read again.
    const ev2 = events();
    const f = put('f.txt', 'f\n');
    const r = new FileSplitEnumerator(spec([dir], 20), { pending: [d], seen: [a, b, c, d] }, ev2);
    r.start();
    await waitFor('f', () => r.snapshot().pending!.length === 2);
    expect(drainSplits(r)).toEqual({ files: [d, f], end: false });
    r.close();
  });

  it('continuous, restored without enumerator state: only files that appear afterwards are handed out', async () => {
    const ev = events();
    put('old.txt', 'old\n');
    const e = new FileSplitEnumerator(spec([dir], 20), 'no-state', ev);
    e.start();
    await waitFor('the first listing', () => e.snapshot().seen?.length === 1);
    expect(drainSplits(e)).toEqual({ files: [], end: false });
    expect(ev.discoveries).toBe(0);
    const n = put('new.txt', 'new\n');
    await waitFor('the new file', () => ev.discoveries === 1);
    expect(drainSplits(e)).toEqual({ files: [n], end: false });
    e.close();
  });

  it('a path missing at the start fails the job; missing later, it is retried with a warning', async () => {
    const ev = events();
    const missing = join(dir, 'nope');
    new FileSplitEnumerator(spec([missing]), undefined, ev).start();
    await waitFor('the failure', () => ev.failures.length === 1);
    expect(ev.failures[0]).toBe(
      `FileSource 'Source: Lines': FileSource: path '${missing}' does not exist (resolved to ${missing})`,
    );
    const sub = join(dir, 'in');
    mkdirSync(sub);
    const ev2 = events();
    const e = new FileSplitEnumerator(spec([sub], 20), undefined, ev2);
    e.start();
    await waitFor('the first listing', () => e.snapshot().pending !== null);
    rmSync(sub, { recursive: true });
    await waitFor('a warning', () => ev2.warnings.length > 0);
    expect(ev2.failures).toEqual([]);
    mkdirSync(sub);
    writeFileSync(join(sub, 'x.txt'), 'x\n');
    await waitFor('x', () => ev2.discoveries === 1);
    expect(drainSplits(e).files).toEqual([join(sub, 'x.txt')]);
    e.close();
  });

  it('refuses a damaged state with a clear error', () => {
    for (const bad of [null, 'x', { pending: 'soon' }, { pending: [1] }, { pending: [], seen: [''] }, {}])
      expect(() => parseFileEnumeratorState(bad, 'Source: Lines')).toThrow(
        /^the checkpoint's split enumerator state of source 'Source: Lines' is not valid: /,
      );
    expect(parseFileEnumeratorState({ pending: null, seen: ['/a'] }, 'x')).toEqual({ pending: null, seen: ['/a'] });
  });
});

const OP = 'op-files';

function vertex(paths: string[], discoveryIntervalMs?: number): JobVertex {
  const config = {
    sourceKind: 'file',
    bounded: discoveryIntervalMs === undefined,
    paths,
    format: 'text-line',
    ...(discoveryIntervalMs === undefined ? {} : { discoveryIntervalMs }),
  };
  return {
    id: OP,
    name: 'Source: Lines',
    parallelism: 2,
    maxParallelism: 128,
    numInputs: 0,
    operators: [{ id: OP, name: 'Source: Lines', kind: 'source', config }] as unknown as JobVertex['operators'],
  };
}

function metadata(coordinatorState: unknown): CheckpointMetadata {
  return savepointMetadata([
    { operatorId: OP, name: 'Source: Lines', parallelism: 2, maxParallelism: 128, subtasks: [], coordinatorState },
  ]);
}

describe('SourceCoordinator with a FileSource', () => {
  it('answers requests that waited for files as they are discovered, first come first served, and stops listing when stopped', async () => {
    const sent: AddSplitsRequest[] = [];
    const failures: string[] = [];
    const coord = new SourceCoordinator('j', {
      send: async (r) => void sent.push(r),
      undelivered: (_e, m) => failures.push(m),
      failed: (m) => failures.push(m),
      warn: () => {},
    });
    coord.reset([vertex([dir], 20)], undefined);
    coord.onSplitRequest('e1', OP);
    coord.onSplitRequest('e0', OP);
    coord.onSplitRequest('e1', OP);
    const a = put('a.txt', 'a\n');
    const b = put('b.txt', 'b\n');
    await waitFor('both answered', () => sent.length === 2);
    expect(sent.map((r) => [r.executionId, r.files, r.noMoreSplits])).toEqual([
      ['e1', [a], false],
      ['e0', [b], false],
    ]);
    expect(coord.snapshot()).toEqual({ [OP]: { pending: [], seen: [a, b] } });
    coord.stop();
    put('c.txt', 'c\n');
    coord.onSplitRequest('e0', OP);
    await new Promise((r) => setTimeout(r, 100));
    expect(sent).toHaveLength(2);
    expect(failures).toEqual(['source operator op-files hands out no splits on request']);
  });

  it('a path missing at the start fails the job over; a damaged state is refused before the job starts', async () => {
    const failures: string[] = [];
    const coord = new SourceCoordinator('j', {
      send: async () => {},
      undelivered: () => {},
      failed: (m) => failures.push(m),
      warn: () => {},
    });
    coord.reset([vertex([join(dir, 'gone')])], undefined);
    await waitFor('the failure', () => failures.length === 1);
    expect(failures[0]).toMatch(/^FileSource 'Source: Lines': FileSource: path '.*gone' does not exist/);
    expect(() => checkEnumeratorStates([vertex([dir])], metadata({ pending: 'soon' }))).toThrow(
      "the checkpoint's split enumerator state of source 'Source: Lines' is not valid",
    );
    expect(() => coord.reset([vertex([dir])], metadata({ pending: ['/a'] }))).not.toThrow();
    coord.stop();
  });
});

const descriptor = {
  id: OP,
  name: 'Source: Lines',
  kind: 'source',
  config: { sourceKind: 'file', bounded: true, paths: [], format: 'text-line' },
  stateful: false,
  outputs: [],
} as unknown as OperatorDescriptor;

describe('RequestedFilesReader', () => {
  it('readers asking in random order read every line of every file once; each asks as it starts its last file', () => {
    const random = mulberry32(7);
    const expected: string[] = [];
    const files: string[] = [];
    for (let f = 0; f < 30; f++) {
      const lines = Array.from({ length: Math.floor(random() * 50) }, (_, l) => `f${f}-l${l}-${random()}`);
      expected.push(...lines);
      files.push(put(`f${String(f).padStart(2, '0')}.txt`, lines.map((l) => `${l}\n`).join('')));
    }
    const requests: number[] = [];
    const source = { paths: [dir], format: { kind: 'text-line' } };
    const readers: SourceReader[] = [0, 1, 2].map((i) =>
      createSourceReader(
        descriptor,
        source,
        fakeTaskServices({ processingTime: new ManualTime(), subtaskIndex: i, parallelism: 3 }),
        descriptor.name,
        { requestSplit: () => requests.push(i) },
      ),
    );
    for (const r of readers) void r.start!({} as never);
    expect(requests).toEqual([0, 1, 2]);
    const out = new CollectingOutput();
    let next = 0;
    while (readers.some((r) => !r.finished)) {
      // Answer a random pending request, or let a random reader read a little.
      if (requests.length > 0 && random() < 0.3) {
        const k = Math.floor(random() * requests.length);
        const asker = requests.splice(k, 1)[0]!;
        const file = files[next++];
        readers[asker]!.addSplits!({ ranges: [], files: file ? [file] : [], noMoreSplits: file === undefined });
      } else {
        const r = readers[Math.floor(random() * readers.length)]!;
        r.emitBatch(1 + Math.floor(random() * 20), out);
        // A reader never holds more than its current file and the next.
        expect((r.snapshotSplits() as unknown[]).length).toBeLessThanOrEqual(2);
      }
      // At most one request outstanding per reader.
      expect(new Set(requests).size).toBe(requests.length);
    }
    expect([...(out.values as string[])].sort()).toEqual([...expected].sort());
  });

  it('waits for a file when it has none, and restores the files a snapshot held', async () => {
    const a = put('a.txt', 'a1\na2\n');
    const requests: number[] = [];
    const make = () =>
      createSourceReader(
        descriptor,
        { paths: [dir], format: { kind: 'text-line' } },
        fakeTaskServices({ processingTime: new ManualTime(), subtaskIndex: 0, parallelism: 1 }),
        descriptor.name,
        { requestSplit: () => requests.push(0) },
      );
    const r = make();
    await r.start!({} as never);
    let ready = false;
    const available = r.available!().then(() => (ready = true));
    await Promise.resolve();
    expect(ready).toBe(false);
    r.addSplits!({ ranges: [], files: [a], noMoreSplits: false });
    await available;
    const out = new CollectingOutput();
    r.emitBatch(1, out);
    const snapshot = r.snapshotSplits();
    expect(snapshot).toEqual([{ path: a, offset: 3 }]);
    const restored = make();
    restored.restoreSplits(snapshot);
    restored.addSplits!({ ranges: [], files: [], noMoreSplits: true });
    while (!restored.finished) restored.emitBatch(10, out);
    expect(out.values).toEqual(['a1', 'a2']);
  });

  it('monitorContinuously needs the JobManager: without an enumerator the reader says so', () => {
    expect(() =>
      createSourceReader(
        descriptor,
        { paths: [dir], format: { kind: 'text-line' }, discoveryIntervalMs: 100 },
        fakeTaskServices({ processingTime: new ManualTime(), subtaskIndex: 0, parallelism: 1 }),
        descriptor.name,
      ),
    ).toThrow(/monitorContinuously\(\) needs the JobManager/);
  });
});
