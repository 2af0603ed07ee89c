// The JobManager and TaskManager processes exit non-zero on a promise rejection nobody handles,
// with the rejection's stack in their log, instead of running on in an unknown state.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/package-root.js';

describe('an unhandled rejection', () => {
  it('is logged at level fatal with its stack, and the process exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-rejection-'));
    try {
      const logging = pathToFileURL(join(packageRoot(), 'dist', 'common', 'logging.js')).href;
      const script = `
        const { createLogger, exitOnUnhandledRejection } = await import(${JSON.stringify(logging)});
        const log = createLogger('jobmanager', ${JSON.stringify(join(dir, 'jm.log'))}, { stdout: false });
        exitOnUnhandledRejection(log, 'JobManager');
        Promise.reject(new Error('bookkeeping went wrong'));
        setTimeout(() => process.exit(0), 5000);
      `;
      const code = await new Promise<number | null>((resolve) => {
        const child = execFile(process.execPath, ['--input-type=module', '-e', script], () => resolve(child.exitCode));
      });
      expect(code).toBe(1);
      const line = JSON.parse(readFileSync(join(dir, 'jm.log'), 'utf8').trim().split('\n').at(-1)!);
      expect(line).toMatchObject({
        level: 60,
        msg: expect.stringContaining('unhandled promise rejection: the JobManager stops'),
      });
      expect(line.err.stack).toMatch(/Error: bookkeeping went wrong\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
