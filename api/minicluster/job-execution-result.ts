// What execute() returns (Flink's JobExecutionResult) and the errors it throws (Flink's
// JobExecutionException). No runtime imports: environment.ts loads this in every bundle.

/** The outcome of a job that ran to its end in this process. */
export class JobExecutionResult {
  constructor(
    readonly jobId: string,
    readonly jobName: string,
    /** Milliseconds from submission to the end of the job. */
    readonly netRuntime: number,
    private readonly accumulators: Readonly<Record<string, unknown>> = {},
  ) {}

  getJobID(): string {
    return this.jobId;
  }

  /** The job's runtime in milliseconds. */
  getNetRuntime(): number {
    return this.netRuntime;
  }

  getAccumulatorResult<V>(name: string): V | undefined {
    return this.accumulators[name] as V | undefined;
  }

  /** Weir's functions register no accumulators yet: empty. */
  getAllAccumulatorResults(): Record<string, unknown> {
    return { ...this.accumulators };
  }

  isJobExecutionResult(): boolean {
    return true;
  }
}

/**
 * What execute() returns inside a job's main() run by the engine (planner or TaskManager): main
 * only builds the graph, and the engine runs the job later, so no result exists yet (Flink's
 * DetachedJobExecutionResult).
 */
export class DetachedJobExecutionResult extends JobExecutionResult {
  constructor(jobName: string) {
    super('', jobName, 0);
  }

  private detached(): never {
    throw new Error(
      'the job runs on the cluster after main() returns: its result is not known inside main() (see weir run, GET /jobs/:jobid)',
    );
  }

  override getJobID(): string {
    return this.detached();
  }

  override getNetRuntime(): number {
    return this.detached();
  }

  override getAccumulatorResult<V>(_name: string): V | undefined {
    return this.detached();
  }

  override getAllAccumulatorResults(): Record<string, unknown> {
    return this.detached();
  }

  override isJobExecutionResult(): boolean {
    return false;
  }
}

/** A job run in this process failed or was canceled; `cause` is the error the user's code threw, when it was one. */
export class JobExecutionException extends Error {
  override readonly name = 'JobExecutionException';

  constructor(
    readonly jobId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    const cause = options?.cause;
    // Shown as Java shows a cause chain, so a test report points at the user's line.
    if (cause instanceof Error && cause.stack) this.stack = `${this.name}: ${message}\nCaused by: ${cause.stack}`;
  }
}
