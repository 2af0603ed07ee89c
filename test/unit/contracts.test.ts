// The JSON contracts between JobManager and TaskManagers (issue 15): a descriptor from the real
// deployment builder passes; broken ones and broken acks are refused with the path of the problem.
import { describe, expect, it } from 'vitest';
import {
  BroadcastProcessFunction,
  KeyedCoProcessFunction,
  MapStateDescriptor,
  OutputTag,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';
import type { TaskCheckpointAck } from '../../common/checkpoint.js';
import { invalidAckIdentity, parseTaskCheckpointAck } from '../../common/contracts/checkpoint-schema.js';
import { Ajv } from 'ajv';
import { ContractError } from '../../common/contracts/contract.js';
import { lazyValidator } from '../../common/contracts/lazy-validator.js';
import {
  checkTaskDeploymentDescriptor,
  parseTaskDeploymentDescriptor,
} from '../../common/contracts/deployment-schema.js';
import type { TaskDeploymentDescriptor } from '../../common/deployment.js';
import { buildDeployment } from '../../jobmanager/deployment-builder.js';
import { ExecutionGraph } from '../../jobmanager/execution-graph.js';
import { buildGraph } from '../helpers/graph.js';

interface Ev {
  key: string;
  ts: number;
  v: number;
}

const rules = new MapStateDescriptor<string, number>('rules');
class Rules extends BroadcastProcessFunction<Ev, [string, number], string> {
  processElement(): void {}
  processBroadcastElement(): void {}
}
class Pair extends KeyedCoProcessFunction<string, Ev, Ev, string> {
  processElement1(): void {}
  processElement2(): void {}
}

const windowedSum = (env: StreamExecutionEnvironment): void => {
  env
    .fromElements<Ev>({ key: 'a', ts: 1, v: 1 })
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forBoundedOutOfOrderness<Ev>(10).withTimestampAssigner((e) => e.ts),
    )
    .keyBy((e) => e.key)
    .window(TumblingEventTimeWindows.of(1000))
    .reduce((a, b) => ({ ...a, v: a.v + b.v }))
    .keyBy((e) => e.key)
    .sum('v')
    .print('out');
};

/** Every operator kind the API builds, with keyed and non-keyed variants. */
const everyKind = (env: StreamExecutionEnvironment): void => {
  const evs = () =>
    env
      .fromElements<Ev>({ key: 'a', ts: 1, v: 1 })
      .assignTimestampsAndWatermarks(
        WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts),
      );
  const seq = env
    .fromSequence(1, 10)
    .map((x) => x)
    .filter((x) => x > 0)
    .flatMap<number>((x, out) => out.collect(x))
    .process<number>((x, _ctx, out) => out.collect(x));
  seq
    .keyBy((x) => x % 2)
    .process<number>({
      processElement: (x: number, _ctx: unknown, out: { collect(v: number): void }) => out.collect(x),
    })
    .addSink({ invoke() {} });
  seq
    .keyBy((x) => x % 2)
    .reduce((a, b) => a + b)
    .print();
  const late = new OutputTag<Ev>('late');
  const windowed = evs()
    .keyBy((e) => e.key)
    .window(TumblingEventTimeWindows.of(10))
    .allowedLateness(5)
    .sideOutputLateData(late)
    .reduce((a) => a);
  windowed.getSideOutput(late).print();
  evs()
    .windowAll(TumblingProcessingTimeWindows.of(10))
    .reduce((a) => a)
    .print();
  evs()
    .connect(evs())
    .map({ map1: (e) => e.v, map2: (e) => e.v })
    .print();
  evs()
    .connect(evs())
    .flatMap({ flatMap1: () => {}, flatMap2: () => {} })
    .print();
  evs()
    .keyBy((e) => e.key)
    .connect(evs().keyBy((e) => e.key))
    .process(new Pair())
    .print();
  evs()
    .connect(env.fromElements<[string, number]>(['a', 1]).broadcast(rules))
    .process(new Rules())
    .print();
  evs()
    .keyBy((e) => e.key)
    .intervalJoin(evs().keyBy((e) => e.key))
    .between(-5, 5)
    .lowerBoundExclusive()
    .process((a, _b, _ctx, out) => out.collect(a))
    .print();
  evs()
    .join(evs())
    .where((e) => e.key)
    .equalTo((e) => e.key)
    .window(TumblingEventTimeWindows.of(10))
    .apply((a) => a)
    .printToErr();
};

function descriptors(main: (env: StreamExecutionEnvironment) => void = windowedSum): TaskDeploymentDescriptor[] {
  const { jobGraph } = buildGraph(main, 2);
  const eg = new ExecutionGraph('0'.repeat(32), jobGraph, Date.now());
  eg.allExecutions().forEach((e) => {
    e.taskManagerId = 'tm0';
    e.taskManagerAddress = '127.0.0.1:9000';
    e.slotIndex = e.subtaskIndex;
    e.dataAddress = `127.0.0.1:${9100 + e.slotIndex}`;
  });
  const ctx = { jobName: 'g', bundleId: 'b'.repeat(64), programArgs: [], defaultParallelism: 2 };
  return eg.allExecutions().map((e) => buildDeployment(eg, e, ctx));
}

/** A deep copy of a descriptor as the wire carries it, to break. */
function wire(tdd: TaskDeploymentDescriptor): Record<string, any> {
  return JSON.parse(JSON.stringify(tdd)) as Record<string, any>;
}

function refusal(value: unknown): string {
  try {
    parseTaskDeploymentDescriptor(JSON.stringify(value));
  } catch (e) {
    expect(e).toBeInstanceOf(ContractError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('deployment descriptor contract', () => {
  it('accepts every descriptor the deployment builder makes', () => {
    const tdds = descriptors();
    expect(tdds.some((t) => t.inputGates.length > 0)).toBe(true);
    for (const tdd of tdds) expect(parseTaskDeploymentDescriptor(JSON.stringify(tdd))).toEqual(wire(tdd));
    // With checkpoint settings and a restore, as the JobManager adds them.
    const withState = {
      ...tdds[0]!,
      jobManagerId: 'jm',
      checkpointing: { periodic: true, jobDir: '/tmp/c/job', mode: 'EXACTLY_ONCE', stateBackend: 'heap' },
      restore: {
        checkpointId: 3,
        dir: '/tmp/c/job/chk-3',
        operators: { [tdds[0]!.vertexId]: { parallelism: 2, maxParallelism: 128, subtasks: [] } },
      },
    } as const;
    expect(
      checkTaskDeploymentDescriptor(wire(withState as unknown as TaskDeploymentDescriptor)).restore?.checkpointId,
    ).toBe(3);
  });

  it('accepts the config of every operator kind the API builds', () => {
    const tdds = descriptors(everyKind);
    const kinds = new Set(tdds[0]!.jobGraph.vertices.flatMap((v) => v.operators.map((o) => o.kind)));
    expect([...kinds].sort()).toEqual([
      'broadcastProcess',
      'coFlatMap',
      'coMap',
      'coProcess',
      'filter',
      'flatMap',
      'intervalJoin',
      'keyedProcess',
      'keyedReduce',
      'map',
      'process',
      'sink',
      'source',
      'timestampsAndWatermarks',
      'window',
    ]);
    for (const tdd of tdds) expect(() => parseTaskDeploymentDescriptor(JSON.stringify(tdd))).not.toThrow();
  });

  it('names the path of a wrong type deep inside', () => {
    const tdd = wire(descriptors().find((t) => t.inputGates.length > 0)!);
    tdd['inputGates'][0].channels = 'none';
    expect(refusal(tdd)).toBe('invalid deployment descriptor: /inputGates/0/channels: must be array');
    const again = wire(descriptors()[0]!);
    again['jobGraph'].vertices[0].operators[0].outputs = [{ type: 'network', edge: '0' }];
    expect(refusal(again)).toBe(
      'invalid deployment descriptor: /jobGraph/vertices/0/operators/0/outputs/0/edge: must be integer',
    );
  });

  it('names a missing field', () => {
    const tdd = wire(descriptors()[0]!);
    delete tdd['executionId'];
    expect(refusal(tdd)).toBe('invalid deployment descriptor: /executionId: is required');
    const sink = wire(descriptors().at(-1)!);
    const ops = sink['jobGraph'].vertices.at(-1).operators as { kind: string; config: Record<string, unknown> }[];
    const print = ops.findIndex((o) => o.kind === 'sink');
    delete ops[print]!.config['target'];
    const vi = sink['jobGraph'].vertices.length - 1;
    expect(refusal(sink)).toBe(
      `invalid deployment descriptor: /jobGraph/vertices/${vi}/operators/${print}/config/target: is required`,
    );
  });

  it('refuses an unknown operator kind and a config that does not fit its kind', () => {
    const tdd = wire(descriptors()[0]!);
    tdd['jobGraph'].vertices[0].operators[0].kind = 'teleport';
    expect(refusal(tdd)).toBe(
      'invalid deployment descriptor: /jobGraph/vertices/0/operators/0/kind: unknown value "teleport"',
    );
    const src = wire(descriptors()[0]!);
    src['jobGraph'].vertices[0].operators[0].config.sourceKind = 'carrier-pigeon';
    expect(refusal(src)).toBe(
      'invalid deployment descriptor: /jobGraph/vertices/0/operators/0/config/sourceKind: unknown value "carrier-pigeon"',
    );
    const win = wire(descriptors()[0]!);
    const wv = win['jobGraph'].vertices.findIndex(
      (v: { operators: { kind: string }[] }) => v.operators[0]!.kind === 'window',
    );
    win['jobGraph'].vertices[wv].operators[0].config.allowedLateness = 'late';
    expect(refusal(win)).toBe(
      `invalid deployment descriptor: /jobGraph/vertices/${wv}/operators/0/config/allowedLateness: must be number`,
    );
  });

  it('refuses what is not JSON', () => {
    expect(() => parseTaskDeploymentDescriptor('{')).toThrow(/^invalid deployment descriptor: not JSON/);
  });
});

describe('checkpoint acknowledgement contract', () => {
  const ack: TaskCheckpointAck = {
    jobId: 'j',
    executionId: 'e',
    checkpointId: 4,
    handles: [
      {
        operatorId: 'o',
        subtaskIndex: 0,
        file: 'o-0',
        size: 10,
        sha256: 'ab',
        keyGroupRange: { start: 0, end: 63 },
        operatorStates: [],
      },
    ],
    syncDurationMs: 1,
    asyncDurationMs: 2,
    alignmentDurationMs: 0,
  };

  it('accepts a well-formed ack', () => {
    expect(parseTaskCheckpointAck(JSON.stringify(ack))).toEqual(ack);
    expect(
      parseTaskCheckpointAck(
        JSON.stringify({ ...ack, handles: [{ ...ack.handles[0], keyGroupRange: null }], endOfInput: true }),
      ),
    ).toBeTruthy();
  });

  it('refuses a broken one with its path', () => {
    const broken = JSON.parse(JSON.stringify(ack)) as Record<string, any>;
    broken['handles'][0].keyGroupRange = { start: 0 };
    expect(() => parseTaskCheckpointAck(JSON.stringify(broken))).toThrow(
      'invalid checkpoint acknowledgement: /handles/0/keyGroupRange/end: is required',
    );
    expect(() => parseTaskCheckpointAck(JSON.stringify({ ...ack, checkpointId: '4' }))).toThrow(
      'invalid checkpoint acknowledgement: /checkpointId: must be integer',
    );
    // Optional fields are absent or set: null is no undefined.
    expect(() => parseTaskCheckpointAck(JSON.stringify({ ...ack, endOfInput: null }))).toThrow(
      'invalid checkpoint acknowledgement: /endOfInput: must be boolean',
    );
    // Enough left to decline that checkpoint; not from what is not JSON or names no checkpoint.
    expect(invalidAckIdentity(JSON.stringify(broken))).toEqual({ executionId: 'e', checkpointId: 4 });
    expect(invalidAckIdentity('{')).toBeUndefined();
    expect(invalidAckIdentity(JSON.stringify({ executionId: 'e', checkpointId: -1 }))).toBeUndefined();
  });
});

describe('lazyValidator', () => {
  it('compiles on the first check, once, and reports the errors of the latest check', () => {
    let compiles = 0;
    const validate = lazyValidator<{ n: number }>(() => {
      compiles++;
      return new Ajv().compile<{ n: number }>({
        type: 'object',
        properties: { n: { type: 'number' } },
        required: ['n'],
      });
    });
    expect(compiles).toBe(0);
    expect(validate.errors).toBeUndefined();
    expect(validate({ n: 'x' })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ instancePath: '/n', keyword: 'type' });
    expect(validate({ n: 1 })).toBe(true);
    expect(validate.errors).toBeNull();
    expect(compiles).toBe(1);
  });
});
