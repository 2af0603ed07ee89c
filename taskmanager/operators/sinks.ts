// Sink operators: print (Flink's PrintSinkFunction) and user SinkFunctions; the FileSink has its own file.
import type { SinkContext } from '../../api/functions.js';
import { StreamOperator, type OperatorSetup } from './operator.js';

/** How a sink writes a record that has no encoder: strings as they are, anything else as JSON. */
export function toLine(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

/** Writes "prefix:subtask> value" lines (as Flink), batching writes so stdout is no bottleneck. */
export class PrintSink extends StreamOperator {
  private readonly stream: NodeJS.WriteStream;
  private readonly linePrefix: string;
  private buf: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(setup: OperatorSetup) {
    super(setup);
    const d = setup.descriptor;
    const cfg = d.kind === 'sink' && d.config.sinkKind === 'print' ? d.config : undefined;
    this.stream = cfg?.target === 'stderr' ? process.stderr : process.stdout;
    const sub = setup.services.parallelism > 1 ? `${setup.services.subtaskIndex + 1}> ` : '';
    this.linePrefix = cfg?.prefix ? (sub ? `${cfg.prefix}:${sub}` : `${cfg.prefix}> `) : sub;
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.services.sinkRecords++;
    if (timestamp !== undefined) this.services.sinkLag.record(timestamp);
    this.buf.push(this.linePrefix + toLine(value) + '\n');
    if (this.buf.length >= 512) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), 50);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buf.length === 0) return;
    this.stream.write(this.buf.join(''));
    this.buf = [];
  }

  override async finish(): Promise<void> {
    this.flush();
  }

  override async close(): Promise<void> {
    this.flush();
    await super.close();
  }
}

/** A user SinkFunction (`addSink`): a function or an object with invoke(value, ctx). */
export class UserSink extends StreamOperator implements SinkContext {
  private readonly invoke: (v: unknown, ctx: SinkContext) => unknown;
  private currentTimestamp: number | undefined;
  private watermark = Number.MIN_SAFE_INTEGER;

  constructor(setup: OperatorSetup) {
    super(setup);
    this.invoke = this.userFunction('invoke');
  }

  timestamp(): number | null {
    return this.currentTimestamp ?? null;
  }

  currentProcessingTime(): number {
    return Date.now();
  }

  /** The last watermark that reached this sink (Flink's SinkFunction.Context#currentWatermark). */
  currentWatermark(): number {
    return this.watermark;
  }

  override processWatermark(timestamp: number): void {
    this.watermark = timestamp;
    super.processWatermark(timestamp);
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.services.sinkRecords++;
    if (timestamp !== undefined) this.services.sinkLag.record(timestamp);
    this.currentTimestamp = timestamp;
    let r: unknown;
    try {
      r = this.invoke(value, this);
    } catch (e) {
      this.fail(e);
    }
    if (r instanceof Promise) {
      this.services.pending = r.catch((e: unknown) => this.fail(e));
    }
  }
}
