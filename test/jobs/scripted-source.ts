// A checkpointed parallel SourceFunction emitting explicit timestamps and watermarks into
// per-key windows of an assigner the job extends, written exactly once by the FileSink. The
// source keeps each subtask's position in union list state; the test compares the committed
// window sums with a plain loop over the same script (scriptedEvent below).
//   args: <outDir> <recordsPerSubtask> <keys> <checkpointIntervalMs> <pauseEvery> <pauseMs>
import {
  FileSink,
  ListStateDescriptor,
  OnCheckpointRollingPolicy,
  RestartStrategies,
  RichParallelSourceFunction,
  TimeWindow,
  TumblingEventTimeWindows,
  Watermark,
  type CheckpointedFunction,
  type FunctionInitializationContext,
  type ListState,
  type SourceContext,
  type StreamExecutionEnvironment,
  type WindowAssignerContext,
} from 'weir';

export interface ScriptedEvent {
  key: string;
  value: number;
  ts: number;
}

/** Record `j` of subtask `i`: timestamps out of order by up to 40 ms, never behind the watermarks emitted before it. */
export function scriptedEvent(i: number, j: number, keys: number): ScriptedEvent {
  const n = i * 1_000_003 + j;
  return { key: `k${(n * 7) % keys}`, value: (n % 13) + 1, ts: j * 10 + ((j * 37) % 5) * 10 - 20 + i };
}

/** The watermark after record `j`: below every later record's timestamp. */
export function watermarkAfter(j: number): number {
  return j * 10 - 60;
}

/** Windows of 100 ms for even keys and 200 ms for odd ones: a TumblingEventTimeWindows a user extended. */
export class KeySizedWindows extends TumblingEventTimeWindows {
  constructor() {
    super(100, 0);
  }

  static sizeOf(key: string): number {
    return Number(key.slice(1)) % 2 === 0 ? 100 : 200;
  }

  override assignWindows(element: unknown, timestamp: number | undefined, _ctx?: WindowAssignerContext): TimeWindow[] {
    const size = KeySizedWindows.sizeOf((element as ScriptedEvent).key);
    const start = TimeWindow.getWindowStartWithOffset(timestamp!, 0, size);
    return [new TimeWindow(start, start + size)];
  }
}

class ScriptedSource extends RichParallelSourceFunction<ScriptedEvent> implements CheckpointedFunction {
  private running = true;
  private next = 0;
  private positions!: ListState<{ subtask: number; next: number }>;

  constructor(
    private readonly count: number,
    private readonly keys: number,
    private readonly pauseEvery: number,
    private readonly pauseMs: number,
  ) {
    super();
  }

  initializeState(ctx: FunctionInitializationContext): void {
    this.positions = ctx
      .getOperatorStateStore()
      .getUnionListState(new ListStateDescriptor<{ subtask: number; next: number }>('positions'));
    // Union state: every subtask sees every position and takes its own (the runtime context is not set yet, so all are kept).
    this.restored = ctx.isRestored() ? [...this.positions.get()] : [];
  }

  private restored: { subtask: number; next: number }[] = [];

  override open(): void {
    const me = this.getRuntimeContext().getIndexOfThisSubtask();
    this.next = this.restored.find((p) => p.subtask === me)?.next ?? 0;
  }

  snapshotState(): void {
    this.positions.update([{ subtask: this.getRuntimeContext().getIndexOfThisSubtask(), next: this.next }]);
  }

  async run(ctx: SourceContext<ScriptedEvent>): Promise<void> {
    const me = this.getRuntimeContext().getIndexOfThisSubtask();
    while (this.running && this.next < this.count) {
      const e = scriptedEvent(me, this.next, this.keys);
      ctx.collectWithTimestamp(e, e.ts);
      this.next++;
      if (this.next % 10 === 0) ctx.emitWatermark(new Watermark(watermarkAfter(this.next - 1)));
      if (this.next % this.pauseEvery === 0) await new Promise((r) => setTimeout(r, this.pauseMs));
    }
  }

  cancel(): void {
    this.running = false;
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, count, keys, interval, pauseEvery, pauseMs] = args;
  env.enableCheckpointing(Number(interval));
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(5, 200));
  env
    .addSource(new ScriptedSource(Number(count), Number(keys), Number(pauseEvery), Number(pauseMs)), 'Scripted')
    .uid('scripted')
    .keyBy((e) => e.key)
    .window(new KeySizedWindows())
    .reduce<string>(
      (a, b) => ({ key: a.key, value: a.value + b.value, ts: Math.min(a.ts, b.ts) }),
      (key, ctx, sums, out) => {
        for (const s of sums) out.collect(`${key},${(ctx.window as TimeWindow).start},${s.value}`);
      },
    )
    .uid('sums')
    .sinkTo(FileSink.forRowFormat<string>(outDir!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
    .uid('sink');
}
