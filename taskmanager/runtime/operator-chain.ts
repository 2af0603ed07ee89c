// Builds the operators of one vertex and wires them: chained successors are called directly,
// network outputs go to record writers. Operators are opened tail first (so an operator never
// emits into an unopened one) and finished head first (so buffered output flows downstream).
import { keyRefsOf, type JobVertex, type OperatorDescriptor } from '../../common/jobgraph.js';
import type { ResultPartitionWriter } from '../network/types.js';
import { StreamFilter, StreamFlatMap, StreamMap } from '../operators/basic.js';
import { ProcessOperator, StreamGroupedReduce } from '../operators/keyed.js';
import { StreamOperator, type Output, type OperatorSetup, type TaskServices } from '../operators/operator.js';
import { FileSinkOperator } from '../operators/file-sink-operator.js';
import { createJdbcSinkOperator } from '../operators/jdbc-sink-operator.js';
import { KafkaSinkOperator } from '../operators/kafka-sink-operator.js';
import { PrometheusSinkOperator } from '../operators/prometheus-sink-operator.js';
import { PrintSink, UserSink } from '../operators/sinks.js';
import { TimestampsAndWatermarksOperator } from '../operators/timestamps-watermarks.js';
import { WindowOperator } from '../operators/window-operator.js';
import { LocalWindowAggregateOperator } from '../operators/local-window-aggregate.js';
import { BroadcastProcessOperator } from '../operators/broadcast-process.js';
import { CoStreamFlatMap, CoStreamMap } from '../operators/co-map.js';
import { CoProcessOperator } from '../operators/co-process.js';
import { IntervalJoinOperator } from '../operators/interval-join.js';

/** A partition writer plus the per-record call that applies the edge's partitioner. */
export type RecordWriter = ResultPartitionWriter & { emit(value: unknown, timestamp: number | undefined): void };

/** Where an operator's records go: the next chained operator or a network partition. */
interface RecordTarget {
  collect(value: unknown, timestamp: number | undefined): void;
  emitWatermark(timestamp: number): void;
}

class NetworkTarget implements RecordTarget {
  constructor(readonly writer: RecordWriter) {}
  collect(value: unknown, timestamp: number | undefined): void {
    this.writer.emit(value, timestamp);
  }
  emitWatermark(timestamp: number): void {
    this.writer.broadcastEvent({ type: 'watermark', timestamp });
  }
}

class ChainedTarget implements RecordTarget {
  constructor(readonly next: StreamOperator) {}
  collect(value: unknown, timestamp: number | undefined): void {
    this.next.processElement(value, timestamp);
  }
  emitWatermark(timestamp: number): void {
    this.next.processWatermark(timestamp);
  }
}

const NO_TARGETS: RecordTarget[] = [];

/**
 * An operator's Output: main records to its untagged targets, side outputs by tag, watermarks to
 * every target (side-output consumers need event time too).
 */
class OperatorOutput implements Output {
  private readonly all: RecordTarget[];

  constructor(
    private readonly main: RecordTarget[],
    private readonly side: Map<string, RecordTarget[]>,
  ) {
    this.all = [...main, ...[...side.values()].flat()];
  }

  collect(value: unknown, timestamp: number | undefined): void {
    const m = this.main;
    for (let i = 0; i < m.length; i++) m[i]!.collect(value, timestamp);
  }

  collectSide(tag: string, value: unknown, timestamp: number | undefined): void {
    const targets = this.side.get(tag) ?? NO_TARGETS;
    for (let i = 0; i < targets.length; i++) targets[i]!.collect(value, timestamp);
  }

  emitWatermark(timestamp: number): void {
    for (const t of this.all) t.emitWatermark(timestamp);
  }
}

/** The common cases, one main target and no side outputs: no loop, no extra hop per record. */
class ChainedOutput implements Output {
  constructor(private readonly next: StreamOperator) {}
  collect(value: unknown, timestamp: number | undefined): void {
    this.next.processElement(value, timestamp);
  }
  collectSide(): void {}
  emitWatermark(timestamp: number): void {
    this.next.processWatermark(timestamp);
  }
}

class NetworkOutput implements Output {
  constructor(private readonly writer: RecordWriter) {}
  collect(value: unknown, timestamp: number | undefined): void {
    this.writer.emit(value, timestamp);
  }
  collectSide(): void {}
  emitWatermark(timestamp: number): void {
    this.writer.broadcastEvent({ type: 'watermark', timestamp });
  }
}

type OperatorFactory = (setup: OperatorSetup) => StreamOperator;

/** A source head does not process records; it only gives its output to the source reader. */
export class SourceOperatorHead extends StreamOperator {
  get sourceOutput(): Output {
    return this.output;
  }
  processElement(): void {
    throw new Error(`source operator '${this.name}' has no input`);
  }
}

function factoryFor(op: OperatorDescriptor): OperatorFactory {
  switch (op.kind) {
    case 'source':
      return (s) => new SourceOperatorHead(s);
    case 'map':
      return (s) => new StreamMap(s);
    case 'filter':
      return (s) => new StreamFilter(s);
    case 'flatMap':
      return (s) => new StreamFlatMap(s);
    case 'keyedReduce':
      return (s) => new StreamGroupedReduce(s);
    case 'keyedProcess':
    case 'process':
      return (s) => new ProcessOperator(s);
    case 'timestampsAndWatermarks':
      return (s) => new TimestampsAndWatermarksOperator(s);
    case 'window':
      return (s) => new WindowOperator(s);
    case 'localWindowAggregate':
      return (s) => new LocalWindowAggregateOperator(s);
    case 'coMap':
      return (s) => new CoStreamMap(s);
    case 'coFlatMap':
      return (s) => new CoStreamFlatMap(s);
    case 'coProcess':
      return (s) => new CoProcessOperator(s);
    case 'broadcastProcess':
      return (s) => new BroadcastProcessOperator(s);
    case 'intervalJoin':
      return (s) => new IntervalJoinOperator(s);
    case 'sink': {
      const kind = op.config.sinkKind;
      if (kind === 'print') return (s) => new PrintSink(s);
      if (kind === 'file') return (s) => new FileSinkOperator(s);
      if (kind === 'kafka') return (s) => new KafkaSinkOperator(s);
      if (kind === 'prometheus') return (s) => new PrometheusSinkOperator(s);
      if (kind === 'custom') return (s) => new UserSink(s);
      if (kind === 'jdbc') return (s) => createJdbcSinkOperator(s);
      throw new Error(`unknown sink kind '${String(kind)}' of operator '${op.name}'`);
    }
    default: {
      // Unreachable for a descriptor that passed its schema; kept for in-process callers.
      const unknownOp: { kind: unknown; name: string } = op;
      throw new Error(`unknown operator kind '${String(unknownOp.kind)}' of operator '${unknownOp.name}'`);
    }
  }
}

/** The runtime operator of one descriptor, as a chain builds it (test harnesses build theirs one by one). */
export function createStreamOperator(setup: OperatorSetup): StreamOperator {
  return factoryFor(setup.descriptor)(setup);
}

export class OperatorChain {
  /** In vertex order: operators[0] is the head. */
  readonly operators: StreamOperator[];

  constructor(
    vertex: JobVertex,
    userCode: Map<string, unknown>,
    writers: Map<number, RecordWriter>,
    services: TaskServices,
  ) {
    const ops = vertex.operators;
    const built: (StreamOperator | undefined)[] = new Array(ops.length);
    // Build successors before predecessors: an operator's Output needs its targets to exist.
    const build = (i: number, visiting: Set<number>): StreamOperator => {
      const existing = built[i];
      if (existing) return existing;
      if (visiting.has(i)) throw new Error(`operator chain of '${vertex.name}' has a cycle`);
      visiting.add(i);
      const op = ops[i]!;
      const main: RecordTarget[] = [];
      const side = new Map<string, RecordTarget[]>();
      for (const o of op.outputs) {
        let target: RecordTarget;
        if (o.type === 'chained') target = new ChainedTarget(build(o.operator, visiting));
        else {
          const w = writers.get(o.edge);
          if (!w) throw new Error(`operator '${op.name}' writes to edge ${o.edge}, which has no result partition`);
          target = new NetworkTarget(w);
        }
        if (o.tag === undefined) main.push(target);
        else side.set(o.tag, [...(side.get(o.tag) ?? []), target]);
      }
      let output: Output;
      if (side.size === 0 && main.length === 1 && main[0] instanceof ChainedTarget)
        output = new ChainedOutput(main[0].next);
      else if (side.size === 0 && main.length === 1 && main[0] instanceof NetworkTarget)
        output = new NetworkOutput(main[0].writer);
      else output = new OperatorOutput(main, side);
      const keyRefs = keyRefsOf(op);
      const selector = (ref: string | undefined) => {
        if (!ref) return undefined;
        const fn = userCode.get(ref);
        if (typeof fn !== 'function')
          throw new Error(`key selector ${ref} of operator '${op.name}' is missing from the bundle`);
        return fn as (v: unknown) => unknown;
      };
      const operator = factoryFor(op)({
        descriptor: op,
        userCode: userCode.get(op.id),
        keySelector: selector(keyRefs.keyRef1),
        keySelector2: selector(keyRefs.keyRef2),
        output,
        services,
      });
      built[i] = operator;
      visiting.delete(i);
      return operator;
    };
    for (let i = ops.length - 1; i >= 0; i--) build(i, new Set());
    this.operators = built as StreamOperator[];
  }

  get head(): StreamOperator {
    return this.operators[0]!;
  }

  async open(): Promise<void> {
    for (let i = this.operators.length - 1; i >= 0; i--) await this.operators[i]!.open();
  }

  async finish(): Promise<void> {
    for (const op of this.operators) await op.finish();
  }

  /** Closes every operator, reporting the first error after trying them all. */
  async close(): Promise<void> {
    let first: unknown;
    for (const op of this.operators) {
      try {
        await op.close();
      } catch (e) {
        first ??= e;
      }
    }
    if (first) throw first;
  }
}
