// What print()/sinkTo()/addSink() return: the sink operator's setters, as Flink's DataStreamSink.
import { OperatorSettings } from './operator-settings.js';
import type { OperatorTransformation } from './transformation.js';

export class DataStreamSink<T> extends OperatorSettings {
  /** Records' type only; a sink has no output. */
  declare private readonly __type?: T;

  constructor(override readonly transformation: OperatorTransformation) {
    super();
  }
}
