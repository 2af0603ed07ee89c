// StreamExecutionEnvironment: the entry point a job's main(env, args) builds its pipeline on. It only
// records; the engine turns the record into a JobGraph (see job-graph-builder.ts).
import type { RestartStrategySettings } from '../common/checkpoint.js';
import { CheckpointConfig, checkMode, type CheckpointingMode } from './checkpoint-config.js';
import { DataStream } from './datastream.js';
import { checkMaxParallelism, checkPositiveInteger } from './function-utils.js';
import { FileSource } from './file-source.js';
import { KafkaSource } from './kafka-source.js';
import { DataGeneratorSource, ElementsSource, SequenceSource, type Source } from './sources.js';
import { addOperator, effectiveParallelism, planOf, registerPlan, type Plan } from './transformation.js';
import { WatermarkStrategy } from './watermark-strategy.js';

export const DEFAULT_MAX_PARALLELISM = 128;
export const DEFAULT_AUTO_WATERMARK_INTERVAL = 200;

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
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new RangeError(`autoWatermarkInterval must be a non-negative number of milliseconds, got ${String(ms)}`);
    this.plan.autoWatermarkInterval = ms;
    return this;
  }

  getAutoWatermarkInterval(): number {
    return this.plan.autoWatermarkInterval;
  }
}

export class StreamExecutionEnvironment {
  private readonly config: ExecutionConfig;
  private readonly checkpointConfig: CheckpointConfig;

  constructor(options: EnvironmentOptions = {}) {
    const plan: Plan = {
      transformations: [],
      defaultParallelism: options.defaultParallelism ?? 1,
      parallelism: undefined,
      maxParallelism: DEFAULT_MAX_PARALLELISM,
      bufferTimeout: undefined,
      autoWatermarkInterval: DEFAULT_AUTO_WATERMARK_INTERVAL,
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
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new RangeError(`bufferTimeout must be a non-negative number of milliseconds, got ${String(ms)}`);
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
      throw new TypeError('setRestartStrategy() needs a RestartStrategies.* configuration, e.g. RestartStrategies.fixedDelayRestart(3, 1000)');
    }
    this.plan.restartStrategy = { ...strategy };
    return this;
  }

  /** A non-parallel source of the given records, in order. */
  fromElements<T>(...items: T[]): DataStream<T> {
    const source = new ElementsSource<T>(items);
    return this.addSource(source, 'Collection Source', undefined);
  }

  /** The numbers from..to inclusive, split among the source's subtasks. */
  fromSequence(from: number, to: number): DataStream<number> {
    return this.addSource<number>(new SequenceSource(from, to), 'Sequence Source', undefined);
  }

  fromSource<T>(source: Source<T>, watermarkStrategy: WatermarkStrategy<T>, sourceName: string): DataStream<T> {
    if (!(source instanceof DataGeneratorSource || source instanceof SequenceSource || source instanceof ElementsSource || source instanceof FileSource || source instanceof KafkaSource)) {
      throw new TypeError('fromSource() supports DataGeneratorSource, SequenceSource, ElementsSource, FileSource and KafkaSource');
    }
    if (!(watermarkStrategy instanceof WatermarkStrategy)) throw new TypeError('fromSource() needs a WatermarkStrategy, e.g. WatermarkStrategy.noWatermarks()');
    if (typeof sourceName !== 'string' || sourceName.length === 0) throw new TypeError('fromSource() needs a source name');
    return this.addSource(source, sourceName, watermarkStrategy);
  }

  /** Records the job's name; the engine, not main, submits and runs the job. */
  async execute(jobName?: string): Promise<void> {
    if (jobName !== undefined) this.plan.jobName = String(jobName);
  }

  private addSource<T>(source: Source<T>, name: string, watermarkStrategy: WatermarkStrategy<T> | undefined): DataStream<T> {
    const config = sourceConfig(source);
    const extraUserCode = new Map<string, unknown>();
    if (watermarkStrategy) {
      config.watermark = watermarkStrategy.describe();
      extraUserCode.set('wm', watermarkStrategy);
    }
    const nonParallel = source instanceof ElementsSource;
    const t = addOperator(this.plan, [], {
      kind: 'source', name, config, userFunction: source, extraUserCode, nonParallel, parallelism: nonParallel ? 1 : undefined,
    });
    return new DataStream<T>(this, t);
  }
}

function sourceConfig<T>(source: Source<T>): Record<string, unknown> {
  if (source instanceof SequenceSource) return { sourceKind: 'sequence', bounded: true, from: source.from, to: source.to };
  if (source instanceof ElementsSource) return { sourceKind: 'elements', bounded: true, count: source.items.length };
  if (source instanceof FileSource) return { sourceKind: 'file', bounded: true, paths: [...source.paths], format: source.format.kind };
  if (source instanceof KafkaSource) {
    return { sourceKind: 'kafka', bounded: source.boundedness === 'BOUNDED', bootstrapServers: source.bootstrapServers.join(','), topics: source.topics ?? String(source.topicPattern ?? 'partitions') };
  }
  const config: Record<string, unknown> = {
    sourceKind: 'datagen',
    bounded: source.boundedness === 'BOUNDED',
    // Infinity is not JSON.
    count: Number.isFinite(source.count) ? source.count : null,
  };
  if (source.ratePerSecond !== undefined) config.ratePerSecond = source.ratePerSecond;
  return config;
}
