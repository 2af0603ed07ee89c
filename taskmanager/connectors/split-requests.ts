// A source reader's side of splits handed out on request (Flink's RequestSplitEvent and AddSplitEvent):
// it asks the enumerator in the JobManager for the next split as it starts its last, so it does not
// wait for an answer while the JobManager keeps up, and it ends once told there are no more.
import type { SourceSplits } from '../../common/control.js';
import type { Output } from '../operators/operator.js';
import type { SourceReader } from './source-readers.js';

/** Asks the source's enumerator in the JobManager for more splits; they arrive through addSplits. */
export interface SplitRequester {
  requestSplit(): void;
}

/** A reader of the splits it holds (a generator's ranges, a FileSource's files), which can take more. */
export interface SplitHolder extends SourceReader {
  /** How many splits it still has to read. */
  readonly held: number;
  /** Takes the splits an enumerator handed out. */
  take(splits: SourceSplits): void;
}

/**
 * Reads what the enumerator hands out through `reader`: it starts with none (or those a snapshot
 * gave it), keeps at most one request outstanding, and finishes once the enumerator said there are
 * no more and its splits are read. An endless source (a monitored FileSource) never hears that.
 */
export class RequestedSplitsReader implements SourceReader {
  readonly ratePerSecond = undefined;
  private noMoreSplits = false;
  private requested = false;
  private arrived: (() => void) | undefined;

  constructor(
    private readonly reader: SplitHolder,
    private readonly requester: SplitRequester,
  ) {}

  get finished(): boolean {
    return this.reader.held === 0 && this.noMoreSplits;
  }

  start(): Promise<void> {
    this.requestIfLow();
    return Promise.resolve();
  }

  emitBatch(max: number, out: Output): number {
    const n = this.reader.emitBatch(max, out);
    this.requestIfLow();
    return n;
  }

  available(): Promise<void> {
    return this.reader.held > 0 || this.noMoreSplits
      ? Promise.resolve()
      : new Promise<void>((resolve) => (this.arrived = resolve));
  }

  addSplits(splits: SourceSplits): void {
    this.reader.take(splits);
    if (splits.noMoreSplits) this.noMoreSplits = true;
    this.requested = false;
    this.arrived?.();
    this.arrived = undefined;
  }

  snapshotSplits(checkpointId?: number): unknown[] {
    return this.reader.snapshotSplits(checkpointId);
  }

  restoreSplits(splits: unknown[]): void {
    this.reader.restoreSplits(splits);
  }

  /** Asks for the next split once the reader is on its last (or has none). */
  private requestIfLow(): void {
    if (this.requested || this.noMoreSplits || this.reader.held > 1) return;
    this.requested = true;
    this.requester.requestSplit();
  }
}
