// Adds a two-input operator to the plan: input 1 from `first`, input 2 from `second`. Keyed
// two-input operators name both keyBys, which become config.keyRef1/keyRef2 in the graph.
import { SingleOutputStreamOperator, type DataStream } from './datastream.js';
import { addOperator, planOf, type OperatorSpec } from './transformation.js';

export function addTwoInputOperator<R, IN1, IN2>(
  first: DataStream<IN1>,
  second: DataStream<IN2>,
  spec: OperatorSpec,
): SingleOutputStreamOperator<R> {
  const env = first.getExecutionEnvironment();
  const t = addOperator(planOf(env), [first.transformation, second.transformation], spec);
  return new SingleOutputStreamOperator<R>(env, t);
}
