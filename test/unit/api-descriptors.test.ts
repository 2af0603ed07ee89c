import type { RuntimeContext } from '../../api/index.js';
import { describe, expect, it } from 'vitest';
import {
  DataGeneratorSource,
  FileSink,
  RateLimiterStrategy,
  RichMapFunction,
  SequenceSource,
  SimpleStringEncoder,
  WatermarkStrategy,
} from 'weir';
import { createEnvironment, programArgsOf } from '../../api/internal.js';

describe('DataGeneratorSource', () => {
  it('exposes its settings', () => {
    const s = new DataGeneratorSource((i) => `r${i}`, 10, RateLimiterStrategy.perSecond(5));
    expect(s.generatorFunction(3)).toBe('r3');
    expect(s.count).toBe(10);
    expect(s.ratePerSecond).toBe(5);
    expect(s.boundedness).toBe('BOUNDED');
    const u = new DataGeneratorSource({ map: (i: number) => i + 1 }, Infinity);
    expect(u.generatorFunction(1)).toBe(2);
    expect(u.ratePerSecond).toBeUndefined();
    expect(u.boundedness).toBe('CONTINUOUS_UNBOUNDED');
    expect(RateLimiterStrategy.noOp().ratePerSecond).toBeUndefined();
  });

  it('rejects bad arguments', () => {
    expect(() => new DataGeneratorSource((i) => i, -1)).toThrow(/non-negative integer or Infinity/);
    expect(() => new DataGeneratorSource((i) => i, 1.5)).toThrow(/non-negative integer/);
    expect(() => RateLimiterStrategy.perSecond(0)).toThrow(/positive finite rate/);
    expect(() => new DataGeneratorSource(42 as never, 1)).toThrow(
      /expects a function or an object with a map\(\) method/,
    );
  });
});

describe('sources on the environment', () => {
  it('fromSequence checks its range', () => {
    const env = createEnvironment({});
    expect(() => env.fromSequence(5, 1)).toThrow(/must not be greater/);
    expect(() => env.fromSequence(0, 0.5)).toThrow(/safe integers/);
    expect(new SequenceSource(1, 3)).toMatchObject({ from: 1, to: 3, boundedness: 'BOUNDED' });
  });

  it('fromSource needs a known source, a WatermarkStrategy and a name', () => {
    const env = createEnvironment({});
    const gen = new DataGeneratorSource((i) => i, 3);
    expect(() => env.fromSource({} as never, WatermarkStrategy.noWatermarks(), 'x')).toThrow(
      /supports DataGeneratorSource/,
    );
    expect(() => env.fromSource(gen, {} as never, 'x')).toThrow(/needs a WatermarkStrategy/);
    expect(() => env.fromSource(gen, WatermarkStrategy.noWatermarks(), '')).toThrow(/needs a source name/);
  });

  it('keeps program args and defaults', () => {
    const env = createEnvironment({ programArgs: ['--n', '3'] });
    expect(programArgsOf(env)).toEqual(['--n', '3']);
    expect(env.getParallelism()).toBe(1);
    expect(env.getMaxParallelism()).toBe(128);
    expect(env.getConfig().getAutoWatermarkInterval()).toBe(200);
    expect(() => env.setMaxParallelism(40000)).toThrow(/at most 32768/);
    expect(() => env.setBufferTimeout(-1)).toThrow(/non-negative/);
  });
});

describe('WatermarkStrategy', () => {
  it('describes itself as JSON and stays immutable', () => {
    const base = WatermarkStrategy.forBoundedOutOfOrderness<{ ts: number }>('5 s');
    const withTs = base.withTimestampAssigner((e) => e.ts);
    const idle = withTs.withIdleness(1000);
    expect(base.describe()).toEqual({ kind: 'boundedOutOfOrderness', maxOutOfOrderness: 5000 });
    expect(base.timestampAssigner).toBeUndefined();
    expect(idle.describe()).toEqual({ kind: 'boundedOutOfOrderness', maxOutOfOrderness: 5000, idleness: 1000 });
    expect(idle.timestampAssigner!({ ts: 77 }, null)).toBe(77);
    expect(WatermarkStrategy.forMonotonousTimestamps().describe()).toEqual({ kind: 'monotonous' });
    expect(WatermarkStrategy.noWatermarks().describe()).toEqual({ kind: 'noWatermarks' });
    const obj = WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner({
      extractTimestamp: (e) => e * 2,
    });
    expect(obj.timestampAssigner!(4, null)).toBe(8);
    expect(() => WatermarkStrategy.forBoundedOutOfOrderness(-5)).toThrow(/non-negative duration/);
  });
});

describe('FileSink', () => {
  it("has Flink's defaults and takes an output file config", () => {
    const plain = FileSink.forRowFormat('/data/out').build();
    expect(plain).toMatchObject({ dir: '/data/out', partPrefix: 'part', partSuffix: '', encoder: undefined });
    const custom = FileSink.forRowFormat<number>('/data/out', new SimpleStringEncoder<number>('UTF-8'))
      .withOutputFileConfig({ partPrefix: 'nums', partSuffix: '.txt' })
      .build();
    expect(custom.partPrefix).toBe('nums');
    expect(custom.partSuffix).toBe('.txt');
    expect(custom.encoder!(12)).toBe('12');
    expect(FileSink.forRowFormat<number>('/x', (n) => `#${n}`).build().encoder!(3)).toBe('#3');
    expect(() => FileSink.forRowFormat('')).toThrow(/directory/);
    expect(() => FileSink.forRowFormat('/x').withOutputFileConfig({ partPrefix: 'a/b' })).toThrow(/path separators/);
    expect(() => new SimpleStringEncoder('latin1')).toThrow(/only UTF-8/);
  });
});

describe('user functions', () => {
  it('are checked where they are passed', () => {
    const s = createEnvironment({}).fromSequence(1, 2);
    class Doubler extends RichMapFunction<number, number> {
      map(x: number) {
        return x * 2;
      }
    }
    expect(() => s.map(Doubler as never)).toThrow(/pass an instance: new Doubler\(\)/);
    expect(() => s.filter({ map: () => true } as never)).toThrow(
      /filter\(\) expects a function or an object with a filter\(\) method/,
    );
    expect(() => s.addSink({} as never)).toThrow(/invoke\(\)/);
    expect(() => s.keyBy(null as never)).toThrow(/keyBy\(\) expects/);
    expect(() => s.map(new Doubler())).not.toThrow();
  });

  it('rich functions expose the runtime context only once it is set', () => {
    class Doubler extends RichMapFunction<number, number> {
      map(x: number) {
        return x * 2 * (this.getRuntimeContext().getIndexOfThisSubtask() + 1);
      }
    }
    const d = new Doubler();
    expect(() => d.map(1)).toThrow(/only available once the function is opened/);
    d.setRuntimeContext({
      getJobId: () => 'j',
      getTaskName: () => 't',
      getIndexOfThisSubtask: () => 2,
      getNumberOfParallelSubtasks: () => 3,
      getMaxNumberOfParallelSubtasks: () => 128,
      getAttemptNumber: () => 0,
    } as RuntimeContext);
    expect(d.map(1)).toBe(6);
  });
});
