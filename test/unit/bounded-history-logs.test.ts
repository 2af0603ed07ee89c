// A job's exception history is bounded by web.exception-history-size; a process's log file rolls
// by size into <file>.1 ... <file>.<n> (log.file.max-size / log.file.max-files).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Configuration } from '../../common/config.js';
import type { JobGraph } from '../../common/jobgraph.js';
import { createLogger, logFileOptions } from '../../common/logging.js';
import { ExceptionHistory, ExecutionGraph, type ExceptionEntry } from '../../jobmanager/execution-graph.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function entry(i: number): ExceptionEntry {
  return {
    exceptionName: `E${i}`,
    stacktrace: `failure ${i}`,
    timestamp: i,
    taskName: null,
    location: null,
    taskManagerId: null,
  };
}

describe('exception history', () => {
  it('keeps the newest web.exception-history-size failures; the root cause is always the latest', () => {
    const h = new ExceptionHistory(3);
    for (let i = 1; i <= 5; i++) h.push(entry(i));
    expect(h.map((e) => e.stacktrace)).toEqual(['failure 3', 'failure 4', 'failure 5']);
    expect(h.at(-1)?.stacktrace).toBe('failure 5');
    expect(h.dropped).toBe(2);
    expect([...h].reverse()[0]!.exceptionName).toBe('E5');
    expect(Array.isArray(h.filter(() => true))).toBe(true);
    expect(JSON.stringify(h)).toBe(JSON.stringify([entry(3), entry(4), entry(5)]));
    expect(() => new ExceptionHistory(0)).toThrow(/web.exception-history-size/);
  });

  it("is 16 by default in an ExecutionGraph, as Flink's", () => {
    const graph = { jobId: 'x', name: 'j', vertices: [], edges: [], config: {} } as unknown as JobGraph;
    const eg = new ExecutionGraph('0'.repeat(32), graph, Date.now());
    for (let i = 0; i < 40; i++) eg.exceptionHistory.push(entry(i));
    expect(eg.exceptionHistory.length).toBe(16);
    expect(eg.exceptionHistory[0]!.stacktrace).toBe('failure 24');
    expect(new ExecutionGraph('0'.repeat(32), graph, Date.now(), 2).exceptionHistory.maxSize).toBe(2);
    expect(new Configuration().getInt('web.exception-history-size')).toBe(16);
  });
});

describe('rolling log file', () => {
  it('rolls at log.file.max-size into <file>.1 (newest) ... <file>.<max-files>, deleting older ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-logs-'));
    roots.push(dir);
    const file = join(dir, 'jobmanager.log');
    const opts = logFileOptions(new Configuration({ 'log.file.max-size': '4 kb', 'log.file.max-files': '2' }));
    expect(opts).toEqual({ maxFileSize: 4096, maxFiles: 2 });
    const log = createLogger('test', file, { ...opts, level: 'info', stdout: false });
    const line = 'x'.repeat(200);
    for (let i = 0; i < 150; i++) {
      log.info({ i }, line);
      // Let the writes interleave with rotations as they do in a live process.
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise<void>((r) => log.flush(() => r()));
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['jobmanager.log', 'jobmanager.log.1', 'jobmanager.log.2']);
    // Each file is at most the size plus the line that crossed it.
    for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThan(4096 + 400);
    // The active file holds the newest lines, .1 the ones just before, all JSON lines.
    const last = (f: string) =>
      JSON.parse(readFileSync(join(dir, f), 'utf8').trim().split('\n').at(-1)!) as { i: number };
    const first = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8').split('\n')[0]!) as { i: number };
    expect(last('jobmanager.log').i).toBe(149);
    expect(last('jobmanager.log.1').i + 1).toBe(first('jobmanager.log').i);
    expect(last('jobmanager.log.2').i + 1).toBe(first('jobmanager.log.1').i);
    expect(existsSync(join(dir, 'jobmanager.log.3'))).toBe(false);
  });

  it('refuses sizes and counts that are not positive', () => {
    expect(() => createLogger('t', join(tmpdir(), 'never.log'), { maxFileSize: 0, stdout: false })).toThrow(
      /log.file.max-size/,
    );
    expect(() => createLogger('t', join(tmpdir(), 'never.log'), { maxFiles: 0, stdout: false })).toThrow(
      /log.file.max-files/,
    );
  });
});
