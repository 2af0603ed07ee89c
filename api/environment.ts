// StreamExecutionEnvironment: the entry point a job's main(env, args) builds its pipeline on. It
// records; the engine turns the record into a JobGraph (see job-graph-builder.ts), or, on a local
// environment (a test, a script), execute() runs it on an in-process mini cluster (minicluster/).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RestartStrategySettings } from '../common/checkpoint.js';
import type { SourceConfig } from '../common/jobgraph.js';
import { CheckpointConfig, checkMode, type CheckpointingMode } from './checkpoint-config.js';
import { DataStream } from './datastream.js';
import { checkMaxParallelism, checkPositiveInteger } from './function-utils.js';
import { FileSource } from './file-source.js';
import { KafkaSource } from './kafka-source.js';
import { DataGeneratorSource, ElementsSource, SequenceSource, type Source } from './sources.js';
import { isParallelSourceFunction, isSourceFunction, type SourceFunction } from './source-function.js';
import { addOperator, effectiveParallelism, planOf, registerPlan, type Plan } from './transformation.js';
import { WatermarkStrategy } from './watermark-strategy.js';
import { DetachedJobExecutionResult, type JobExecutionResult } from './minicluster/job-execution-result.js';
import type { JobClient } from './minicluster/job-client.js';
import { planLocalJob } from './minicluster/local-plan.js';

export const DEFAULT_MAX_PARALLELISM = 128;
export const DEFAULT_AUTO_WATERMARK_INTERVAL = 200;

/** Settings of an environment that runs its jobs in this process (see getExecutionEnvironment). */
export interface LocalExecution {
  /** Configuration keys of the in-process cluster (as in a cluster's config file), e.g. 'state.backend'. */
  readonly configuration: Readonly<Record<string, string>>;
  /** Every job this environment was asked to run, in order (main() may not await execute()). */
  readonly jobs: Promise<JobClient>[];
  /** Told of every job this environment starts (Flink's JobListener.onJobSubmitted); `weir run --local` cancels through it. */
  onJobSubmitted?: (client: JobClient) => void;
}

/** The environment main() builds on while the engine plans or loads a job (Flink's context environment). */
const contextEnvironment = new AsyncLocalStorage<StreamExecutionEnvironment>();
const localExecutions = new WeakMap<StreamExecutionEnvironment, LocalExecution>();

/** main() functions running now, whichever environment. */
let mainsRunning = 0;

/**
 * Runs `fn` (a job's main) with `env` as what getExecutionEnvironment() returns inside it, until
 * what it returns settles. Once no main() runs, the storage is disabled: while one is enabled,
 * Node runs its promise hooks for every promise of the thread, and a slot thread's task loops
 * would pay for them at each await for as long as the job runs.
 */
export async function runWithContextEnvironment<R>(env: StreamExecutionEnvironment, fn: () => R): Promise<Awaited<R>> {
  mainsRunning++;
  try {
    return await contextEnvironment.run(env, fn);
  } finally {
    if (--mainsRunning === 0) contextEnvironment.disable();
  }
}

/** The in-process settings of `env`; undefined for environments the engine runs main() on. */
export function localExecutionOf(env: StreamExecutionEnvironment): LocalExecution | undefined {
  return localExecutions.get(env);
}

export interface EnvironmentOptions {
  /** Parallelism of operators that set none, unless the job calls env.setParallelism(). */
  defaultParallelism?: number;
  programArgs?: string[];
}

/** Flink's ExecutionConfig, reduced to what the engine reads. */
export class ExecutionConfig {
  constructor(private readonly plan: Plan) {}

  /** How often sources emit periodic watermarks, in milliseconds (0 disables periodic watermarks). */
  setAutoWatermarkInterval(ms: number): this {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      throw new RangeError(`autoWatermarkInterval must be a non-negative number of milliseconds, got ${String(ms)}`);
    this.plan.autoWatermarkInterval = ms;
    return this;
  }

  getAutoWatermarkInterval(): number {
    return this.plan.autoWatermarkInterval;
  }

  /**
   * Splits window aggregations (reduce or aggregate over event-time tumbling or sliding windows)
   * into a local phase before the keyBy exchange and a global one after it, as Flink's SQL planner
   * does (table.optimizer.agg-phase-strategy TWO_PHASE); on by default. The local phase combines
   * elements with the functions' merge() (a ReduceFunction's reduce()), which must agree with add().
   */
  enableLocalWindowAggregation(): this {
    this.plan.localWindowAggregation = true;
    return this;
  }

  /** Every window aggregation in one phase, after the exchange (Flink's ONE_PHASE). */
  disableLocalWindowAggregation(): this {
    this.plan.localWindowAggregation = false;
    return this;
  }

  isLocalWindowAggregationEnabled(): boolean {
    return this.plan.localWindowAggregation;
  }
}

export class StreamExecutionEnvironment {
  private readonly config: ExecutionConfig;
  private readonly checkpointConfig: CheckpointConfig;

  /**
   * Flink's entry point. Inside a job's main() run by the engine (planning, TaskManagers) it is the
   * environment main() was given, so the engine runs the job as before. Anywhere else (a test, a
   * script) it is a local environment: execute() and executeAndCollect() run the job on an
   * in-process mini cluster. Unlike Flink's (the number of cores), its default parallelism is 1,
   * so output does not depend on the machine.
   */
  static getExecutionEnvironment(
    configuration?: Record<string, string | number | boolean>,
  ): StreamExecutionEnvironment {
    return contextEnvironment.getStore() ?? StreamExecutionEnvironment.createLocalEnvironment(undefined, configuration);
  }

  /** An environment whose jobs run in this process, with `parallelism` as its default (1 when omitted). */
  static createLocalEnvironment(
    parallelism?: number,
    configuration: Record<string, string | number | boolean> = {},
  ): StreamExecutionEnvironment {
    const env = new StreamExecutionEnvironment({
      defaultParallelism: parallelism === undefined ? 1 : checkPositiveInteger(parallelism, 'parallelism'),
    });
    const conf: Record<string, string> = {};
    for (const [k, v] of Object.entries(configuration)) conf[k] = String(v);
    localExecutions.set(env, { configuration: conf, jobs: [] });
    return env;
  }

  constructor(options: EnvironmentOptions = {}) {
    const plan: Plan = {
      transformations: [],
      defaultParallelism: options.defaultParallelism ?? 1,
      parallelism: undefined,
      maxParallelism: DEFAULT_MAX_PARALLELISM,
      bufferTimeout: undefined,
      autoWatermarkInterval: DEFAULT_AUTO_WATERMARK_INTERVAL,
      localWindowAggregation: true,
      checkpointing: undefined,
      restartStrategy: undefined,
      jobName: undefined,
      programArgs: [...(options.programArgs ?? [])],
    };
    registerPlan(this, plan);
    this.config = new ExecutionConfig(plan);
    this.checkpointConfig = new CheckpointConfig({
      get settings() {
        return plan.checkpointing;
      },
      set settings(v) {
        plan.checkpointing = v;
      },
    });
  }

  private get plan(): Plan {
    return planOf(this);
  }

  /** Parallelism of every operator that sets none; wins over the cluster's or CLI's default. */
  setParallelism(parallelism: number): this {
    this.plan.parallelism = checkPositiveInteger(parallelism, 'parallelism');
    return this;
  }

  getParallelism(): number {
    return effectiveParallelism(this.plan);
  }

  /** Number of key groups keyed state is split into; the upper limit for rescaling. */
  setMaxParallelism(maxParallelism: number): this {
    this.plan.maxParallelism = checkMaxParallelism(maxParallelism, 'maxParallelism');
    return this;
  }

  getMaxParallelism(): number {
    return this.plan.maxParallelism;
  }

  /** Longest a partly filled network buffer waits before it is sent; 0 sends after every record. */
  setBufferTimeout(ms: number): this {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      throw new RangeError(`bufferTimeout must be a non-negative number of milliseconds, got ${String(ms)}`);
    this.plan.bufferTimeout = ms;
    return this;
  }

  getBufferTimeout(): number | undefined {
    return this.plan.bufferTimeout;
  }

  getConfig(): ExecutionConfig {
    return this.config;
  }

  /**
   * Takes a barrier-aligned checkpoint of all state every `intervalMs` (Flink's
   * enableCheckpointing); EXACTLY_ONCE aligns barriers, AT_LEAST_ONCE does not.
   */
  enableCheckpointing(intervalMs: number, mode: CheckpointingMode = 'EXACTLY_ONCE'): this {
    this.checkpointConfig.setCheckpointInterval(intervalMs);
    this.checkpointConfig.setCheckpointingMode(checkMode(mode));
    return this;
  }

  getCheckpointConfig(): CheckpointConfig {
    return this.checkpointConfig;
  }

  /** This job's restart strategy (RestartStrategies.*); wins over the cluster's restart-strategy.type. */
  setRestartStrategy(strategy: RestartStrategySettings): this {
    if (!strategy || typeof strategy !== 'object' || typeof (strategy as { type?: unknown }).type !== 'string') {
      throw new TypeError(
        'setRestartStrategy() needs a RestartStrategies.* configuration, e.g. RestartStrategies.fixedDelayRestart(3, 1000)',
      );
    }
    this.plan.restartStrategy = { ...strategy };
    return this;
  }

  /** A non-parallel source of the given records, in order. */
  fromElements<T>(...items: T[]): DataStream<T> {
    const source = new ElementsSource<T>(items);
    return this.addSourceTransformation(source, 'Collection Source', undefined);
  }

  /** The numbers from..to inclusive, split among the source's subtasks. */
  fromSequence(from: number, to: number): DataStream<number> {
    return this.addSourceTransformation<number>(new SequenceSource(from, to), 'Sequence Source', undefined);
  }

  fromSource<T>(source: Source<T>, watermarkStrategy: WatermarkStrategy<T>, sourceName: string): DataStream<T> {
    if (!(
      source instanceof DataGeneratorSource ||
      source instanceof SequenceSource ||
      source instanceof ElementsSource ||
      source instanceof FileSource ||
      source instanceof KafkaSource
    )) {
      throw new TypeError(
        'fromSource() supports DataGeneratorSource, SequenceSource, ElementsSource, FileSource and KafkaSource',
      );
    }
    if (!(watermarkStrategy instanceof WatermarkStrategy))
      throw new TypeError('fromSource() needs a WatermarkStrategy, e.g. WatermarkStrategy.noWatermarks()');
    if (typeof sourceName !== 'string' || sourceName.length === 0)
      throw new TypeError('fromSource() needs a source name');
    return this.addSourceTransformation(source, sourceName, watermarkStrategy);
  }

  /**
   * A stream from a SourceFunction (Flink's addSource): its run(ctx) emits records, timestamps and
   * watermarks. Parallel when it is a ParallelSourceFunction, else one subtask. When it also
   * implements CheckpointedFunction, its operator state is checkpointed and restored.
   */
  addSource<T>(sourceFunction: SourceFunction<T>, sourceName = 'Custom Source'): DataStream<T> {
    if (!isSourceFunction(sourceFunction))
      throw new TypeError('addSource() needs a SourceFunction: an object with run(ctx) and cancel()');
    if (typeof sourceName !== 'string' || sourceName.length === 0)
      throw new TypeError('addSource() needs a non-empty source name');
    return this.addSourceTransformation(sourceFunction, sourceName, undefined);
  }

  /**
   * Inside a job's main() run by the engine: records the job's name (the engine submits and runs
   * the job once main() returns) and returns a detached result. On a local environment: runs the
   * job in this process and resolves when it ends (never, for an unbounded job that does not fail:
   * use executeAsync() and cancel(), or executeAndCollect(limit)); rejects with a
   * JobExecutionException whose cause is the user's error when the job fails.
   */
  async execute(jobName?: string): Promise<JobExecutionResult> {
    if (jobName !== undefined) this.plan.jobName = String(jobName);
    if (!localExecutions.has(this)) return new DetachedJobExecutionResult(this.plan.jobName ?? '');
    return (await this.executeAsync()).getJobExecutionResult();
  }

  /**
   * Starts the job in this process and resolves with its client once it runs (local environments
   * only). The pipeline built so far is the job; the environment starts empty again.
   */
  async executeAsync(jobName?: string): Promise<JobClient> {
    if (jobName !== undefined) this.plan.jobName = String(jobName);
    const local = localExecutions.get(this);
    if (!local)
      throw new Error(
        "executeAsync() runs a job in this process: use StreamExecutionEnvironment.getExecutionEnvironment() outside a job's main(); inside main() the engine runs the job",
      );
    const planned = planLocalJob(this);
    // Loaded on demand: bundles never load the runtime through the API.
    const client = import('./minicluster/local-execution.js').then(({ startLocalJob }) =>
      startLocalJob(planned, local),
    );
    local.jobs.push(client);
    return client;
  }

  private addSourceTransformation<T>(
    source: Source<T> | SourceFunction<T>,
    name: string,
    watermarkStrategy: WatermarkStrategy<T> | undefined,
  ): DataStream<T> {
    const config = sourceConfig(source);
    const extraUserCode = new Map<string, unknown>();
    if (watermarkStrategy) {
      config.watermark = watermarkStrategy.describe();
      extraUserCode.set('wm', watermarkStrategy);
    }
    const nonParallel =
      source instanceof ElementsSource || (isSourceFunction(source) && !isParallelSourceFunction(source));
    const t = addOperator(this.plan, [], {
      kind: 'source',
      name,
      config,
      userFunction: source,
      extraUserCode,
      nonParallel,
      parallelism: nonParallel ? 1 : undefined,
      // A checkpointed SourceFunction keeps its position in operator state: an upgrade needs its uid.
      mayHoldState:
        isSourceFunction(source) && typeof (source as { snapshotState?: unknown }).snapshotState === 'function',
    });
    return new DataStream<T>(this, t);
  }
}

function sourceConfig<T>(source: Source<T> | SourceFunction<T>): SourceConfig {
  // A SourceFunction ends when its run() returns, which nothing tells in advance.
  if (isSourceFunction(source)) return { sourceKind: 'function', bounded: false };
  if (source instanceof SequenceSource)
    return { sourceKind: 'sequence', bounded: true, from: source.from, to: source.to };
  if (source instanceof ElementsSource) return { sourceKind: 'elements', bounded: true, count: source.items.length };
  if (source instanceof FileSource)
    return {
      sourceKind: 'file',
      bounded: source.boundedness === 'BOUNDED',
      paths: [...source.paths],
      format: source.format.kind,
      ...(source.discoveryIntervalMs === undefined ? {} : { discoveryIntervalMs: source.discoveryIntervalMs }),
    };
  if (source instanceof KafkaSource) {
    const topics = source.topics ? [...source.topics] : String(source.topicPattern ?? 'partitions');
    return {
      sourceKind: 'kafka',
      bounded: source.boundedness === 'BOUNDED',
      bootstrapServers: source.bootstrapServers.join(','),
      topics,
    };
  }
  return {
    sourceKind: 'datagen',
    bounded: source.boundedness === 'BOUNDED',
    // Infinity is not JSON.
    count: Number.isFinite(source.count) ? source.count : null,
    ...(source.ratePerSecond !== undefined ? { ratePerSecond: source.ratePerSecond } : {}),
  };
}
