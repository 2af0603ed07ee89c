// The watermark valves of an input task: one per logical input, so a two-input operator sees each
// input's own watermark and idleness. What passes a valve goes to the head operator; the task's
// input watermark (a metric) is the lowest over its inputs, and its output is idle only while
// every input is.
import type { StreamOperator, TaskServices, TwoInputStreamOperator } from '../operators/operator.js';
import { StatusWatermarkValve } from './watermark-valve.js';

export function createInputValves(
  channelsPerInput: readonly number[],
  head: StreamOperator,
  twoInput: TwoInputStreamOperator | undefined,
  io: { watermark: number },
  services: Pick<TaskServices, 'setIdle'>,
): StatusWatermarkValve[] {
  const idleInputs = new Array<boolean>(channelsPerInput.length).fill(false);
  const valves = channelsPerInput.map(
    (n, v) =>
      new StatusWatermarkValve(
        n,
        (wm) => {
          if (twoInput) {
            if (v === 0) twoInput.processWatermark1(wm);
            else twoInput.processWatermark2(wm);
            io.watermark = Math.min(valves[0]?.currentWatermark ?? wm, valves[1]?.currentWatermark ?? wm);
          } else {
            io.watermark = wm;
            head.processWatermark(wm);
          }
        },
        (idle) => {
          idleInputs[v] = idle;
          if (twoInput) {
            if (v === 0) twoInput.processWatermarkStatus1(idle);
            else twoInput.processWatermarkStatus2(idle);
          }
          services.setIdle(idleInputs.every((x) => x));
        },
      ),
  );
  return valves;
}
