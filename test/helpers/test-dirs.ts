// A test cluster's directory outlives its stop() until the test has finished: if the test failed,
// the tails of the cluster's logs go to stderr first, so that a failure seen only in CI's output
// (a liveness wait that timed out on a loaded machine, say) can still be read.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { onTestFinished } from 'vitest';

const LINES_PER_LOG = 40;
const MAX_LINE = 400;
const MAX_LOGS = 12;

/** Log files under `dir`, newest first, a few levels deep. */
function logFiles(dir: string, depth = 3): string[] {
  const found: string[] = [];
  const walk = (d: string, level: number) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory() && level < depth) walk(path, level + 1);
      // LevelDB's own write-ahead logs (000003.log) are not the processes' logs.
      else if (entry.isFile() && /\.(log|out|err)$/.test(entry.name) && !/^\d+\.log$/.test(entry.name))
        found.push(path);
    }
  };
  walk(dir, 0);
  return found.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs).slice(0, MAX_LOGS);
}

/** Writes the last lines of each log under `dir` to stderr. */
export function printLogTails(dir: string): void {
  if (!existsSync(dir)) return;
  for (const file of logFiles(dir)) {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-LINES_PER_LOG);
    const body = lines.map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}…` : l)).join('\n');
    process.stderr.write(`--- last ${lines.length} lines of ${relative(dir, file)} ---\n${body}\n`);
  }
}

/**
 * Removes `dir` once the current test has finished, printing its logs' tails first if it failed.
 * Returns a function for stop() to call instead of removing the directory itself: outside a test
 * (a beforeAll, say) there is no test to wait for, and it removes the directory at once.
 */
export function removeAfterTest(dir: string): () => void {
  const remove = () => {
    if (!process.env.WEIR_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  };
  let stopped = false;
  let finished = false;
  try {
    onTestFinished((ctx) => {
      finished = true;
      if (ctx.task.result?.state === 'fail') printLogTails(dir);
      // A cluster the test did not stop is stopped by its own afterEach or afterAll, which removes it.
      if (stopped) remove();
    });
  } catch {
    return remove;
  }
  return () => {
    stopped = true;
    if (finished) remove();
  };
}
