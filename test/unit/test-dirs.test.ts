// The test harness keeps a cluster's directory until the test has finished, and prints its logs'
// tails when it failed (test/helpers/test-dirs.ts).
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { printLogTails, removeAfterTest } from '../helpers/test-dirs.js';

function dirWithLogs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-test-dirs-'));
  mkdirSync(join(dir, 'taskmanager-0', 'store'), { recursive: true });
  const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
  writeFileSync(join(dir, 'jobmanager.out'), `${lines}\n`);
  writeFileSync(join(dir, 'taskmanager-0', 'taskmanager.log'), 'only line\n');
  writeFileSync(join(dir, 'taskmanager-0', 'store', '000003.log'), 'leveldb bytes');
  return dir;
}

describe('test directories', () => {
  it("prints the last 40 lines of each process's log, not LevelDB's", () => {
    const dir = dirWithLogs();
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      printLogTails(dir);
    } finally {
      spy.mockRestore();
    }
    const out = written.join('');
    expect(out).toContain('--- last 40 lines of jobmanager.out ---\nline 60\n');
    expect(out).toContain('line 99');
    expect(out).not.toContain('line 59\n');
    expect(out).toContain(`--- last 1 lines of ${join('taskmanager-0', 'taskmanager.log')} ---\nonly line`);
    expect(out).not.toContain('leveldb');
    removeAfterTest(dir)();
  });

  const dirs: string[] = [];
  it("keeps a stopped cluster's directory until its test has finished", () => {
    const dir = dirWithLogs();
    dirs.push(dir);
    removeAfterTest(dir)();
    expect(existsSync(dir)).toBe(true);
  });

  it('then removes it', () => {
    expect(existsSync(dirs[0]!)).toBe(false);
  });
});
