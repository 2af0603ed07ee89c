// A job that runs for minutes stays within bounds derived from its settings (issue: months of
// running): an endless-looking keyed count checkpointing every 200 ms for half a minute, beside
// short jobs that fill the job store. Part files follow the rolling policy, the checkpoint
// directory holds at most the retained checkpoints, the store at most jobstore.max-capacity ended
// jobs, the logs at most log.file.max-files rolled files of log.file.max-size, and the output is
// exact.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { committedFiles, readCommittedTree } from '../helpers/file-sink-harness.js';
import { finalCounts } from '../helpers/output.js';
import { DEFAULT_SINK_DIR, ROLLING_SINK_DIR } from '../jobs/fs-rolling.js';
import { referenceCounts } from '../reference/counts.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const P = 2;
const RATE = 2000;
const SECONDS = 30;
const N = RATE * SECONDS;
const KEYS = 100;
const ROLL_MS = 10_000;
const LOG_MAX = 32 * 1024;
const LOG_FILES = 3;
const STORE_CAPACITY = 2;
const RETAINED = 2;

/** Bytes and files below `dir` (0 when it does not exist). */
function sizeOf(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return { bytes, files };
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const s = sizeOf(p);
      bytes += s.bytes;
      files += s.files;
    } else {
      // The folder is live: a temporary file may be renamed between the listing and this stat.
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      bytes += st.size;
      files++;
    }
  }
  return { bytes, files };
}

describe('a long run', () => {
  it('keeps part files, checkpoints, the job store and the logs bounded, with exact output', async () => {
    cluster = await startCluster({
      taskManagers: 2,
      slots: 2,
      config: {
        'log.file.max-size': `${LOG_MAX / 1024} kb`,
        'log.file.max-files': String(LOG_FILES),
        'jobstore.max-capacity': String(STORE_CAPACITY),
        'state.checkpoints.num-retained': String(RETAINED),
      },
    });
    const c = cluster;
    const out = join(c.dir, 'out');
    const checkpointsDir = join(c.dir, 'jobmanager', 'checkpoints');
    const jobId = await c.submit(
      'test/jobs/fs-rolling.ts',
      [out, String(N), String(KEYS), String(RATE), '200', String(ROLL_MS)],
      P,
    );
    // Short jobs beside it, more than the store keeps.
    for (let i = 0; i < STORE_CAPACITY + 2; i++) {
      const short = await c.submit('test/jobs/keyed-count.ts', [join(c.dir, `short-${i}`), '1000', '10']);
      await c.waitForJob(short, ['FINISHED']);
    }
    // While it runs: the checkpoint folder never holds more than the retained checkpoints, one in progress and one being deleted.
    let largestCheckpointDir = 0;
    let maxCheckpointFolders = 0;
    for (;;) {
      const j = await c.job(jobId);
      if (j.state === 'FINISHED' || j.state === 'FAILED') break;
      const jobDir = join(checkpointsDir, jobId);
      const folders = (() => {
        try {
          return readdirSync(jobDir).filter((n) => n.startsWith('chk-')).length;
        } catch {
          return 0;
        }
      })();
      maxCheckpointFolders = Math.max(maxCheckpointFolders, folders);
      largestCheckpointDir = Math.max(largestCheckpointDir, sizeOf(jobDir).bytes);
      await new Promise((r) => setTimeout(r, 2000));
    }
    const done = await c.waitForJob(jobId, ['FINISHED'], 30_000);
    expect(done.state).toBe('FINISHED');
    const cp = (await c.rest(`/jobs/${jobId}/checkpoints`)).body;
    // Checkpoints every 200 ms: well over two a second even on a loaded machine.
    expect(cp.counts.completed).toBeGreaterThan(SECONDS * 2);
    // Retained ones, one in progress, and for a moment the subsumed one whose deletion is under way
    // (it starts when the next checkpoint completes, and checkpoints here come every 200 ms).
    expect(maxCheckpointFolders).toBeLessThanOrEqual(RETAINED + 2);
    // The state is ~100 keys of counters and source positions: a few kilobytes per checkpoint.
    expect(largestCheckpointDir).toBeLessThan((RETAINED + 1) * 64 * 1024);
    // Ended: the finished job's checkpoints are gone (Flink's default retention).
    await c.waitFor(
      "the finished job's checkpoints to be deleted",
      async () => sizeOf(join(checkpointsDir, jobId)).files === 0,
      20_000,
    );

    // Exact output through both sinks.
    const reference = referenceCounts(N, KEYS);
    expect(finalCounts(readCommittedTree(join(out, DEFAULT_SINK_DIR)))).toEqual(reference);
    expect(finalCounts(readCommittedTree(join(out, ROLLING_SINK_DIR)))).toEqual(reference);
    // Part files follow the rolling policies (60 s and 10 s, the latter in minute buckets), not the checkpoints.
    expect(committedFiles(join(out, DEFAULT_SINK_DIR)).length).toBeLessThanOrEqual(P * (Math.ceil(SECONDS / 60) + 2));
    expect(committedFiles(join(out, ROLLING_SINK_DIR)).length).toBeLessThanOrEqual(
      P * (Math.ceil((SECONDS * 1000) / ROLL_MS) + Math.ceil(SECONDS / 60) + 3),
    );

    // The store keeps at most jobstore.max-capacity ended jobs.
    const ended = (await c.rest('/jobs/overview')).body.jobs.filter((j: { state: string }) =>
      ['FINISHED', 'FAILED', 'CANCELED'].includes(j.state),
    );
    expect(ended.length).toBeLessThanOrEqual(STORE_CAPACITY);
    // Logs rolled, within max-files rolled files of about max-size each.
    const jmLogs = readdirSync(join(c.dir, 'jobmanager')).filter((f) => f.startsWith('jobmanager.log'));
    expect(jmLogs.length).toBeGreaterThan(1);
    expect(jmLogs.length).toBeLessThanOrEqual(LOG_FILES + 1);
    const logBytes = jmLogs.reduce((n, f) => n + statSync(join(c.dir, 'jobmanager', f)).size, 0);
    expect(logBytes).toBeLessThanOrEqual((LOG_FILES + 1) * LOG_MAX * 1.5);
  }, 300_000);
});
