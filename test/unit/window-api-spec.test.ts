// The WindowOperator driven by specs exactly as the API's graph builder makes them (countWindow's
// evictor folding reduce into the window function, windowAll's key-less functions, rich functions).
import { describe, expect, it } from 'vitest';
import type { Collector, RuntimeContext } from '../../api/functions.js';
import type { OperatorSpec } from '../../api/transformation.js';
import type { WindowConfig } from '../../common/jobgraph.js';
import { CountEvictor } from '../../api/windowing/count-evictor.js';
import { CountTrigger } from '../../api/windowing/count-trigger.js';
import { GlobalWindows } from '../../api/windowing/global-windows.js';
import { PurgingTrigger } from '../../api/windowing/purging-trigger.js';
import { TimeWindow } from '../../api/windowing/time-window.js';
import { TumblingEventTimeWindows } from '../../api/windowing/tumbling-windows.js';
import type {
  Evictor,
  ProcessWindowContext,
  Trigger,
  WindowAssigner,
  WindowOperatorSpec,
} from '../../api/windowing/types.js';
import { ProcessAllWindowFunction, ProcessWindowFunction } from '../../api/windowing/window-functions.js';
import { windowOperator, type WindowFunctions } from '../../api/windowing/window-operator-spec.js';
import type { Output } from '../../taskmanager/operators/operator.js';
import { WindowOperator } from '../../taskmanager/operators/window-operator.js';
import { MAX_WATERMARK } from '../../taskmanager/runtime/timer-service.js';
import { initializeOperator } from '../helpers/operator-state.js';
import { fakeTaskServices } from '../helpers/task-services.js';

interface Rec {
  key: string;
  v: number;
}

/** The window config the builder wrote (windowOperator() always builds a 'window' operator). */
function windowConfigOf(built: OperatorSpec): WindowConfig {
  if (built.kind !== 'window') throw new Error(`windowOperator() built a '${built.kind}' operator`);
  return built.config;
}

async function operatorFor(
  settings: { assigner: unknown; trigger?: unknown; evictor?: unknown; allowedLateness?: number; lateDataTag?: string },
  fns: WindowFunctions,
  all = false,
) {
  const assigner = settings.assigner as WindowAssigner<never, never>;
  const built = windowOperator(
    {
      assigner,
      trigger: (settings.trigger ?? assigner.getDefaultTrigger()) as Trigger<never, never>,
      evictor: settings.evictor as Evictor<never, never> | undefined,
      allowedLateness: settings.allowedLateness ?? 0,
      lateDataTag: settings.lateDataTag,
    },
    fns,
    all,
    'test',
  );
  const records: { value: unknown; ts: number | undefined }[] = [];
  const output: Output = {
    collect: (value, ts) => records.push({ value, ts }),
    collectSide: () => {},
    emitWatermark: () => {},
  };
  const op = new WindowOperator({
    descriptor: {
      id: 'c'.repeat(32),
      name: built.name,
      kind: 'window',
      config: windowConfigOf(built),
      stateful: true,
      outputs: [],
    },
    userCode: built.userFunction as WindowOperatorSpec,
    keySelector: all ? () => 0 : (r) => (r as Rec).key,
    output,
    services: fakeTaskServices({ processingTime: { now: () => 0, schedule: () => () => {} }, taskName: 'test' }),
  });
  await initializeOperator(op);
  return { op, records, values: () => records.map((r) => r.value) };
}

const sum = (a: Rec, b: Rec): Rec => ({ key: a.key, v: a.v + b.v });

describe('WindowOperator with specs from the API', () => {
  it('countWindow(4, 2): the last 4 elements every 2 elements, reduced', async () => {
    const { op, values } = await operatorFor(
      { assigner: GlobalWindows.create(), trigger: CountTrigger.of(2), evictor: CountEvictor.of(4) },
      { kind: 'reduce', reduce: sum },
    );
    for (let v = 1; v <= 8; v++) op.processElement({ key: 'a', v }, undefined);
    op.processElement({ key: 'b', v: 100 }, undefined);
    expect(values()).toEqual([
      { key: 'a', v: 1 + 2 },
      { key: 'a', v: 1 + 2 + 3 + 4 },
      { key: 'a', v: 3 + 4 + 5 + 6 },
      { key: 'a', v: 5 + 6 + 7 + 8 },
    ]);
  });

  it('countWindow(3): tumbling count windows per key, aggregated then processed', async () => {
    const { op, values } = await operatorFor(
      { assigner: GlobalWindows.create(), trigger: PurgingTrigger.of(CountTrigger.of(3)) },
      {
        kind: 'aggregate',
        aggregate: {
          createAccumulator: () => [] as number[],
          add: (r: Rec, acc: number[]) => [...acc, r.v],
          getResult: (acc: number[]) => acc.join('+'),
          merge: (a: number[], b: number[]) => [...a, ...b],
        },
        windowFunction: (key: string, _ctx: unknown, els: Iterable<string>, out: Collector<string>) =>
          out.collect(`${key}=${[...els].join()}`),
      },
    );
    for (let v = 1; v <= 7; v++) op.processElement({ key: v % 2 ? 'odd' : 'even', v }, undefined);
    expect(values()).toEqual(['odd=1+3+5', 'even=2+4+6']);
    op.processElement({ key: 'even', v: 8 }, undefined);
    op.processElement({ key: 'odd', v: 9 }, undefined);
    op.processElement({ key: 'odd', v: 11 }, undefined);
    expect(values()).toEqual(['odd=1+3+5', 'even=2+4+6', 'odd=7+9+11']);
    expect(await op.numWindows()).toBe(1); // even: 8 pending
  });

  it('windowAll with a ProcessAllWindowFunction: one window over all keys, opened and closed', async () => {
    const events: string[] = [];
    class Collect extends ProcessAllWindowFunction<Rec, string, TimeWindow> {
      override open(ctx: RuntimeContext): void {
        events.push(`open ${ctx.getIndexOfThisSubtask()} ${this.getRuntimeContext().getTaskName()}`);
      }
      override close(): void {
        events.push('close');
      }
      process(ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<Rec>, out: Collector<string>): void {
        out.collect(`${ctx.window.start}-${ctx.window.end}:${[...elements].map((e) => e.key + e.v).join(',')}`);
      }
    }
    const { op, records } = await operatorFor(
      { assigner: TumblingEventTimeWindows.of(10) },
      { kind: 'process', windowFunction: new Collect() },
      true,
    );
    await op.open();
    op.processElement({ key: 'a', v: 1 }, 1);
    op.processElement({ key: 'b', v: 2 }, 5);
    op.processElement({ key: 'c', v: 3 }, 12);
    op.processWatermark(MAX_WATERMARK);
    await op.close();
    expect(records).toEqual([
      { value: '0-10:a1,b2', ts: 9 },
      { value: '10-20:c3', ts: 19 },
    ]);
    expect(events).toEqual(['open 0 test', 'close']);
  });

  it('a keyed ProcessWindowFunction after reduce sees the key and the single reduced value', async () => {
    class Label extends ProcessWindowFunction<Rec, string, string, TimeWindow> {
      process(
        key: string,
        ctx: ProcessWindowContext<TimeWindow>,
        elements: Iterable<Rec>,
        out: Collector<string>,
      ): void {
        out.collect(`${key}@${ctx.window.start}:${[...elements].map((e) => e.v).join()}`);
      }
    }
    const { op, values } = await operatorFor(
      { assigner: TumblingEventTimeWindows.of(10) },
      { kind: 'reduce', reduce: { reduce: sum }, windowFunction: new Label() },
    );
    op.processElement({ key: 'a', v: 1 }, 1);
    op.processElement({ key: 'a', v: 2 }, 2);
    op.processElement({ key: 'b', v: 5 }, 3);
    op.processWatermark(9);
    expect((values() as string[]).sort()).toEqual(['a@0:3', 'b@0:5']);
  });
});
