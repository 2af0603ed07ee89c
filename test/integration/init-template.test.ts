// `weir init`: a new job project whose README commands work. The project is created in a
// temporary directory, installed without the registry (weir and the test tools are linked from
// this engine), its own tests run (a harness test and in-process job tests), and `npm run deploy`
// starts the job on a real cluster.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';
import { packageRoot } from '../../common/package-root.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

const execFileAsync = promisify(execFile);
const WEIR = join(packageRoot(), 'bin', 'weir.js');
const work = mkdtempSync(join(tmpdir(), 'weir-init-'));
const project = join(work, 'click-job');
let cluster: TestCluster | undefined;

afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The child's environment without the npm_* settings of an `npm test` that may be running this suite. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1', CI: '1' };
  for (const [k, v] of Object.entries(process.env))
    if (!/^npm_/i.test(k) && k !== 'NODE_OPTIONS' && !k.startsWith('VITEST')) env[k] = v;
  return env;
}

async function sh(file: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  try {
    const r = await execFileAsync(file, args, { cwd, env: cleanEnv(), timeout: 60_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e: any) {
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}

test('weir init → npm install (offline) → npm test passes → npm run deploy runs the job', async () => {
  const clusterStarting = startCluster({ taskManagers: 1, slots: 2 });
  clusterStarting.catch(() => undefined);

  const init = await sh(process.execPath, [WEIR, 'init', project], work);
  expect(init.code, init.out).toBe(0);
  for (const f of [
    'package.json',
    'tsconfig.json',
    'vitest.config.ts',
    'src/job.ts',
    'test/clicks-per-user.test.ts',
    'test/job.test.ts',
    'deploy/job.yaml',
    'README.md',
    '.gitignore',
  ]) {
    expect(existsSync(join(project, f)), f).toBe(true);
  }
  const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  expect(pkg.dependencies.weir).toBe(`file:${packageRoot()}`);
  expect(readFileSync(join(project, 'deploy', 'job.yaml'), 'utf8')).toContain('name: click-job');
  // The README's two commands.
  const readme = readFileSync(join(project, 'README.md'), 'utf8');
  expect(readme).toContain('npm test');
  expect(readme).toContain('npm run deploy');
  // A second init into the same directory refuses.
  expect((await sh(process.execPath, [WEIR, 'init', project], work)).code).not.toBe(0);

  const install = await sh('npm', ['install', '--offline', '--no-audit', '--no-fund'], project);
  expect(install.code, install.out).toBe(0);

  const tests = await sh('npm', ['test'], project);
  expect(tests.code, tests.out).toBe(0);
  expect(tests.out).toMatch(/Tests\s+3 passed/);

  cluster = await clusterStarting;
  const deploy = await sh('npm', ['run', 'deploy', '--', '--jobmanager', cluster.restUrl], project);
  expect(deploy.code, deploy.out).toBe(0);
  const jobId = /weirjob\/click-job created: job ([0-9a-f]{32})/.exec(deploy.out)?.[1];
  expect(jobId, deploy.out).toBeDefined();
  await cluster.waitForJob(jobId!, ['RUNNING']);
});
