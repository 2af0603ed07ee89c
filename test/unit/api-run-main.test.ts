import { describe, expect, it } from 'vitest';
import { StreamExecutionEnvironment } from '../../api/environment.js';
import { buildJobGraph, createEnvironment, runMain } from '../../api/internal.js';

describe('runMain', () => {
  it('rejects modules without a default export function', async () => {
    const env = createEnvironment({});
    for (const m of [null, undefined, 42, {}, { default: 'main' }, { main: () => {} }]) {
      await expect(runMain(m, env, [])).rejects.toThrow('bundle entry has no default export main(env, args)');
    }
  });

  it('awaits an async main and passes the args', async () => {
    const env = createEnvironment({ defaultParallelism: 2 });
    const seen: string[][] = [];
    const mod = {
      default: async (e: StreamExecutionEnvironment, args: string[]) => {
        seen.push(args);
        await new Promise((r) => setTimeout(r, 5));
        e.fromSequence(1, Number(args[0])).print();
        await e.execute('from main');
      },
    };
    await runMain(mod, env, ['7']);
    expect(seen).toEqual([['7']]);
    const { jobGraph } = buildJobGraph(env, 'fallback');
    expect(jobGraph.name).toBe('from main');
    expect(jobGraph.vertices[0]!.operators[0]!.config).toMatchObject({ from: 1, to: 7 });
  });

  it('hands each running main() its own environment, across awaits, and none after it ends', async () => {
    const tick = () => new Promise((r) => setTimeout(r, 5));
    const seen: [string, StreamExecutionEnvironment][] = [];
    const main = async (_env: StreamExecutionEnvironment, args: string[]) => {
      for (let i = 0; i < 2; i++) {
        await tick();
        seen.push([args[0]!, StreamExecutionEnvironment.getExecutionEnvironment()]);
      }
    };
    const a = createEnvironment({ programArgs: ['a'] });
    const b = createEnvironment({ programArgs: ['b'] });
    await Promise.all([runMain({ default: main }, a, ['a']), runMain({ default: main }, b, ['b'])]);
    expect(seen).toHaveLength(4);
    for (const [name, env] of seen) expect(env).toBe(name === 'a' ? a : b);
    expect([a, b]).not.toContain(StreamExecutionEnvironment.getExecutionEnvironment());
  });

  it('ends the context with main(): a callback main() left behind no longer finds its environment', async () => {
    // The storage is disabled once no main() runs, so the thread's promises stop paying for its hooks.
    const env = createEnvironment({});
    let later: Promise<StreamExecutionEnvironment> | undefined;
    await runMain(
      {
        default: () => {
          later = new Promise((resolve) =>
            setTimeout(() => resolve(StreamExecutionEnvironment.getExecutionEnvironment()), 20),
          );
        },
      },
      env,
      [],
    );
    expect(await later).not.toBe(env);
  });

  it('propagates errors thrown by main, and its environment ends with it', async () => {
    const env = createEnvironment({});
    await expect(
      runMain(
        {
          default: () => {
            throw new Error('boom');
          },
        },
        env,
        [],
      ),
    ).rejects.toThrow('boom');
    expect(StreamExecutionEnvironment.getExecutionEnvironment()).not.toBe(env);
  });
});
