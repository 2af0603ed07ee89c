// assignTimestampsAndWatermarks(strategy): stamps records and generates watermarks mid-stream.
// As in Flink, watermarks arriving from upstream are dropped (this operator defines event time
// from here on), except the final one that marks the end of input.
import { MAX_WATERMARK } from '../runtime/timer-service.js';
import { WatermarkEmitter, type StrategyLike } from '../runtime/watermark-emitter.js';
import { StreamOperator, type OperatorSetup } from './operator.js';

export class TimestampsAndWatermarksOperator extends StreamOperator {
  private readonly emitter: WatermarkEmitter;

  constructor(setup: OperatorSetup) {
    super(setup);
    const strategy = setup.userCode as StrategyLike | undefined;
    if (!strategy || typeof strategy !== 'object') throw new Error(`operator '${this.name}' has no WatermarkStrategy`);
    const s = setup.services;
    this.emitter = new WatermarkEmitter(strategy, setup.output, s, s.autoWatermarkInterval, (idle) => s.setIdle(idle));
  }

  override async open(): Promise<void> {
    this.emitter.start();
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    try {
      this.emitter.collect(value, timestamp);
    } catch (e) {
      this.fail(e);
    }
  }

  override processWatermark(timestamp: number): void {
    if (timestamp === MAX_WATERMARK) this.emitter.endOfInput();
  }

  override async finish(): Promise<void> {
    this.emitter.stop();
  }

  override async close(): Promise<void> {
    this.emitter.stop();
  }
}
