// A FileSource across real processes: its JobManager enumerator hands out one file per request, so
// a slower subtask reads fewer files; hidden files are not read; every line comes out exactly once
// through a failure, a SIGKILLed TaskManager while files keep arriving (monitorContinuously), and a
// stop-with-savepoint resumed at another parallelism. A missing path fails the job clearly, and a
// damaged enumerator state in a savepoint is refused.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { mulberry32 } from '../reference/random.js';
import { startCluster, type ProcessHandle, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';
import { runFrom, stopWithSavepoint, submitFrom } from '../helpers/savepoints.js';

const JOB = 'test/jobs/file-lines.ts';

let cluster: TestCluster | undefined;
/** The TaskManagers alive (the cluster's own list keeps the ones a test killed). */
let live: ProcessHandle[] = [];
afterAll(async () => {
  await cluster?.stop();
});

async function shared(): Promise<TestCluster> {
  if (!cluster) {
    cluster = await startCluster({ taskManagers: 2, slots: 2 });
    live = [...cluster.taskManagers];
  }
  return cluster;
}

/** Job arguments after the output directory. */
interface JobArgs {
  discovery: 'bounded' | number;
  checkpointMs: number;
  slowUs: number;
  fastUs: number;
  failAt?: number;
  restart?: 'fixed' | 'none';
  paths: string[];
}

const jobArgs = (out: string, a: JobArgs): string[] => [
  out,
  String(a.discovery),
  String(a.checkpointMs),
  String(a.slowUs),
  String(a.fastUs),
  String(a.failAt ?? -1),
  a.restart ?? 'fixed',
  ...a.paths,
];

/** The input files of a test, and every line written to them: the reference output. */
class Inputs {
  readonly files: string[] = [];
  readonly lines: string[] = [];
  private readonly random: () => number;
  private next = 0;

  constructor(
    readonly dir: string,
    seed: number,
  ) {
    this.random = mulberry32(seed);
    mkdirSync(dir, { recursive: true });
  }

  /** Between min and max lines, each unique. */
  private content(min: number, max: number): string[] {
    const f = this.next++;
    const n = min + Math.floor(this.random() * (max - min + 1));
    return Array.from({ length: n }, (_, i) => `f${f}-l${i}-${Math.floor(this.random() * 2 ** 32).toString(36)}`);
  }

  /**
   * Writes a file at `rel` (below the input directory) whose lines the job must read. Atomically:
   * under a hidden name in the same directory first, then renamed into place, so a listing never
   * sees it half-written.
   */
  add(rel: string, min: number, max: number): string {
    const path = join(this.dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    const lines = this.content(min, max);
    const hidden = join(dirname(path), `.writing-${rel.split('/').pop()}`);
    writeFileSync(hidden, lines.join('\n') + '\n');
    renameSync(hidden, path);
    this.files.push(path);
    this.lines.push(...lines);
    return path;
  }

  /** Writes a file the job must not read (a hidden or '_' name); returns its lines. */
  ignored(rel: string): string[] {
    const path = join(this.dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    const lines = Array.from({ length: 50 }, (_, i) => `ignored-${rel}-${i}`);
    writeFileSync(path, lines.join('\n') + '\n');
    return lines;
  }

  /** The first line of each file, by file path. */
  firstLines(): Map<string, string> {
    return new Map(this.files.map((f) => [f, readFileSync(f, 'utf8').split('\n')[0]!]));
  }
}

/** The committed output as lines (without the subtask) and the subtask of each line. */
function outputOf(out: string): { lines: string[]; subtaskOf: Map<string, number>; bySubtask: Map<number, number> } {
  const lines: string[] = [];
  const subtaskOf = new Map<string, number>();
  const bySubtask = new Map<number, number>();
  for (const l of readCommittedLines(out)) {
    const i = l.lastIndexOf(',');
    const line = l.slice(0, i);
    const s = Number(l.slice(i + 1));
    lines.push(line);
    subtaskOf.set(line, s);
    bySubtask.set(s, (bySubtask.get(s) ?? 0) + 1);
  }
  return { lines, subtaskOf, bySubtask };
}

/** Every line of the inputs exactly once, nothing else. */
function expectExactlyOnce(out: string, inputs: Inputs): void {
  const { lines } = outputOf(out);
  expect(multisetDiff(lines, inputs.lines)).toEqual(NO_DIFF);
  expect(lines.length).toBe(inputs.lines.length);
}

/** Waits until the committed output holds as many lines as the inputs (then checks them exactly). */
async function waitForAllLines(c: TestCluster, out: string, inputs: Inputs, timeoutMs = 90_000): Promise<void> {
  await c.waitFor(
    `all ${inputs.lines.length} lines committed`,
    async () => readCommittedLines(out).length >= inputs.lines.length,
    timeoutMs,
  );
  expectExactlyOnce(out, inputs);
}

/** The source's entry in a savepoint's `_metadata`. */
const sourceOf = (metadata: { operators: Array<{ uid?: string; coordinatorState?: any }> }) =>
  metadata.operators.find((o) => o.uid === 'lines')!;

async function cancel(c: TestCluster, jobId: string): Promise<void> {
  expect((await c.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' })).status).toBe(202);
  await c.waitForJob(jobId, ['CANCELED'], 30_000);
}

async function completedCheckpoints(c: TestCluster, jobId: string): Promise<number> {
  return Number((await c.rest(`/jobs/${jobId}/checkpoints`)).body?.counts?.completed ?? 0);
}

async function allRunning(c: TestCluster, jobId: string): Promise<boolean> {
  const j = await c.job(jobId);
  return j.state === 'RUNNING' && j.vertices.every((v: any) => v.status === 'RUNNING');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops the job with a savepoint (it must finish); returns the savepoint's directory and `_metadata`. */
async function stop(c: TestCluster, jobId: string, out: string) {
  const sp = await stopWithSavepoint(c, jobId, { targetDirectory: `${out}-savepoints` });
  expect(sp.failure).toBeUndefined();
  expect((await c.job(jobId)).state).toBe('FINISHED');
  const location = sp.location!;
  return { location, metadata: JSON.parse(readFileSync(join(location, '_metadata'), 'utf8')) };
}

describe('FileSource', () => {
  it('bounded: files are handed out on request (a slower subtask reads fewer), hidden files are skipped', async () => {
    const c = await shared();
    const inputs = new Inputs(join(c.dir, 'bounded-in'), 1);
    const dirs = ['', 'a', 'a/b', 'a/b/c', 'd', 'd/e', 'f/g/h'];
    for (let i = 0; i < 40; i++)
      inputs.add(`${dirs[i % dirs.length]}/part-${String(i).padStart(2, '0')}.txt`, 100, 800);
    const ignored = [
      ...inputs.ignored('.hidden'),
      ...inputs.ignored('a/_SUCCESS'),
      ...inputs.ignored('d/e/.part-0.inprogress'),
      ...inputs.ignored('.staging/data.txt'),
      ...inputs.ignored('_temporary/a/data.txt'),
    ];
    const out = join(c.dir, 'bounded-out');
    // Subtask 0 spends 300 µs per line, subtask 1 nothing: a static split would give each about half.
    const jobId = await c.submit(
      JOB,
      jobArgs(out, { discovery: 'bounded', checkpointMs: 500, slowUs: 300, fastUs: 0, paths: [inputs.dir] }),
      2,
    );
    expect((await c.waitForJob(jobId, ['FINISHED'], 90_000)).state).toBe('FINISHED');
    expectExactlyOnce(out, inputs);
    const { lines, subtaskOf, bySubtask } = outputOf(out);
    for (const l of ignored) expect(lines).not.toContain(l);
    const total = inputs.lines.length;
    expect(bySubtask.get(1) ?? 0).toBeGreaterThan(0);
    expect(bySubtask.get(0) ?? 0).toBeLessThan(0.35 * total);
    // One split per file: every line of a file was read by the one subtask that got the file.
    for (const f of inputs.files) {
      const subtasks = new Set(
        readFileSync(f, 'utf8')
          .split('\n')
          .filter((l) => l)
          .map((l) => subtaskOf.get(l)),
      );
      expect(subtasks.size, f).toBe(1);
    }
  }, 120_000);

  it('bounded: a failure after a checkpoint restores every line exactly once', async () => {
    const c = await shared();
    const inputs = new Inputs(join(c.dir, 'failover-in'), 2);
    for (let i = 0; i < 36; i++) inputs.add(`${i % 3}/${i}.log`, 200, 600);
    const out = join(c.dir, 'failover-out');
    const jobId = await c.submit(
      JOB,
      jobArgs(out, {
        discovery: 'bounded',
        checkpointMs: 200,
        slowUs: 150,
        fastUs: 150,
        failAt: 500,
        paths: [inputs.dir],
      }),
      2,
    );
    expect((await c.waitForJob(jobId, ['FINISHED'], 90_000)).state).toBe('FINISHED');
    expectExactlyOnce(out, inputs);
    const ex = (await c.rest(`/jobs/${jobId}/exceptions`)).body;
    expect(ex['root-exception']).toContain('planned failure at line');
    expect((await c.rest(`/jobs/${jobId}/checkpoints`)).body.counts.restored).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('continuous: files added while the job runs are read exactly once, through a SIGKILLed TaskManager', async () => {
    const c = await shared();
    const inputs = new Inputs(join(c.dir, 'continuous-in'), 3);
    for (let i = 0; i < 4; i++) inputs.add(`start/${i}.txt`, 200, 500);
    const out = join(c.dir, 'continuous-out');
    const jobId = await c.submit(
      JOB,
      jobArgs(out, { discovery: 100, checkpointMs: 200, slowUs: 30, fastUs: 30, paths: [inputs.dir] }),
      2,
    );
    await c.waitFor('the first committed lines', async () => readCommittedLines(out).length > 0, 60_000);
    let killed = false;
    for (let i = 0; i < 24; i++) {
      inputs.add(`later/${Math.floor(i / 8)}/${String(i).padStart(2, '0')}.txt`, 100, 500);
      await sleep(150);
      if (i === 11) {
        // Kill a TaskManager running the job's tasks once it runs and a checkpoint completed.
        await c.waitFor('all tasks RUNNING', () => allRunning(c, jobId), 60_000);
        const before = await completedCheckpoints(c, jobId);
        await c.waitFor('a completed checkpoint', async () => (await completedCheckpoints(c, jobId)) > before, 60_000);
        const j = await c.job(jobId);
        const hosting = new Set(j.vertices.flatMap((v: any) => v.subtasks.map((st: any) => st['taskmanager-id'])));
        const victim = live.find((p) => hosting.has(p.id))!;
        expect(victim).toBeDefined();
        live = live.filter((p) => p !== victim);
        victim.proc.kill('SIGKILL');
        killed = true;
        live.push(await c.addTaskManager(2));
      }
    }
    expect(killed).toBe(true);
    await waitForAllLines(c, out, inputs);
    // An endless source does not finish.
    expect((await c.job(jobId)).state).toBe('RUNNING');
    expect((await c.rest(`/jobs/${jobId}/checkpoints`)).body.counts.restored).toBeGreaterThanOrEqual(1);
    await cancel(c, jobId);
    expectExactlyOnce(out, inputs);
  }, 120_000);

  it('continuous: stop-with-savepoint keeps the files seen; resumed at parallelism 3, no file is read twice', async () => {
    const c = await shared();
    const inputs = new Inputs(join(c.dir, 'resume-in'), 4);
    for (let i = 0; i < 6; i++) inputs.add(`${i % 2}/${i}.txt`, 300, 700);
    const out = join(c.dir, 'resume-out');
    const args = (slowUs: number) =>
      jobArgs(out, { discovery: 100, checkpointMs: 200, slowUs, fastUs: slowUs, paths: [inputs.dir] });
    // 100 µs per line before the stop, and files of about a second each: the stop comes while
    // files are being read (the checkpoints that commit the output lag the reading a little).
    const jobId = await c.submit(JOB, args(100), 2);
    await c.waitFor('the first committed lines', async () => readCommittedLines(out).length > 0, 60_000);
    for (let i = 6; i < 12; i++) {
      inputs.add(`${i % 2}/${i}.txt`, 8000, 12000);
      await sleep(100);
    }
    // Every file present was discovered and handed out: one of its lines is committed.
    const firsts = inputs.firstLines();
    await c.waitFor(
      'a committed line of every file',
      async () => {
        const committed = new Set(outputOf(out).lines);
        return [...firsts.values()].every((l) => committed.has(l));
      },
      60_000,
    );
    const before = [...inputs.files];
    const sp = await stop(c, jobId, out);
    const atStop = readCommittedLines(out).length;
    // The stop came in the middle of files: the rest of them is read from their offsets after the resume.
    expect(atStop).toBeLessThan(inputs.lines.length);
    const state = sourceOf(sp.metadata).coordinatorState;
    expect(Array.isArray(state.seen)).toBe(true);
    expect([...state.seen].sort()).toEqual([...before].sort());
    expect(Array.isArray(state.pending)).toBe(true);
    for (const p of state.pending) expect(state.seen).toContain(p);

    // Files that arrive while the job is stopped are read after the resume; none of the others again.
    for (let i = 12; i < 20; i++) inputs.add(`${i % 3}/${i}.txt`, 100, 400);
    const resumed = await submitFrom(c, JOB, args(0), { parallelism: 3, savepointPath: sp.location });
    await waitForAllLines(c, out, inputs);
    expect((await c.job(resumed)).state).toBe('RUNNING');
    await cancel(c, resumed);
    expectExactlyOnce(out, inputs);
  }, 120_000);

  it('fails a job whose path does not exist, with a clear root exception', async () => {
    const c = await shared();
    const missing = join(c.dir, 'no-such-input');
    const jobId = await c.submit(
      JOB,
      jobArgs(join(c.dir, 'missing-out'), {
        discovery: 'bounded',
        checkpointMs: 200,
        slowUs: 0,
        fastUs: 0,
        restart: 'none',
        paths: [missing],
      }),
      2,
    );
    expect((await c.waitForJob(jobId, ['FAILED'], 60_000)).state).toBe('FAILED');
    const ex = (await c.rest(`/jobs/${jobId}/exceptions`)).body;
    const root = String(ex['root-exception']);
    expect(root).toContain(`FileSource 'Source: Lines'`);
    expect(root).toContain(`path '${missing}' does not exist`);
    expect(ex.exceptionHistory.entries[0].exceptionName).toBe('SourceCoordinatorException');
    expect((await c.rest('/overview')).status).toBe(200);
  }, 120_000);

  it('refuses a savepoint whose split enumerator state is damaged, with a clear error', async () => {
    const c = await shared();
    const inputs = new Inputs(join(c.dir, 'damaged-in'), 5);
    for (let i = 0; i < 3; i++) inputs.add(`${i}.txt`, 50, 100);
    const out = join(c.dir, 'damaged-out');
    const args = jobArgs(out, { discovery: 100, checkpointMs: 200, slowUs: 0, fastUs: 0, paths: [inputs.dir] });
    const jobId = await c.submit(JOB, args, 2);
    await c.waitFor('the first committed lines', async () => readCommittedLines(out).length > 0, 60_000);
    const sp = await stop(c, jobId, out);
    sourceOf(sp.metadata).coordinatorState = { pending: 'soon' };
    writeFileSync(join(sp.location, '_metadata'), JSON.stringify(sp.metadata));
    const res = await runFrom(c, JOB, args, { savepointPath: sp.location });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain("split enumerator state of source 'Source: Lines' is not valid");
    expect((await c.rest('/overview')).status).toBe(200);
  }, 120_000);
});
