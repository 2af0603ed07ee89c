// `weir cluster start` under the supervisors it meets: npm (which passes SIGTERM only to the
// `sh -c` running the script, and that shell does not pass it on), npx, a plain shell, a parent
// killed with SIGKILL. Whatever goes away, the launcher stops the cluster as on Ctrl-C: every
// process exits 0 within cluster.shutdown.timeout and none is left behind (counted by the test's
// unique directory in their command lines, reparented orphans included).
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/package-root.js';
import { sleep } from '../helpers/eventually.js';
import { killAllWith, pidsWith, until } from '../helpers/processes.js';

const ROOT = packageRoot();
const BIN = join(ROOT, 'bin', 'weir.js');
const SHUTDOWN_TIMEOUT_S = 10;
/** npm without its network side trips (update check, funding, audit). */
const NPM_ENV = {
  ...process.env,
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
};

interface Supervised {
  proc: ChildProcess;
  output(): string;
}

let dir = '';
let supervisor: ChildProcess | undefined;

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js')))
    throw new Error('dist/cli/main.js is missing: run npm run build first');
});

afterEach(() => {
  // Whatever happened, nothing of this test may keep running.
  supervisor?.kill('SIGKILL');
  supervisor = undefined;
  if (dir) {
    killAllWith(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  dir = '';
});

/** The arguments of `weir cluster start` (after the weir command itself) in the test's directory. */
function clusterStart(extra: string[] = []): string[] {
  dir = mkdtempSync(join(tmpdir(), 'weir-supervisor-test-'));
  return [
    'cluster',
    'start',
    '--port',
    '0',
    '--rpc-port',
    '0',
    '--taskmanagers',
    '1',
    '--slots',
    '1',
    '--dir',
    join(dir, 'cluster'),
    '-D',
    `cluster.shutdown.timeout=${SHUTDOWN_TIMEOUT_S} s`,
    ...extra,
  ];
}

function shellWords(words: string[]): string {
  return words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
}

function run(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Supervised {
  let output = '';
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  supervisor = proc;
  return { proc, output: () => output };
}

/** A package whose script `cluster` starts the cluster, and whose local bin `weir` is this one (npx needs no registry). */
function npmPackage(clusterArgs: string[]): string {
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(BIN, join(pkg, 'node_modules', '.bin', 'weir'));
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'weir-supervisor-test',
      private: true,
      scripts: { cluster: shellWords([process.execPath, BIN, ...clusterArgs]) },
    }),
  );
  return pkg;
}

async function started(s: Supervised, processes: number): Promise<void> {
  await until('the cluster to start', () => s.output().includes('Press Ctrl-C') || s.proc.exitCode !== null, 60_000);
  expect(s.output(), s.output()).toContain('Press Ctrl-C');
  // Give the wrappers' own processes time to show up too.
  await until(`${processes} processes of the test`, () => pidsWith(dir).length === processes, 5_000);
}

/** Every process gone within cluster.shutdown.timeout of `since`, each having stopped cleanly. */
async function stoppedCleanly(s: Supervised, since: number): Promise<void> {
  await until(
    'every process of the cluster to exit',
    () => pidsWith(dir).length === 0,
    (SHUTDOWN_TIMEOUT_S + 10) * 1000,
  );
  // The promise itself, not a guess at machine speed: a stop takes about a second, and each process
  // enforces the timeout on itself (its log below would say so), so this bound only adds how fast a
  // lost parent is noticed (every 500 ms).
  expect(Date.now() - since).toBeLessThan(SHUTDOWN_TIMEOUT_S * 1000);
  await until('the launcher to report the stop', () => s.output().includes('Cluster stopped.'), 2_000).catch(
    () => undefined,
  );
  expect(s.output()).toContain('Cluster stopped.');
  expect(s.output()).not.toContain('did not exit cleanly');
  const outs = readdirSync(join(dir, 'cluster')).filter((f) => f.endsWith('.out'));
  expect(outs.length).toBeGreaterThanOrEqual(2);
  for (const f of outs) {
    const text = readFileSync(join(dir, 'cluster', f), 'utf8');
    expect(text, f).toMatch(/stopping \((SIGTERM|parent process gone)\)/);
    expect(text, f).not.toMatch(/did not stop within|stopping at once/);
  }
}

describe('weir cluster start under a supervisor', () => {
  it('stops everything on SIGTERM to itself, the Kafka broker included: each process exits 0 within cluster.shutdown.timeout', async () => {
    const s = run(process.execPath, [BIN, ...clusterStart(['--kafka', '0'])]);
    await started(s, 4); // launcher, JobManager, TaskManager, Kafka broker
    const exited = new Promise<number | null>((r) => s.proc.once('exit', (code) => r(code)));
    const since = Date.now();
    s.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    await stoppedCleanly(s, since);
    expect(readFileSync(join(dir, 'cluster', 'kafka-broker.out'), 'utf8')).toContain('Kafka broker stopping (SIGTERM)');
  }, 60_000);

  it('stops everything when a shell between it and the supervisor dies of SIGTERM without passing it on', async () => {
    const s = run('sh', ['-c', `${shellWords([process.execPath, BIN, ...clusterStart()])}; exit $?`]);
    await started(s, 4); // sh, launcher, JobManager, TaskManager
    const since = Date.now();
    s.proc.kill('SIGTERM');
    await stoppedCleanly(s, since);
    expect(s.output()).toMatch(/Stopping the cluster: its parent process \d+ exited/);
  }, 60_000);

  it('stops everything when its parent is killed with SIGKILL', async () => {
    const args = [BIN, ...clusterStart()];
    const s = run(process.execPath, [
      '-e',
      'require("node:child_process").spawn(process.execPath, JSON.parse(process.argv[1]), { stdio: "inherit" }); setInterval(() => {}, 1 << 30);',
      JSON.stringify(args),
    ]);
    await started(s, 4); // parent, launcher, JobManager, TaskManager
    const since = Date.now();
    s.proc.kill('SIGKILL');
    await stoppedCleanly(s, since);
  }, 60_000);

  it('stops everything on SIGTERM to `npm run <script>`', async () => {
    const pkg = npmPackage(clusterStart());
    const s = run('npm', ['run', '--silent', 'cluster'], { cwd: pkg, env: NPM_ENV });
    await started(s, 4); // npm's sh -c, launcher, JobManager, TaskManager
    const since = Date.now();
    s.proc.kill('SIGTERM');
    await stoppedCleanly(s, since);
  }, 60_000);

  it('stops everything when `npm run <script>` is killed with SIGKILL and its shell lives on', async () => {
    const pkg = npmPackage(clusterStart());
    const s = run('npm', ['run', '--silent', 'cluster'], { cwd: pkg, env: NPM_ENV });
    await started(s, 4);
    const since = Date.now();
    s.proc.kill('SIGKILL');
    await stoppedCleanly(s, since);
    // The shell, not the launcher's parent, tells: its parent changed. A poll that reads the shell
    // just before the kill and npm just after finds npm itself gone, which is as true.
    expect(s.output()).toMatch(/Stopping the cluster: (the parent \d+ of )?process \d+ above it exited/);
  }, 60_000);

  it('stops everything on SIGTERM to `npx weir cluster start`', async () => {
    const args = clusterStart();
    const pkg = npmPackage(args);
    const s = run('npx', ['--no', '--', 'weir', ...args], { cwd: pkg, env: NPM_ENV });
    await started(s, 5); // npx (its arguments name the directory), sh -c, launcher, JobManager, TaskManager
    const since = Date.now();
    s.proc.kill('SIGTERM');
    await stoppedCleanly(s, since);
  }, 60_000);

  it('with --no-stop-with-parent, outlives its parent until it is stopped itself', async () => {
    const args = [BIN, ...clusterStart(['--no-stop-with-parent'])];
    const s = run(process.execPath, [
      '-e',
      'require("node:child_process").spawn(process.execPath, JSON.parse(process.argv[1]), { stdio: "inherit" }); setInterval(() => {}, 1 << 30);',
      JSON.stringify(args),
    ]);
    await started(s, 4);
    const parentGone = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGKILL');
    await parentGone;
    await until('the parent to be gone', () => pidsWith(dir).length <= 3, 5_000);
    // Staying is a non-event: the launcher checks its parent every 500 ms, so 2 s is four chances to leave.
    await sleep(2000);
    expect(pidsWith(dir)).toHaveLength(3); // launcher, JobManager, TaskManager
    const launcher = pidsWith(dir).find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cluster\0start'),
    );
    expect(launcher).toBeDefined();
    const since = Date.now();
    process.kill(launcher!, 'SIGTERM');
    await stoppedCleanly(s, since);
  }, 60_000);
});
