// Per-operator setters shared by DataStream and DataStreamSink (Flink's SingleOutputStreamOperator
// and DataStreamSink expose the same ones).
import { checkMaxParallelism, checkPositiveInteger } from './function-utils.js';
import { effectiveParallelism, type OperatorTransformation, type Plan, type Transformation } from './transformation.js';

export function asOperator(t: Transformation, method: string): OperatorTransformation {
  if (t.type === 'operator') return t;
  const what =
    t.type === 'union'
      ? 'union()'
      : t.type === 'sideOutput'
        ? 'getSideOutput()'
        : t.partitioner === 'hash'
          ? 'keyBy()'
          : `${t.partitioner}()`;
  throw new Error(
    `${method}() applies to an operator, and the result of ${what} is not one; call it on the operator before or after`,
  );
}

function setOperatorParallelism(t: Transformation, n: number): void {
  const op = asOperator(t, 'setParallelism');
  checkPositiveInteger(n, `parallelism of '${op.name}'`);
  if (op.nonParallel && n !== 1) {
    const what = op.kind === 'source' ? 'a non-parallel source (fromElements)' : 'a non-parallel operator (windowAll)';
    throw new Error(`'${op.name}' is ${what}; its parallelism must be 1, got ${n}`);
  }
  op.parallelism = n;
}

function setOperatorMaxParallelism(t: Transformation, n: number): void {
  const op = asOperator(t, 'setMaxParallelism');
  op.maxParallelism = checkMaxParallelism(n, `maxParallelism of '${op.name}'`);
}

function setOperatorUid(t: Transformation, uid: string): void {
  const op = asOperator(t, 'uid');
  if (typeof uid !== 'string' || uid.length === 0) throw new TypeError('uid() needs a non-empty string');
  op.uid = uid;
}

function setOperatorName(t: Transformation, name: string): void {
  const op = asOperator(t, 'name');
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('name() needs a non-empty string');
  op.name = name;
}

function setOperatorChaining(t: Transformation, strategy: 'HEAD' | 'NEVER', method: string): void {
  asOperator(t, method).chaining = strategy;
}

/** The parallelism an operator will run with; virtual nodes take their input's, as in Flink. */
export function parallelismOf(plan: Plan, t: Transformation): number {
  if (t.type !== 'operator') return parallelismOf(plan, t.inputs[0]!);
  if (t.nonParallel) return 1;
  if (t.parallelism !== undefined) return t.parallelism;
  return t.inheritsParallelism ? parallelismOf(plan, t.inputs[0]!) : effectiveParallelism(plan);
}

/**
 * The per-operator setters of Flink's SingleOutputStreamOperator and DataStreamSink, for both: each
 * applies to the operator that made this stream (or this sink) and returns it for chaining.
 */
export abstract class OperatorSettings {
  abstract readonly transformation: Transformation;

  uid(uid: string): this {
    setOperatorUid(this.transformation, uid);
    return this;
  }

  name(name: string): this {
    setOperatorName(this.transformation, name);
    return this;
  }

  setParallelism(parallelism: number): this {
    setOperatorParallelism(this.transformation, parallelism);
    return this;
  }

  setMaxParallelism(maxParallelism: number): this {
    setOperatorMaxParallelism(this.transformation, maxParallelism);
    return this;
  }

  /** Neither chains to its input nor lets its outputs chain to it. */
  disableChaining(): this {
    setOperatorChaining(this.transformation, 'NEVER', 'disableChaining');
    return this;
  }

  /** Starts a new chain here; operators after it may still chain to it. */
  startNewChain(): this {
    setOperatorChaining(this.transformation, 'HEAD', 'startNewChain');
    return this;
  }
}
