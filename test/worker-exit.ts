// Runs in every test worker before its files. The runner ends a worker with SIGTERM, which by
// default ends the process without running exit handlers: the test harness's temporary directory
// (taskmanager/testing/stream-harness.ts) would stay behind. Exiting on the signal runs them.
const key = Symbol.for('weir.test.exitOnSigterm');
const g = globalThis as { [key]?: boolean };
if (!g[key]) {
  g[key] = true;
  process.once('SIGTERM', () => process.exit(143));
}
