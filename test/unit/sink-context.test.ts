// A user SinkFunction sees each record's timestamp and the watermark that last reached the sink
// (Flink's SinkFunction.Context), on the engine's own sink operator.
import { describe, expect, it } from 'vitest';
import type { DataStream, SinkContext } from 'weir';
import { PipelineHarness } from 'weir/testing';

describe('SinkContext', () => {
  it('reports the timestamp of the record and the current watermark', async () => {
    const seen: [number, number | null, number][] = [];
    const h = new PipelineHarness((s: DataStream<number>) => {
      s.addSink((v: number, ctx: SinkContext) => void seen.push([v, ctx.timestamp(), ctx.currentWatermark()]));
      return s.map((v) => v);
    });
    await h.open();
    h.processElement(1, 100);
    h.processWatermark(150);
    h.processElement(2, 200);
    h.processWatermark(250);
    h.processElement(3, 180);
    await h.close();
    expect(seen).toEqual([
      [1, 100, Number.MIN_SAFE_INTEGER],
      [2, 200, 150],
      [3, 180, 250],
    ]);
  });
});
