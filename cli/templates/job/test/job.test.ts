// An in-process job test: the pipeline runs on an in-process mini cluster (the engine's task
// runtime, at parallelism 2) and its output is compared with a plain computation.
import { expect, test } from 'vitest';
import { DataGeneratorSource, RateLimiterStrategy, StreamExecutionEnvironment, WatermarkStrategy } from 'weir';
import { click, ClicksPerUser, pageViews, WINDOW_MS } from '../src/job.js';

test('page views per window equal a plain count', async () => {
  const clicks = Array.from({ length: 2000 }, (_, i) => click(i));
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(2);

  const output = await pageViews(env.fromElements(...clicks)).executeAndCollect();

  const expected = new Map<string, number>();
  for (const c of clicks) {
    const id = `${c.page} ${Math.floor(c.ts / WINDOW_MS) * WINDOW_MS + WINDOW_MS}`;
    expected.set(id, (expected.get(id) ?? 0) + 1);
  }
  expect(output.sort()).toEqual([...expected].map(([id, n]) => `${id} ${n}`).sort());
});

test('running counts per user, from the endless generator: the first 100 results', async () => {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(2);
  const generator = new DataGeneratorSource(click, Infinity, RateLimiterStrategy.noOp());

  // The source never ends: executeAndCollect(100) cancels the job after 100 results.
  const output = await env
    .fromSource(generator, WatermarkStrategy.noWatermarks(), 'Clicks')
    .keyBy((c) => c.user)
    .process(new ClicksPerUser())
    .executeAndCollect(100);

  expect(output).toHaveLength(100);
  // Each user's counts arrive in order: 1, 2, 3, ...
  const last = new Map<string, number>();
  for (const line of output) {
    const [, user, n] = /^(\S+) clicked (\d+) times$/.exec(line)!;
    expect(Number(n)).toBe((last.get(user!) ?? 0) + 1);
    last.set(user!, Number(n));
  }
});
