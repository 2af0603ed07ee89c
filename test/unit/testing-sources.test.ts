// Scripted sources (env.addSource with a SourceFunction) through the TaskManager's source reader,
// in SourceHarness: explicit timestamps and watermarks drive event-time windows as the plain loop
// says; a checkpointed source snapshotted mid-run and restored emits exactly the rest; parallel
// sources read their subtask from the RuntimeContext; the graph gets the right parallelism.
import { describe, expect, it } from 'vitest';
import {
  ListStateDescriptor,
  RichParallelSourceFunction,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  Watermark,
  type CheckpointedFunction,
  type FunctionInitializationContext,
  type ListState,
  type SourceContext,
  type SourceFunction,
} from 'weir';
import { buildJobGraph } from '../../api/internal.js';
import { SourceHarness, StreamRecord } from 'weir/testing';
import { mulberry32 } from '../reference/random.js';
import { looseConfig } from '../helpers/descriptors.js';

interface Ev {
  key: string;
  v: number;
  ts: number;
}

/** Events out of order by up to 300 ms, with a watermark 300 ms behind the largest timestamp every 20 events. */
function events(seed: number, n: number): Ev[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => ({
    key: `k${Math.floor(rnd() * 5)}`,
    v: 1 + Math.floor(rnd() * 9),
    ts: i * 10 + Math.floor(rnd() * 300),
  }));
}

/** A non-parallel scripted source, written as a plain object; it awaits between batches as run() should. */
function scripted(evs: readonly Ev[]): SourceFunction<Ev> & { canceled: boolean } {
  return {
    canceled: false,
    async run(ctx: SourceContext<Ev>) {
      let maxTs = -Infinity;
      for (let i = 0; i < evs.length && !this.canceled; i++) {
        const e = evs[i]!;
        ctx.collectWithTimestamp(e, e.ts);
        maxTs = Math.max(maxTs, e.ts);
        if (i % 20 === 19) {
          ctx.emitWatermark(new Watermark(maxTs - 300));
          await new Promise((r) => setImmediate(r));
        }
      }
      ctx.markAsTemporarilyIdle();
    },
    cancel() {
      this.canceled = true;
    },
  };
}

describe('env.addSource in SourceHarness', () => {
  it('explicit timestamps and watermarks drive event-time windows: sums as the plain loop, none late', async () => {
    const evs = events(2, 600);
    const h = new SourceHarness((env) =>
      env
        .addSource(scripted(evs), 'Scripted')
        .keyBy((e) => e.key)
        .window(TumblingEventTimeWindows.of(100))
        .reduce((a, b) => ({ key: a.key, v: a.v + b.v, ts: Math.min(a.ts, b.ts) })),
    );
    await h.open();
    expect(await h.run()).toBe(600);
    const out = h.extractOutput();
    const sums = new Map<string, number>();
    for (const e of evs)
      sums.set(
        `${e.key}|${Math.floor(e.ts / 100) * 100}`,
        (sums.get(`${e.key}|${Math.floor(e.ts / 100) * 100}`) ?? 0) + e.v,
      );
    const records = out.filter((x): x is StreamRecord<Ev> => x instanceof StreamRecord);
    expect(new Map(records.map((r) => [`${r.value.key}|${r.timestamp! - 99}`, r.value.v]))).toEqual(sums);
    // Windows fired as the source's watermarks passed them, not all at the end.
    const watermarks = out.filter((x): x is Watermark => x instanceof Watermark).map((w) => w.timestamp);
    expect(watermarks.length).toBeGreaterThan(20);
    expect(watermarks.at(-1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(out.findIndex((x) => x instanceof Watermark && x.timestamp === Number.MAX_SAFE_INTEGER)).toBeGreaterThan(
      records.length / 2,
    );
    await h.close();
  });

  it('a checkpointed parallel source snapshotted mid-run and restored emits exactly the rest', async () => {
    const evs = events(9, 900);
    class Replayable extends RichParallelSourceFunction<Ev> implements CheckpointedFunction {
      private running = true;
      private next = 0;
      private offset!: ListState<number>;
      initializeState(ctx: FunctionInitializationContext): void {
        this.offset = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<number>('offset'));
        for (const o of this.offset.get()) this.next = o;
      }
      snapshotState(): void {
        this.offset.update([this.next]);
      }
      async run(ctx: SourceContext<Ev>): Promise<void> {
        const me = this.getRuntimeContext().getIndexOfThisSubtask();
        const n = this.getRuntimeContext().getNumberOfParallelSubtasks();
        while (this.running && this.next < evs.length) {
          if (this.next % n === me) ctx.collectWithTimestamp(evs[this.next]!, evs[this.next]!.ts);
          this.next++;
          // Yield often: the harness (as a task) takes a snapshot while run() waits.
          if (this.next % 7 === 0) await Promise.resolve();
        }
      }
      cancel(): void {
        this.running = false;
      }
    }
    const pipeline = (env: StreamExecutionEnvironment) =>
      env.addSource(new Replayable()).map((e) => `${e.key}:${e.v}@${e.ts}`);
    const options = { parallelism: 2, subtaskIndex: 1 };
    const mine = evs.filter((_, i) => i % 2 === 1).map((e) => new StreamRecord(`${e.key}:${e.v}@${e.ts}`, e.ts));

    const first = new SourceHarness(pipeline, options);
    await first.open();
    expect(await first.run(150)).toBe(150);
    // What run() emitted past the 150 records read goes out before the snapshot, which counts it.
    const snapshot = await first.snapshot();
    const before = first.extractOutputStreamRecords();
    expect(before.length).toBeGreaterThanOrEqual(150);
    expect(before.length).toBeLessThan(mine.length);
    await first.close();

    const second = new SourceHarness(pipeline, { ...options, stateBackend: 'level' });
    await second.initializeState(snapshot);
    await second.open();
    await second.run();
    expect([...before, ...second.extractOutputStreamRecords()]).toEqual(mine);
    await second.close();
  });

  it('a failing run() fails the harness as it fails the task', async () => {
    const h = new SourceHarness((env) =>
      env.addSource<number>({
        async run(ctx) {
          ctx.collect(1);
          await Promise.resolve();
          throw new Error('source broke');
        },
        cancel() {},
      }),
    );
    await h.open();
    await expect(h.run()).rejects.toThrow('source broke');
    expect(h.extractOutputValues()).toEqual([1]);
    await h.close();
  });

  it('cancel() is called when the harness closes while run() still runs, and later emissions are dropped', async () => {
    const src = scripted(events(4, 10_000));
    const h = new SourceHarness((env) => env.addSource(src));
    await h.open();
    await h.run(100);
    await h.close();
    expect(src.canceled).toBe(true);
  });

  it('builds a source of parallelism 1 for a SourceFunction and of the job parallelism for a parallel one', () => {
    const env = new StreamExecutionEnvironment({ defaultParallelism: 3 });
    class Par extends RichParallelSourceFunction<number> {
      run(): void {}
      cancel(): void {}
    }
    env.addSource(scripted([])).print();
    env.addSource(new Par(), 'Numbers').print();
    const { jobGraph } = buildJobGraph(env, 'job');
    const sources = jobGraph.vertices.filter((v) => v.operators[0]!.kind === 'source');
    expect(sources.map((v) => [v.operators[0]!.name, v.parallelism, looseConfig(v.operators[0]!).sourceKind])).toEqual([
      ['Source: Custom Source', 1, 'function'],
      ['Source: Numbers', 3, 'function'],
    ]);
    expect(() => env.addSource({ run() {} } as unknown as SourceFunction<number>)).toThrow(/run\(ctx\) and cancel\(\)/);
  });
});
