// Runs the compiled planner child (dist/), so it relies on `npm test`'s pretest build.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, extractBundle } from '../../common/bundle.js';
import { planJob, plannerChildPath, SparePlanner, type PlanOptions } from '../../jobmanager/planner.js';
import { until } from '../helpers/processes.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('planJob', () => {
  let dir: string;

  beforeAll(() => {
    if (!existsSync(plannerChildPath())) throw new Error(`${plannerChildPath()} is missing: run npm run build first`);
    dir = mkdtempSync(join(tmpdir(), 'weir-planner-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Bundles `source` as <name>.ts and extracts it, as the JobManager does with an upload. */
  async function entryOf(name: string, source: string): Promise<string> {
    const file = join(dir, `${name}.ts`);
    writeFileSync(file, source);
    await createBundle(file, join(dir, `${name}.weir`));
    return (await extractBundle(join(dir, `${name}.weir`), join(dir, `x-${name}`))).entryPath;
  }

  /** Plans and checks afterwards that the child process is gone, whatever the outcome. */
  async function plan(entry: string, opts: Partial<PlanOptions> = {}) {
    let pid: number | undefined;
    const result = planJob(entry, {
      programArgs: [],
      defaultParallelism: 1,
      timeoutMs: 20_000,
      fallbackName: 'fallback',
      ...opts,
      onSpawn: (p) => {
        pid = p;
        opts.onSpawn?.(p);
      },
    });
    const settled = await result.then(
      (graph) => ({ graph, error: undefined }),
      (error: Error) => ({ graph: undefined, error }),
    );
    expect(pid).toBeTypeOf('number');
    expect(isAlive(pid!)).toBe(false);
    return settled;
  }

  it('returns the job graph a good bundle builds, with its args and default parallelism', async () => {
    const entry = await entryOf(
      'good',
      `import { type StreamExecutionEnvironment } from 'weir';
       export default function main(env: StreamExecutionEnvironment, args: string[]) {
         console.log('user output must not disturb planning');
         env.fromSequence(1, Number(args[0])).map((x) => x * 2).keyBy((x) => x % 3).reduce((a, b) => a + b).uid('sum').print();
       }`,
    );
    const { graph, error } = await plan(entry, { programArgs: ['100'], defaultParallelism: 3 });
    expect(error).toBeUndefined();
    expect(graph!.name).toBe('fallback');
    expect(graph!.vertices.length).toBe(2);
    expect(graph!.vertices.every((v) => v.parallelism === 3)).toBe(true);
    expect(graph!.edges).toEqual([expect.objectContaining({ partitioner: 'hash', targetInput: 0 })]);
    expect(graph!.vertices[1]!.operators.some((o) => o.uid === 'sum' && o.stateful)).toBe(true);
    const source = graph!.vertices[0]!.operators[0]!;
    expect(source.kind).toBe('source');
    expect(JSON.stringify(source.config)).toContain('100');
  });

  it('reports a main() that throws with the user stack pointing at the TypeScript source', async () => {
    const entry = await entryOf(
      'throws',
      `export default function main() {
         const missing: string | undefined = undefined;
         if (!missing) throw new Error('input topic not configured');
       }`,
    );
    const { error } = await plan(entry);
    expect(error?.message).toMatch(
      /^job main\(\) threw: input topic not configured\n\s+at main \(.*throws\.ts:3:\d+\)/,
    );
  });

  it('kills a main() that never returns, synchronously or asynchronously', async () => {
    const looping = await entryOf('loops', 'export default function main() { for (;;) {} }');
    const { error: e1 } = await plan(looping, { timeoutMs: 1500 });
    expect(e1?.message).toBe('job main() did not return within 1.5 s');

    const pending = await entryOf('pending', 'export default async function main() { await new Promise(() => {}); }');
    const { error: e2 } = await plan(pending, { timeoutMs: 1000 });
    expect(e2?.message).toBe('job main() did not return within 1 s');
  });

  it('refuses a graph without a sink with the builder message', async () => {
    const entry = await entryOf(
      'nosink',
      `import { type StreamExecutionEnvironment } from 'weir';
       export default (env: StreamExecutionEnvironment) => { env.fromSequence(1, 10).map((x) => x + 1); };`,
    );
    const { error } = await plan(entry);
    expect(error?.message).toMatch(/^invalid job graph: .*job has no sink/);
  });

  it('refuses a module without a default export', async () => {
    const entry = await entryOf('nodefault', 'export function main() {}');
    const { error } = await plan(entry);
    expect(error?.message).toBe('invalid job: the job module has no default export main(env, args)');
  });

  it('reports a module that fails to load', async () => {
    const entry = await entryOf('loadfail', "throw new Error('broken at import');\nexport default function main() {}");
    const { error } = await plan(entry);
    expect(error?.message).toMatch(/^cannot load the job module: broken at import/);
  });

  it('reports a planning process that dies, with its exit code and stderr', async () => {
    const entry = await entryOf(
      'exits',
      "export default function main() { console.error('giving up now'); process.exit(7); }",
    );
    const { error } = await plan(entry);
    expect(error?.message).toBe(
      'the job planning process exited with code 7 before returning a job graph: giving up now',
    );
  });

  it('starts the next spare once no job deploys or runs, or once the delay has passed', async () => {
    let idle = false;
    const waiting = new SparePlanner(60_000, () => idle, 10);
    const late = new SparePlanner(1500, () => false, 10);
    try {
      const entry = await entryOf('busy', `export default function main(env: any) { env.fromSequence(1, 3).print(); }`);
      expect((await plan(entry, { spare: waiting })).error).toBeUndefined();
      expect((await plan(entry, { spare: late })).error).toBeUndefined();
      // A job runs: neither starts one at once.
      await new Promise((r) => setTimeout(r, 200));
      expect(waiting.sparePid).toBeUndefined();
      expect(late.sparePid).toBeUndefined();
      // The delay passes for one; the other waits until the JobManager is idle.
      await until('a spare after the delay', () => late.sparePid !== undefined, 10_000);
      expect(waiting.sparePid).toBeUndefined();
      idle = true;
      await until('a spare once idle', () => waiting.sparePid !== undefined, 10_000);
    } finally {
      waiting.close();
      late.close();
    }
  });

  it('plans with a process started ahead of need, and a new one each time; a spare that died is not used', async () => {
    const spare = new SparePlanner(10);
    try {
      const entry = await entryOf(
        'spare',
        `export default function main(env: any) { env.fromSequence(1, 3).print(); }`,
      );
      // None is kept before the first plan.
      expect(spare.sparePid).toBeUndefined();
      expect((await plan(entry, { spare })).error).toBeUndefined();
      await until('a spare planning process', () => spare.sparePid !== undefined, 10_000);
      const first = spare.sparePid!;
      let used: number | undefined;
      expect((await plan(entry, { spare, onSpawn: (p) => (used = p) })).error).toBeUndefined();
      expect(used).toBe(first);
      // The next spare is a new process; killed while it waits, it is replaced by a fresh start.
      await until('the next spare', () => spare.sparePid !== undefined && spare.sparePid !== first, 10_000);
      const dead = spare.sparePid!;
      process.kill(dead, 'SIGKILL');
      await until('the killed spare to be gone', () => !isAlive(dead), 10_000);
      const third = await plan(entry, { spare, onSpawn: (p) => (used = p) });
      expect(third.error).toBeUndefined();
      expect(used).not.toBe(dead);
      // Closing kills the spare it holds.
      await until('a spare after the third plan', () => spare.sparePid !== undefined, 10_000);
      const last = spare.sparePid!;
      spare.close();
      await until('the closed spare to be gone', () => !isAlive(last), 10_000);
      expect(spare.sparePid).toBeUndefined();
    } finally {
      spare.close();
    }
  });
});
