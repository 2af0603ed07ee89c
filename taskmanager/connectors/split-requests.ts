// A source reader's side of splits handed out on request (Flink's RequestSplitEvent and AddSplitEvent):
// it asks the enumerator in the JobManager for the next split as it starts its last, so it does not
// wait for an answer while the JobManager keeps up, and it ends once told there are no more.

/** Asks the source's enumerator in the JobManager for more splits; they arrive through addSplits. */
export interface SplitRequester {
  requestSplit(): void;
}

/** At most one request outstanding; `held` is how many splits the reader still has to read. */
export class SplitRequests {
  private noMore = false;
  private requested = false;
  private arrived: (() => void) | undefined;

  constructor(private readonly requester: SplitRequester) {}

  /** The enumerator said it has nothing left for this subtask. */
  get noMoreSplits(): boolean {
    return this.noMore;
  }

  /** Asks for the next split once the reader is on its last (or has none). */
  requestIfLow(held: number): void {
    if (this.requested || this.noMore || held > 1) return;
    this.requested = true;
    this.requester.requestSplit();
  }

  /** An answer came (the reader has added its splits). */
  answered(noMoreSplits: boolean): void {
    if (noMoreSplits) this.noMore = true;
    this.requested = false;
    this.arrived?.();
    this.arrived = undefined;
  }

  /** Settles when the reader has splits again or will get none. */
  available(held: number): Promise<void> {
    return held > 0 || this.noMore ? Promise.resolve() : new Promise<void>((resolve) => (this.arrived = resolve));
  }
}
