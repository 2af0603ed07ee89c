// The Dispatcher: accepts bundles, plans and starts jobs, and keeps every job (running or
// ended) for the REST API. Planning runs user code in a child process, never here.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { CheckpointingSettings } from '../common/checkpoint.js';
import { stateBackendType, type Configuration } from '../common/config.js';
import type { Logger } from '../common/logging.js';
import { ALERT_STATES, type AlertNotifier } from './alerts.js';
import type { JarStore } from './jar-store.js';
import type { ArchivedJob, JobArchive } from './job-archive.js';
import { JobMaster } from './job-master.js';
import { planJob } from './planner.js';
import type { ResourceManager } from './resource-manager.js';
import { resolveCheckpointingSettings } from './checkpoint/checkpointing-settings.js';
import { createRestartStrategy } from './restart/restart-strategy.js';

export interface RunRequest {
  jarId: string;
  parallelism?: number;
  programArgs: string[];
  savepointPath?: string;
  allowNonRestoredState?: boolean;
}

/** An error the REST layer reports with a 4xx status (bad input rather than a server fault). */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export function newJobId(): string {
  return randomBytes(16).toString('hex');
}

export class Dispatcher {
  readonly jobs = new Map<string, JobMaster>();

  constructor(
    private readonly conf: Configuration,
    readonly jars: JarStore,
    private readonly rm: ResourceManager,
    private readonly log: Logger,
    readonly archive: JobArchive,
    private readonly archiveViews: (jm: JobMaster) => ArchivedJob,
    readonly alerts: AlertNotifier,
    private readonly restUrl: () => string,
    /** state.checkpoints.dir, or the JobManager's default under its working directory. */
    private readonly checkpointsDir: string,
  ) {}

  async runJar(req: RunRequest): Promise<string> {
    const jar = this.jars.get(req.jarId);
    if (!jar) throw new RequestError(`jar '${req.jarId}' not found`, 404);
    if (req.parallelism !== undefined && (!Number.isInteger(req.parallelism) || req.parallelism < 1)) {
      throw new RequestError(`parallelism must be a positive integer, got ${req.parallelism}`);
    }
    if (req.savepointPath) throw new RequestError('restoring from a savepoint is not supported yet');
    const entryPath = await this.jars.entryPath(jar.bundleId).catch((e: Error) => {
      throw new RequestError(e.message);
    });
    const defaultParallelism = req.parallelism ?? this.conf.getInt('parallelism.default');
    const jobGraph = await planJob(entryPath, {
      programArgs: req.programArgs,
      defaultParallelism,
      timeoutMs: this.conf.getDuration('dispatcher.planner.timeout'),
      fallbackName: jar.manifest.name,
    }).catch((e: Error) => {
      throw new RequestError(`Job planning failed: ${e.message}`);
    });
    const jobId = newJobId();
    for (const w of jobGraph.warnings) this.log.warn({ jobId, jobName: jobGraph.name }, w);
    const checkpointing = resolveCheckpointingSettings(jobGraph.config.checkpointing as Partial<CheckpointingSettings> | undefined, this.conf);
    let restartStrategy;
    try {
      restartStrategy = createRestartStrategy(jobGraph.config.restartStrategy as never, this.conf, checkpointing !== undefined);
    } catch (e) {
      throw new RequestError(`invalid restart strategy: ${(e as Error).message}`);
    }
    const jm = new JobMaster(
      {
        jobId,
        jobGraph,
        bundleId: jar.bundleId,
        programArgs: req.programArgs,
        defaultParallelism,
        slotRequestTimeoutMs: this.conf.getDuration('slot.request.timeout'),
        cancellationTimeoutMs: this.conf.getDuration('task.cancellation.timeout'),
        spreadOutSlots: this.conf.getBoolean('cluster.evenly-spread-out-slots'),
        rpcTimeoutMs: Math.max(5000, this.conf.getDuration('heartbeat.timeout')),
        restartStrategy,
        ...(checkpointing
          ? {
              checkpointing: {
                settings: checkpointing,
                checkpointsDir: resolve(this.checkpointsDir),
                numRetained: this.conf.getInt('state.checkpoints.num-retained'),
                stateBackend: stateBackendType(this.conf),
                historySize: this.conf.getInt('web.checkpoints.history'),
              },
            }
          : {}),
      },
      this.rm,
      this.log.child({ jobId }),
    );
    this.jobs.set(jobId, jm);
    jm.on('statusChanged', (status, cause) => {
      if (ALERT_STATES.has(status)) {
        this.alerts.notify({ type: 'job-alert', jobId, jobName: jobGraph.name, state: status, cause: cause ?? jm.rootCause(), timestamp: Date.now(), jobManager: this.restUrl() });
      }
      if (status === 'FINISHED' || status === 'FAILED' || status === 'CANCELED') void this.archive.put(this.archiveViews(jm));
    });
    this.log.info({ jobId, jobName: jobGraph.name, jarId: jar.id, parallelism: defaultParallelism, vertices: jobGraph.vertices.length }, 'job submitted');
    jm.start();
    return jobId;
  }

  /** A job of this JobManager's lifetime, or an ended one from the store. */
  lookup(jobId: string): JobMaster | ArchivedJob {
    if (!/^[0-9a-f]{32}$/.test(jobId)) throw new RequestError(`invalid job id '${jobId}' (expected 32 hex characters)`);
    const job = this.jobs.get(jobId) ?? this.archive.get(jobId);
    if (!job) throw new RequestError(`job ${jobId} not found`, 404);
    return job;
  }

  /** A job of this JobManager's lifetime (one that can still be acted on). */
  job(jobId: string): JobMaster {
    const job = this.lookup(jobId);
    if (!(job instanceof JobMaster)) throw new RequestError(`job ${jobId} has ended (${String(job.overview.state)}) before this JobManager started`, 409);
    return job;
  }

  /** Overviews of every job: live ones and ended ones from earlier JobManager runs. */
  overviews(view: (jm: JobMaster) => Record<string, unknown>): Record<string, unknown>[] {
    const live = [...this.jobs.values()].map(view);
    const archived = this.archive.list().filter((a) => !this.jobs.has(a.jid)).map((a) => a.overview);
    return [...live, ...archived].sort((a, b) => Number(b['start-time']) - Number(a['start-time']));
  }

  cancel(jobId: string): void {
    this.job(jobId).cancel();
  }

  /** Cancels every running job (JobManager shutdown). */
  async shutdown(timeoutMs: number): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => !['FINISHED', 'FAILED', 'CANCELED'].includes(j.status));
    for (const j of running) j.cancel();
    const deadline = Date.now() + timeoutMs;
    while (running.some((j) => !['FINISHED', 'FAILED', 'CANCELED'].includes(j.status)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const j of this.jobs.values()) j.dispose();
    await this.alerts.drain(3000);
  }
}
