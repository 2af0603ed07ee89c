// `weir run --local`: a job module run by the CLI in its own process on the in-process mini
// cluster, print() output on stdout, exit code 0 when the job finishes, non-zero with the root
// cause (and the user's stack) when it fails. No cluster is started.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { packageRoot } from '../../common/package-root.js';

const run = promisify(execFile);
const WEIR = join(packageRoot(), 'bin', 'weir.js');

async function weir(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [WEIR, ...args], { timeout: 60_000, cwd: packageRoot() });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e: any) {
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Tumbling 500 ms windows of x * 100 ms timestamps, keyed by parity: 5 numbers per window, split by key. */
function expectedSums(n: number): string[] {
  const sums = new Map<string, number>();
  for (let x = 1; x <= n; x++) {
    const id = `${x % 2}@${Math.floor((x * 100) / 500)}`;
    sums.set(id, (sums.get(id) ?? 0) + x);
  }
  return [...sums.values()].map((s) => `sum=${s}`).sort();
}

test("weir run --local job.ts prints the job's output and exits 0 when it finishes", async () => {
  const r = await weir(
    'run',
    '--local',
    '-p',
    '2',
    '-D',
    'state.backend=level',
    'test/jobs/local-windows.ts',
    '--',
    '40',
  );
  expect(r.code, r.stderr).toBe(0);
  // Parallel print sinks prefix each line with their subtask ("1> ").
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.replace(/^\d+> /, ''));
  expect(lines.sort()).toEqual(expectedSums(40));
  expect(r.stderr).toMatch(/Job [0-9a-f]{32} finished in/);
});

test("weir run --local exits non-zero with the root cause and the stack of the job's own file", async () => {
  const r = await weir('run', '--local', 'test/jobs/local-windows.ts', '--', '40', 'fail');
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/error: job [0-9a-f]{32} FAILED: RangeError: sum \d+ is too big/);
  expect(r.stderr).toContain(`${join(packageRoot(), 'test', 'jobs', 'local-windows.ts')}:`);

  // main() need not await execute(): the failure is still the job's.
  const unawaited = await weir('run', '--local', 'test/jobs/failing.ts');
  expect(unawaited.code).not.toBe(0);
  expect(unawaited.stderr).toContain('FAILED: Error: bad record 77777');
});
