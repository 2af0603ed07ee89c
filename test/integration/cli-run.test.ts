// The weir CLI against a real cluster: run waits and reports, list and cancel act on jobs.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/package-root.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';

const run = promisify(execFile);
const WEIR = join(packageRoot(), 'bin', 'weir.js');
let cluster: TestCluster;

async function weir(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const [command, ...rest] = args;
    const r = await run(process.execPath, [WEIR, command!, '--jobmanager', cluster.restUrl, ...rest], {
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e: any) {
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  cluster = await startCluster({ taskManagers: 2, slots: 2 });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('weir CLI on a real cluster', () => {
  it('run waits for FINISHED and exits 0; the output is complete', async () => {
    const out = join(cluster.dir, 'wc-out');
    const bundle = await cluster.bundle('examples/wordcount.ts');
    const r = await weir('run', bundle, '--parallelism', '4', '--', out, '5000');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/[0-9a-f]{32}/);
    const counts = finalCounts(readCommittedLines(out));
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(5000 * 8);
  });

  it('run exits non-zero with the root cause when the job fails', async () => {
    const r = await weir('run', await cluster.bundle('test/jobs/failing.ts'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('bad record 77777');
  });

  it('run --detached, list and cancel', async () => {
    const r = await weir('run', await cluster.bundle('examples/endless.ts'), '--detached', '-p', '2');
    expect(r.code, r.stderr).toBe(0);
    const jobId = /([0-9a-f]{32})/.exec(r.stdout)![1]!;
    await cluster.waitForJob(jobId, ['RUNNING']);
    const list = await weir('list');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(jobId);
    expect(list.stdout).toContain('RUNNING');
    const cancel = await weir('cancel', jobId);
    expect(cancel.code, cancel.stderr).toBe(0);
    await cluster.waitForJob(jobId, ['CANCELED'], 15_000);
    const unknown = await weir('cancel', '0123456789abcdef0123456789abcdef');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/no job|not found/);
  });
});
