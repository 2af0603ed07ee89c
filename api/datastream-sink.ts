// What print()/sinkTo()/addSink() return: the sink operator's setters, as Flink's DataStreamSink.
import {
  setOperatorChaining,
  setOperatorMaxParallelism,
  setOperatorName,
  setOperatorParallelism,
  setOperatorUid,
} from './operator-settings.js';
import type { OperatorTransformation } from './transformation.js';

export class DataStreamSink<T> {
  /** Records' type only; a sink has no output. */
  declare private readonly __type?: T;

  constructor(readonly transformation: OperatorTransformation) {}

  name(name: string): this {
    setOperatorName(this.transformation, name);
    return this;
  }

  uid(uid: string): this {
    setOperatorUid(this.transformation, uid);
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

  disableChaining(): this {
    setOperatorChaining(this.transformation, 'NEVER', 'disableChaining');
    return this;
  }

  startNewChain(): this {
    setOperatorChaining(this.transformation, 'HEAD', 'startNewChain');
    return this;
  }
}
