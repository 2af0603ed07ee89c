import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/sequencing/sequencer.js';

export default defineConfig({
  resolve: {
    // 'weir/testing' and 'weir/nexmark' first: an alias also matches what starts with its key and a slash.
    alias: {
      'weir/testing': fileURLToPath(new URL('./taskmanager/testing/index.ts', import.meta.url)),
      'weir/nexmark': fileURLToPath(new URL('./api/nexmark/index.ts', import.meta.url)),
      weir: fileURLToPath(new URL('./api/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Cross-process suites start real clusters; two at once is what this 2-core machine holds.
    maxWorkers: 2,
    fileParallelism: true,
    // Test files share their worker's module cache (no fresh process per file): the suites clean
    // up after themselves, and a fresh process per file cost two minutes of a full run.
    isolate: false,
    sequence: { sequencer: LongestFirstSequencer },
    // Workers end by SIGTERM; exiting on it runs their exit handlers (the test harness removes its directory).
    setupFiles: ['test/worker-exit.ts'],
    // CI also writes a JSON report, from which .ci/run prints a one-line summary.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results.json' },
  },
});
