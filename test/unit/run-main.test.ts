// runMain: main() sees the engine's environment through getExecutionEnvironment(), also after an
// await and while another main() runs; the context ends with main().
import { describe, expect, it } from 'vitest';
import { StreamExecutionEnvironment } from '../../api/environment.js';
import { createEnvironment, runMain } from '../../api/internal.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('runMain', () => {
  it('hands each running main() its own environment, across awaits, and none after it ends', async () => {
    const seen: [string, StreamExecutionEnvironment][] = [];
    const main = async (_env: StreamExecutionEnvironment, args: string[]) => {
      await tick();
      seen.push([args[0]!, StreamExecutionEnvironment.getExecutionEnvironment()]);
      await tick();
      seen.push([args[0]!, StreamExecutionEnvironment.getExecutionEnvironment()]);
    };
    const a = createEnvironment({ programArgs: ['a'] });
    const b = createEnvironment({ programArgs: ['b'] });
    await Promise.all([runMain({ default: main }, a, ['a']), runMain({ default: main }, b, ['b'])]);
    expect(seen).toHaveLength(4);
    for (const [name, env] of seen) expect(env).toBe(name === 'a' ? a : b);
    const after = StreamExecutionEnvironment.getExecutionEnvironment();
    expect(after).not.toBe(a);
    expect(after).not.toBe(b);
  });

  it('ends the context when main() throws', async () => {
    const env = createEnvironment({});
    await expect(
      runMain(
        {
          default: () => {
            throw new Error('bad main');
          },
        },
        env,
        [],
      ),
    ).rejects.toThrow('bad main');
    expect(StreamExecutionEnvironment.getExecutionEnvironment()).not.toBe(env);
  });
});
