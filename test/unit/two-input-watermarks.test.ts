import { describe, expect, it } from 'vitest';
import { TwoInputStreamOperator, type Output } from '../../taskmanager/operators/operator.js';
import { ManualTime } from '../helpers/manual-time.js';
import { fakeTaskServices } from '../helpers/task-services.js';

class Passthrough extends TwoInputStreamOperator {
  processElement1(): void {}
  processElement2(): void {}
}

function harness() {
  const watermarks: number[] = [];
  const output: Output = { collect() {}, collectSide() {}, emitWatermark: (w) => watermarks.push(w) };
  const op = new Passthrough({
    descriptor: { id: 'x'.repeat(32), name: 'Two', kind: 'coMap', config: {}, stateful: false, outputs: [] },
    userCode: undefined,
    output,
    services: fakeTaskServices({ processingTime: new ManualTime() }),
  });
  return { op, watermarks };
}

describe('two-input operators', () => {
  it('take the minimum of both inputs as their event time', () => {
    const { op, watermarks } = harness();
    op.processWatermark1(100);
    expect(watermarks).toEqual([]);
    op.processWatermark2(50);
    op.processWatermark2(150);
    op.processWatermark1(200);
    expect(watermarks).toEqual([50, 100, 150]);
  });

  it('leave an idle input out, and take it back when it is active again', () => {
    const { op, watermarks } = harness();
    op.processWatermark1(100);
    op.processWatermarkStatus2(true);
    expect(watermarks).toEqual([100]);
    op.processWatermark1(300);
    expect(watermarks).toEqual([100, 300]);
    op.processWatermarkStatus2(false);
    op.processWatermark2(250); // behind: never moves event time back
    op.processWatermark2(400);
    op.processWatermark1(500);
    expect(watermarks).toEqual([100, 300, 400]);
  });
});
