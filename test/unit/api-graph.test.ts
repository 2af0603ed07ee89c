import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  DataGeneratorSource,
  FileSink,
  KeyedStream,
  RateLimiterStrategy,
  RichMapFunction,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from 'weir';
import type { JobGraph, JobVertex } from '../../common/jobgraph.js';
import { buildJobGraph, createEnvironment } from '../../api/internal.js';
import { looseConfig } from '../helpers/descriptors.js';

type Main = (env: StreamExecutionEnvironment) => void;

function build(main: Main, opts: { defaultParallelism?: number } = {}) {
  const env = createEnvironment(opts);
  main(env);
  return buildJobGraph(env, 'fallback');
}

function graphOf(main: Main, opts: { defaultParallelism?: number } = {}): JobGraph {
  return build(main, opts).jobGraph;
}

function names(g: JobGraph): string[] {
  return g.vertices.map((v) => v.name);
}

function vertexNamed(g: JobGraph, prefix: string): JobVertex {
  const v = g.vertices.find((x) => x.name.startsWith(prefix));
  if (!v) throw new Error(`no vertex starting with ${prefix} in ${names(g).join(' | ')}`);
  return v;
}

describe('chaining', () => {
  it('chains a forward pipeline of equal parallelism into one vertex', () => {
    const g = graphOf((env) => {
      env.setParallelism(2);
      env
        .fromSequence(1, 10)
        .map((x) => x * 2)
        .filter((x) => x > 3)
        .print();
    });
    expect(names(g)).toEqual(['Source: Sequence Source -> Map -> Filter -> Sink: Print to Std. Out']);
    expect(g.edges).toEqual([]);
    const ops = g.vertices[0]!.operators;
    expect(ops.map((o) => o.kind)).toEqual(['source', 'map', 'filter', 'sink']);
    expect(ops[0]!.outputs).toEqual([{ type: 'chained', operator: 1 }]);
    expect(ops[2]!.outputs).toEqual([{ type: 'chained', operator: 3 }]);
    expect(ops[3]!.outputs).toEqual([]);
    expect(g.vertices[0]!.id).toBe(ops[0]!.id);
    expect(g.vertices[0]!.numInputs).toBe(0);
    expect(g.vertices[0]!.parallelism).toBe(2);
  });

  it('breaks the chain at keyBy when parallelism > 1 and uses a hash edge with a key selector', () => {
    const { jobGraph: g, userCode } = build((env) => {
      env.setParallelism(2);
      env
        .fromSequence(1, 10)
        .map((x) => ({ k: x % 3, v: x }))
        .keyBy((r) => r.k)
        .sum('v')
        .print();
    });
    expect(names(g)).toEqual(['Source: Sequence Source -> Map', 'Keyed Aggregation -> Sink: Print to Std. Out']);
    expect(g.edges).toHaveLength(1);
    const e = g.edges[0]!;
    expect(e.partitioner).toBe('hash');
    expect(e.keyRef).toMatch(/^key-[0-9a-f]{32}$/);
    const selector = userCode.get(e.keyRef!) as (r: { k: number }) => number;
    expect(selector({ k: 7 })).toBe(7);
    const reduceOp = g.vertices[1]!.operators[0]!;
    expect(reduceOp.kind).toBe('keyedReduce');
    expect(looseConfig(reduceOp).keyRef).toBe(e.keyRef);
    expect(reduceOp.stateful).toBe(true);
    expect(g.vertices[0]!.operators[1]!.outputs).toEqual([{ type: 'network', edge: 0 }]);
    expect(g.vertices[1]!.numInputs).toBe(1);
  });

  it('chains a hash edge when both sides have parallelism 1 and the same maxParallelism', () => {
    const g = graphOf((env) => {
      env
        .fromSequence(1, 10)
        .keyBy((x) => x % 2)
        .reduce((a, b) => a + b)
        .print();
    });
    expect(names(g)).toEqual(['Source: Sequence Source -> Keyed Reduce -> Sink: Print to Std. Out']);
    expect(looseConfig(g.vertices[0]!.operators[1]!).keyRef).toMatch(/^key-/);
  });

  it('does not chain a parallelism-1 hash edge across different maxParallelism', () => {
    const g = graphOf((env) => {
      env
        .fromSequence(1, 10)
        .keyBy((x) => x % 2)
        .reduce((a, b) => a + b)
        .setMaxParallelism(64)
        .print();
    });
    expect(names(g)).toEqual(['Source: Sequence Source', 'Keyed Reduce -> Sink: Print to Std. Out']);
    expect(g.edges.map((e) => e.partitioner)).toEqual(['hash']);
    expect(g.vertices.map((v) => v.maxParallelism)).toEqual([128, 64]);
  });

  it('does not chain across different parallelism and defaults that edge to rebalance', () => {
    const g = graphOf((env) => {
      env
        .fromSequence(1, 10)
        .setParallelism(2)
        .map((x) => x)
        .setParallelism(3)
        .print()
        .setParallelism(3);
    });
    expect(names(g)).toEqual(['Source: Sequence Source', 'Map -> Sink: Print to Std. Out']);
    expect(g.edges.map((e) => e.partitioner)).toEqual(['rebalance']);
  });

  it.each(['rebalance', 'rescale', 'broadcast', 'global'] as const)('does not chain an explicit %s edge', (p) => {
    const g = graphOf((env) => {
      env.setParallelism(2);
      const source = env.fromSequence(1, 10);
      source[p]()
        .map((x) => x)
        .print();
    });
    expect(names(g)).toEqual(['Source: Sequence Source', 'Map -> Sink: Print to Std. Out']);
    expect(g.edges.map((e) => e.partitioner)).toEqual([p]);
  });

  it('chains an explicit forward edge of equal parallelism', () => {
    const g = graphOf((env) => {
      env.setParallelism(2);
      env
        .fromSequence(1, 10)
        .forward()
        .map((x) => x)
        .print();
    });
    expect(g.vertices).toHaveLength(1);
  });

  it('disableChaining isolates the operator on both sides', () => {
    const g = graphOf((env) => {
      env
        .fromSequence(1, 10)
        .map((x) => x)
        .name('A')
        .map((x) => x)
        .name('B')
        .disableChaining()
        .map((x) => x)
        .name('C')
        .print();
    });
    expect(names(g)).toEqual(['Source: Sequence Source -> A', 'B', 'C -> Sink: Print to Std. Out']);
    expect(g.edges.map((e) => e.partitioner)).toEqual(['forward', 'forward']);
  });

  it('startNewChain starts a chain that later operators join', () => {
    const g = graphOf((env) => {
      env
        .fromSequence(1, 10)
        .map((x) => x)
        .name('A')
        .map((x) => x)
        .name('B')
        .startNewChain()
        .map((x) => x)
        .name('C')
        .print();
    });
    expect(names(g)).toEqual(['Source: Sequence Source -> A', 'B -> C -> Sink: Print to Std. Out']);
  });

  it('chains a tree: one operator feeding two chained successors and a network edge', () => {
    const g = graphOf((env) => {
      const s = env.fromSequence(1, 10);
      s.map((x) => x)
        .name('A')
        .print();
      s.map((x) => x)
        .name('B')
        .print();
      s.rebalance()
        .map((x) => x)
        .name('C')
        .print();
    });
    expect(g.vertices).toHaveLength(2);
    const v = g.vertices[0]!;
    expect(v.operators.map((o) => o.name)).toEqual([
      'Source: Sequence Source',
      'A',
      'Sink: Print to Std. Out',
      'B',
      'Sink: Print to Std. Out',
    ]);
    expect(v.operators[0]!.outputs).toEqual([
      { type: 'chained', operator: 1 },
      { type: 'chained', operator: 3 },
      { type: 'network', edge: 0 },
    ]);
    expect(v.operators[1]!.outputs).toEqual([{ type: 'chained', operator: 2 }]);
    expect(v.operators[3]!.outputs).toEqual([{ type: 'chained', operator: 4 }]);
    expect(g.vertices[1]!.name).toBe('C -> Sink: Print to Std. Out');
  });
});

describe('union', () => {
  it('gives the consumer one input edge per unioned stream on input 0, unchained', () => {
    const g = graphOf((env) => {
      const a = env.fromSequence(1, 5).name('A');
      const b = env.fromSequence(6, 9).name('B');
      const c = env.fromElements(100).name('C');
      a.union(b, c)
        .map((x) => x)
        .print();
    });
    expect(names(g)).toEqual(['Source: A', 'Source: B', 'Source: C', 'Map -> Sink: Print to Std. Out']);
    const map = vertexNamed(g, 'Map');
    const inputs = g.edges.filter((e) => e.target === map.id);
    expect(inputs).toHaveLength(3);
    expect(inputs.every((e) => e.targetInput === 0 && e.partitioner === 'forward')).toBe(true);
    expect(map.numInputs).toBe(1);
  });

  it("keeps each input's own partitioner through a union", () => {
    const g = graphOf((env) => {
      env.setParallelism(2);
      const a = env.fromSequence(1, 5);
      const b = env.fromSequence(6, 9);
      a.union(b.keyBy((x) => x))
        .map((x) => x)
        .print();
    });
    expect(g.edges.map((e) => e.partitioner)).toEqual(['forward', 'hash']);
  });

  it('rejects streams of another environment', () => {
    const env1 = createEnvironment({});
    const env2 = createEnvironment({});
    expect(() => env1.fromSequence(1, 2).union(env2.fromSequence(1, 2))).toThrow(/different execution environments/);
  });
});

describe('parallelism', () => {
  it('env.setParallelism wins over the default; explicit operator parallelism is kept', () => {
    const g = graphOf(
      (env) => {
        env.setParallelism(3);
        env
          .fromSequence(1, 10)
          .map((x) => x)
          .setParallelism(5)
          .print();
      },
      { defaultParallelism: 7 },
    );
    expect(g.vertices.map((v) => v.parallelism)).toEqual([3, 5, 3]);
    expect(g.edges.map((e) => e.partitioner)).toEqual(['rebalance', 'rebalance']);
  });

  it('operators without a setting use the default parallelism', () => {
    const g = graphOf(
      (env) => {
        env.fromSequence(1, 10).print();
      },
      { defaultParallelism: 4 },
    );
    expect(g.vertices[0]!.parallelism).toBe(4);
  });

  it('fromElements is non-parallel', () => {
    const g = graphOf((env) => {
      env.setParallelism(4);
      const s = env.fromElements('a', 'b');
      expect(s.getParallelism()).toBe(1);
      s.setParallelism(1)
        .map((x) => x)
        .print();
    });
    expect(g.vertices.map((v) => v.parallelism)).toEqual([1, 4]);
    expect(g.edges[0]!.partitioner).toBe('rebalance');
    const env = createEnvironment({});
    expect(() => env.fromElements(1, 2).setParallelism(2)).toThrow(/non-parallel source.*must be 1/);
  });

  it('rejects non-positive parallelism where it is set', () => {
    const env = createEnvironment({});
    expect(() => env.setParallelism(0)).toThrow(/positive integer/);
    expect(() =>
      env
        .fromSequence(1, 2)
        .map((x) => x)
        .setParallelism(-1),
    ).toThrow(/positive integer/);
    expect(() => env.fromSequence(1, 2).setParallelism(1.5)).toThrow(/positive integer/);
  });

  it('rejects a non-positive default parallelism at build time', () => {
    expect(() =>
      build(
        (env) => {
          env.fromSequence(1, 2).print();
        },
        { defaultParallelism: 0 },
      ),
    ).toThrow(/default parallelism/);
  });

  it('rejects maxParallelism below parallelism', () => {
    expect(() =>
      build((env) => {
        env.setMaxParallelism(4);
        env.fromSequence(1, 2).setParallelism(8).print();
      }),
    ).toThrow(/maxParallelism \(4\) must not be smaller than its parallelism \(8\)/);
  });

  it('rejects setters on keyBy/union results', () => {
    const env = createEnvironment({});
    expect(() =>
      env
        .fromSequence(1, 2)
        .keyBy((x) => x)
        .setParallelism(2),
    ).toThrow(/keyBy\(\) is not one/);
    expect(() => env.fromSequence(1, 2).rebalance().uid('x')).toThrow(/rebalance\(\) is not one/);
  });
});

describe('partitioners', () => {
  it('rejects a user forward() between different parallelisms', () => {
    expect(() =>
      build((env) => {
        env
          .fromSequence(1, 2)
          .setParallelism(2)
          .forward()
          .map((x) => x)
          .setParallelism(3)
          .print();
      }),
    ).toThrow(/forward\(\).*needs equal parallelism/);
  });

  it('the partitioner closest to the consumer wins', () => {
    const g = graphOf((env) => {
      env.setParallelism(2);
      env
        .fromSequence(1, 2)
        .keyBy((x) => x)
        .rebalance()
        .map((x) => x)
        .print();
    });
    expect(g.edges.map((e) => [e.partitioner, e.keyRef])).toEqual([['rebalance', undefined]]);
  });

  it('map on a KeyedStream is hash-partitioned and carries the keyRef', () => {
    const g = graphOf((env) => {
      env.setParallelism(2);
      const keyed = env.fromSequence(1, 2).keyBy((x) => x % 2);
      expect(keyed).toBeInstanceOf(KeyedStream);
      keyed.map((x) => x).print();
    });
    expect(g.edges[0]!.partitioner).toBe('hash');
    expect(looseConfig(vertexNamed(g, 'Map').operators[0]!).keyRef).toBe(g.edges[0]!.keyRef);
  });
});

describe('operator ids', () => {
  const pipeline: Main = (env) => {
    env.setParallelism(2);
    const s = env.fromSequence(1, 100);
    s.map((x) => x + 1)
      .keyBy((x) => x % 4)
      .reduce((a, b) => a + b)
      .uid('sum')
      .print();
    s.filter((x) => x > 5)
      .rebalance()
      .map((x) => x)
      .print();
  };

  it('are 32 lowercase hex and the same on every build', () => {
    const a = graphOf(pipeline);
    const b = graphOf(pipeline);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const ids = a.vertices.flatMap((v) => v.operators.map((o) => o.id));
    expect(ids.every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('come from the uid when given, independent of position', () => {
    const a = graphOf(pipeline);
    const b = graphOf((env) => {
      env.fromElements(0).print();
      pipeline(env);
    });
    const uidOp = (g: JobGraph) => g.vertices.flatMap((v) => v.operators).find((o) => o.uid === 'sum')!;
    expect(uidOp(a).id).toBe(uidOp(b).id);
    expect(uidOp(a).id).toHaveLength(32);
    expect(uidOp(a).id).not.toBe(createHash('sha256').update('').digest('hex').slice(0, 32));
    // Positional ids move when operators are inserted before them.
    const firstMap = (g: JobGraph) => g.vertices.flatMap((v) => v.operators).find((o) => o.kind === 'map')!;
    expect(firstMap(a).id).not.toBe(firstMap(b).id);
  });

  it('rejects duplicate uids', () => {
    expect(() =>
      build((env) => {
        env
          .fromSequence(1, 2)
          .uid('x')
          .map((x) => x)
          .uid('x')
          .print();
      }),
    ).toThrow(/duplicate uid 'x'/);
  });
});

describe('warnings', () => {
  it('warns about stateful operators without uid only', () => {
    const { jobGraph: g } = build((env) => {
      const keyed = env.fromSequence(1, 2).keyBy((x) => x);
      keyed
        .reduce((a, b) => a + b)
        .name('R1')
        .print();
      keyed
        .reduce((a, b) => a + b)
        .name('R2')
        .uid('r2')
        .print();
      keyed.process({ processElement: () => {} }).print();
      keyed
        .map((x) => x)
        .name('plain map')
        .print();
      class Rich extends RichMapFunction<number, number> {
        map(x: number) {
          return x;
        }
      }
      keyed.map(new Rich()).name('rich map').print();
      env.fromSequence(1, 2).map(new Rich()).name('unkeyed rich map').print();
    });
    expect(g.warnings).toEqual([
      "operator 'R1' is stateful but has no uid(); savepoint-based upgrades need one",
      "operator 'KeyedProcess' is stateful but has no uid(); savepoint-based upgrades need one",
      "operator 'rich map' is stateful but has no uid(); savepoint-based upgrades need one",
    ]);
  });
});

describe('validation', () => {
  it('rejects a job without sink', () => {
    expect(() =>
      build((env) => {
        env.fromSequence(1, 2).map((x) => x);
      }),
    ).toThrow(/no sink/);
  });

  it('rejects a job without operators', () => {
    expect(() => build(() => {})).toThrow(/defines no operators/);
  });
});

describe('topology and descriptors', () => {
  it('lists vertices in topological order and numbers edges 0..n-1', () => {
    const g = graphOf((env) => {
      env.setParallelism(2);
      const a = env.fromSequence(1, 10).name('A');
      const b = env.fromSequence(1, 10).name('B').setParallelism(1);
      const ka = a
        .keyBy((x) => x)
        .reduce((x, y) => x + y)
        .name('RA');
      const u = b
        .union(ka)
        .map((x) => x)
        .name('U')
        .setParallelism(3);
      u.rebalance()
        .map((x) => x)
        .name('M')
        .print();
      a.broadcast()
        .filter((x) => x > 1)
        .name('F')
        .print();
    });
    const pos = new Map(g.vertices.map((v, i) => [v.id, i]));
    for (const e of g.edges) expect(pos.get(e.source)!).toBeLessThan(pos.get(e.target)!);
    expect(g.edges.map((e) => e.index)).toEqual(g.edges.map((_, i) => i));
    // Every network output refers to an edge leaving its own vertex.
    for (const v of g.vertices) {
      for (const o of v.operators) {
        for (const out of o.outputs) {
          if (out.type === 'network') expect(g.edges[out.edge]!.source).toBe(v.id);
          else expect(out.operator).toBeLessThan(v.operators.length);
        }
      }
    }
    expect(g.vertices.filter((v) => v.numInputs === 0).map((v) => v.name)).toEqual(['Source: A', 'Source: B']);
  });

  it('records job name, buffer timeout and watermark interval', () => {
    const named = graphOf((env) => {
      env.setBufferTimeout(0).getConfig().setAutoWatermarkInterval(50);
      env.fromSequence(1, 2).print();
      void env.execute('my job');
    });
    expect(named.name).toBe('my job');
    expect(named.config).toEqual({ bufferTimeout: 0, autoWatermarkInterval: 50 });
    const unnamed = graphOf((env) => {
      env.fromSequence(1, 2).print();
    });
    expect(unnamed.name).toBe('fallback');
    expect(unnamed.config).toEqual({ autoWatermarkInterval: 200 });
    expect(unnamed.maxParallelism).toBe(128);
  });

  it('stores source, sink and watermark descriptors as JSON and the objects as user code', () => {
    const wm = WatermarkStrategy.forBoundedOutOfOrderness<number>(500)
      .withTimestampAssigner((x) => x)
      .withIdleness('2 s');
    const gen = new DataGeneratorSource((i) => i * 10, Infinity, RateLimiterStrategy.perSecond(100));
    const fileSink = FileSink.forRowFormat<number>('/tmp/out').build();
    const { jobGraph: g, userCode } = build((env) => {
      env.fromSource(gen, wm, 'Gen').sinkTo(fileSink);
      env.fromElements(1, 2, 3).printToErr('err');
      env
        .fromSequence(5, 9)
        .addSink({ invoke: () => {} })
        .name('custom');
    });
    const [genV, elemV, seqV] = g.vertices;
    const [src, sink] = genV!.operators;
    expect(genV!.name).toBe('Source: Gen -> Sink: FileSink');
    expect(src!.config).toEqual({
      sourceKind: 'datagen',
      bounded: false,
      count: null,
      ratePerSecond: 100,
      watermark: { kind: 'boundedOutOfOrderness', maxOutOfOrderness: 500, idleness: 2000 },
    });
    expect(sink!.config).toEqual({ sinkKind: 'file', dir: '/tmp/out' });
    expect(userCode.get(src!.id)).toBe(gen);
    expect(userCode.get(`wm-${src!.id}`)).toBe(wm);
    expect(userCode.get(sink!.id)).toBe(fileSink);
    expect(elemV!.operators[0]!.config).toEqual({ sourceKind: 'elements', bounded: true, count: 3 });
    expect((userCode.get(elemV!.operators[0]!.id) as { items: number[] }).items).toEqual([1, 2, 3]);
    expect(elemV!.operators[1]!.config).toEqual({ sinkKind: 'print', target: 'stderr', prefix: 'err' });
    expect(seqV!.operators[0]!.config).toEqual({ sourceKind: 'sequence', bounded: true, from: 5, to: 9 });
    expect(seqV!.name).toBe('Source: Sequence Source -> Sink: custom');
    expect(seqV!.operators[1]!.config).toEqual({ sinkKind: 'custom' });
    // The graph itself survives a JSON round trip unchanged.
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
  });
});
