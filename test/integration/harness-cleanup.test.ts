// The test harness's temporary directory (snapshot files, level databases) does not outlive its
// process: removed on a normal exit, and, for a process killed by a signal (a test runner's
// workers are, so no exit handler runs), by the next process that makes one.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const dist = (path: string) => pathToFileURL(resolve(import.meta.dirname, '../../dist', path)).href;
const TESTING = dist('taskmanager/testing/index.js');
const API = dist('api/index.js');

// Takes a level-backed snapshot (files in the harness directory), prints the directory, then
// waits to be killed or exits when told.
const CHILD = `
import { KeyedOneInputHarness } from ${JSON.stringify(TESTING)};
import { KeyedProcessFunction, ValueStateDescriptor } from ${JSON.stringify(API)};
class Sum extends KeyedProcessFunction {
  open() { this.sum = this.getRuntimeContext().getState(new ValueStateDescriptor('sum')); }
  processElement(v, _ctx, out) { this.sum.update((this.sum.value() ?? 0) + v); out.collect(v); }
}
const h = new KeyedOneInputHarness(new Sum(), (v) => v % 3, { stateBackend: 'level' });
await h.open();
for (let i = 0; i < 10; i++) h.processElement(i, i);
await h.snapshot();
process.stdout.write('ready\\n');
process.stdin.on('data', () => process.exit(0));
`;

describe('the harness directory', () => {
  let tmp: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'weir-harness-cleanup-test-'));
  });

  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Starts a child with its own TMPDIR; resolves once its snapshot is written. */
  async function startChild(): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    await new Promise<void>((ok, fail) => {
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) ok();
      });
      child.once('exit', (code, signal) => fail(new Error(`harness child exited early (${code ?? signal})`)));
    });
    return child;
  }

  const roots = () => readdirSync(tmp).filter((n) => n.startsWith('weir-harness-'));
  const exited = (c: ChildProcess) => new Promise((ok) => c.once('exit', ok));

  it('is removed when its process exits normally', async () => {
    const child = await startChild();
    expect(roots()).toEqual([expect.stringMatching(new RegExp(`^weir-harness-${child.pid}-`))]);
    const done = exited(child);
    child.stdin!.write('exit\n');
    await done;
    expect(roots()).toEqual([]);
  });

  it('of a killed process is removed by the next process that makes one, and a live one is kept', async () => {
    const killed = await startChild();
    const [killedRoot] = roots();
    expect(readdirSync(join(tmp, killedRoot!)).length).toBeGreaterThan(0);
    const done = exited(killed);
    killed.kill('SIGKILL');
    await done;
    expect(existsSync(join(tmp, killedRoot!))).toBe(true);

    const live = await startChild();
    expect(existsSync(join(tmp, killedRoot!))).toBe(false);
    const next = await startChild();
    const ofPid = (pid: number | undefined) => roots().filter((n) => n.startsWith(`weir-harness-${pid}-`));
    expect(roots()).toHaveLength(2);
    expect(ofPid(live.pid)).toHaveLength(1);
    expect(ofPid(next.pid)).toHaveLength(1);
  });
});
