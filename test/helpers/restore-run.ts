// Runs an operator over a list of steps, stopping it at given steps to checkpoint it into a file and
// going on in a fresh operator restored from that file (on the same or the other backend), the way
// a task fails over. The output of such a run must equal one uninterrupted run's.
import type { Output, StreamOperator } from '../../taskmanager/operators/operator.js';
import { ManualTime } from './manual-time.js';
import {
  initializeOperator,
  snapshotDir,
  takeSnapshot,
  type BackendType,
  type OperatorStateFixture,
} from './operator-state.js';

export type Emitted =
  | { kind: 'out'; value: unknown; ts: number | undefined }
  | { kind: 'side'; tag: string; value: unknown; ts: number | undefined }
  | { kind: 'wm'; ts: number }
  | { kind: 'boundary' };

/** One step of input: a record, a watermark or a move of processing time. */
export interface Step<OP> {
  run(op: OP, time: ManualTime): void;
  /** Output before and after this step is ordered (watermarks are always boundaries). */
  boundary?: boolean;
  /**
   * A watermark step of this input. As in Flink, a snapshot holds no watermark: a restored operator
   * knows no event time until the next watermark comes, so records right after a restore are not
   * late. The runner gives the restored operator the last watermark of each input again (its output
   * dropped), as replayed sources soon do, so a restored run can be compared with one that never stopped.
   */
  watermarkOf?: string;
}

/** Records what operators emit while `enabled`; a stopped operator's output goes nowhere. */
class SwitchableOutput implements Output {
  enabled = true;
  constructor(private readonly log: Emitted[]) {}
  collect(value: unknown, ts: number | undefined): void {
    if (this.enabled) this.log.push({ kind: 'out', value: structuredClone(value), ts });
  }
  collectSide(tag: string, value: unknown, ts: number | undefined): void {
    if (this.enabled) this.log.push({ kind: 'side', tag, value: structuredClone(value), ts });
  }
  emitWatermark(ts: number): void {
    if (this.enabled) this.log.push({ kind: 'wm', ts });
  }
}

export interface RestoreRunOptions<OP extends StreamOperator> {
  /** A fresh operator (as a task builds it) writing to `output`. */
  make(output: Output, time: ManualTime): OP;
  steps: readonly Step<OP>[];
  /** Whether the operator gets a keyed backend (default true). */
  keyed?: boolean;
  /** Steps before which the operator is checkpointed and replaced by a restored one. */
  cuts?: readonly number[];
  /** Backend of each operator in turn (the first before any cut); the last one repeats. */
  backends?: readonly BackendType[];
  /**
   * Steps the stopped operator still processes after the checkpoint's synchronous part and before
   * the file is written (their output is dropped): the file must hold the state as of the barrier.
   */
  stepsAfterBarrier?: number;
}

/** The emitted stream, with the output of each stopped operator up to its checkpoint only. */
export async function runWithRestores<OP extends StreamOperator>(o: RestoreRunOptions<OP>): Promise<Emitted[]> {
  const log: Emitted[] = [];
  const cuts = [...(o.cuts ?? [])].sort((a, b) => a - b);
  const backends = o.backends ?? ['heap'];
  const dir = snapshotDir();
  let fixture: OperatorStateFixture | undefined;
  try {
    let time = new ManualTime();
    let output = new SwitchableOutput(log);
    let op = o.make(output, time);
    fixture = await initializeOperator(op, { keyed: o.keyed, backend: backends[0] });
    await op.open();
    let next = 0;
    const lastWatermarks = new Map<string, Step<OP>>();
    for (let c = 0; c <= cuts.length; c++) {
      const end = c < cuts.length ? cuts[c]! : o.steps.length;
      for (; next < end; next++) {
        const step = o.steps[next]!;
        runStep(step, op, time, log);
        if (step.watermarkOf !== undefined) lastWatermarks.set(step.watermarkOf, step);
      }
      if (c === cuts.length) break;
      const snapshot = await takeSnapshot(op, fixture, c + 1);
      const restartTime = time.time;
      // The stopped operator goes on a little, as a task does until the checkpoint's files are written.
      output.enabled = false;
      for (let i = next; i < Math.min(next + (o.stepsAfterBarrier ?? 0), o.steps.length); i++)
        o.steps[i]!.run(op, time);
      const file = await snapshot.write(dir.file(`chk-${c + 1}`));
      await op.close();
      await fixture.dispose();
      fixture = undefined;
      time = new ManualTime();
      time.time = restartTime;
      output = new SwitchableOutput(log);
      op = o.make(output, time);
      fixture = await initializeOperator(op, {
        keyed: o.keyed,
        backend: backends[Math.min(c + 1, backends.length - 1)],
        restoreFrom: file,
      });
      await op.open();
      output.enabled = false;
      for (const step of lastWatermarks.values()) step.run(op, time);
      output.enabled = true;
    }
    await op.finish();
    await op.close();
    return log;
  } finally {
    await fixture?.dispose();
    dir.remove();
  }
}

function runStep<OP>(step: Step<OP>, op: OP, time: ManualTime, log: Emitted[]): void {
  step.run(op, time);
  if (step.boundary) log.push({ kind: 'boundary' });
}

/** The emitted stream as segments between watermarks and boundaries, each sorted: order within a segment is free. */
export function segments(log: readonly Emitted[]): string[][] {
  const segs: string[][] = [[]];
  for (const e of log) {
    if (e.kind === 'wm' || e.kind === 'boundary') segs.push([]);
    if (e.kind !== 'boundary') segs[segs.length - 1]!.push(JSON.stringify(e));
  }
  return segs.map((s) => s.sort());
}

/** Main-output values in order. */
export function outputValues(log: readonly Emitted[]): unknown[] {
  return log.filter((e) => e.kind === 'out').map((e) => (e as { value: unknown }).value);
}

/** The cut points that split `n` steps into `parts` equal parts. */
export function evenCuts(n: number, parts: number): number[] {
  return Array.from({ length: parts - 1 }, (_, i) => Math.floor(((i + 1) * n) / parts));
}
