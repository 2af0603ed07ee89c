// Starts real `weir cluster start` processes from dist/ (relies on `npm test`'s pretest build).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAllWith, pidsWith, until } from '../helpers/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'weir.js');

describe('weir cluster start', () => {
  let dir: string;
  let launcher: ChildProcess | undefined;
  let output = '';

  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'cli', 'main.js')))
      throw new Error('dist/cli/main.js is missing: run npm run build first');
  });

  afterEach(() => {
    // Whatever happened, nothing of this test may keep running.
    killAllWith(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  afterAll(() => launcher?.kill('SIGKILL'));

  function start(taskManagers: number, slots: number | null = 1): ChildProcess {
    dir = mkdtempSync(join(tmpdir(), 'weir-cluster-test-'));
    output = '';
    const args = [
      bin,
      'cluster',
      'start',
      '--port',
      '0',
      '--rpc-port',
      '0',
      '--taskmanagers',
      String(taskManagers),
      ...(slots === null ? [] : ['--slots', String(slots)]),
      '--dir',
      dir,
    ];
    launcher = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    launcher.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    launcher.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    return launcher;
  }

  const exitOf = (p: ChildProcess) =>
    new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (code) => r(code))));

  it('starts a JobManager and N TaskManagers, reports them, and stops them all on SIGTERM', async () => {
    const p = start(2);
    const restUrl = await until('the cluster to start', () => /REST API: (http:\/\/\S+)/.exec(output)?.[1]);
    const overview = (await (await fetch(`${restUrl}/overview`)).json()) as {
      taskmanagers: number;
      'slots-total': number;
    };
    expect(overview.taskmanagers).toBe(2);
    expect(overview['slots-total']).toBe(2);
    expect(pidsWith(dir).length).toBe(4); // launcher, JobManager, two TaskManagers
    expect(existsSync(join(dir, 'jobmanager.out'))).toBe(true);
    expect(existsSync(join(dir, 'taskmanager-2.out'))).toBe(true);

    p.kill('SIGTERM');
    expect(await exitOf(p)).toBe(0);
    await until('the children to stop', () => pidsWith(dir).length === 0, 15_000);
  });

  it('sizes its slots to the machine unless told, and leaves no orphans when the launcher is SIGKILLed', async () => {
    const p = start(1, null);
    await until('the cluster to start', () => output.includes('Press Ctrl-C'));
    const slots = Math.max(4, availableParallelism());
    expect(output).toContain(
      `with 1 TaskManager of ${slots} slots each (from this machine's ${availableParallelism()} cores, at least 4;`,
    );
    const restUrl = /REST API: (http:\/\/\S+)/.exec(output)![1];
    expect(((await (await fetch(`${restUrl}/overview`)).json()) as { 'slots-total': number })['slots-total']).toBe(
      slots,
    );
    expect(pidsWith(dir).length).toBe(3);
    p.kill('SIGKILL');
    await exitOf(p);
    await until('the children to notice their parent is gone', () => pidsWith(dir).length === 0, 15_000);
  });
});
