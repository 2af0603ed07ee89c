// The Dispatcher: accepts bundles, plans and starts jobs, and keeps every job (running or
// ended) for the REST API. Planning runs user code in a child process, never here.
import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { Configuration, type ConfigMap } from '../common/config.js';
import type { JobGraph } from '../common/jobgraph.js';
import type { Logger } from '../common/logging.js';
import { isGloballyTerminal } from '../common/states.js';
import { ALERT_STATES, type AlertNotifier } from './alerts.js';
import type { JarInfo, JarStore } from './jar-store.js';
import type { ArchivedJob, JobArchive } from './job-archive.js';
import { JobMaster, type JobMasterOptions, type JobRecovery } from './job-master.js';
import type { JobRecorder } from './ha/job-recorder.js';
import { AsyncOperations } from './rest/async-operations.js';
import { planJob, SparePlanner } from './planner.js';
import type { ResourceManager } from './resource-manager.js';
import { disposeSavepoint } from './checkpoint/savepoint-disposal.js';
import {
  checkStateMapping,
  readExternalRestore,
  verifyExternalRestore,
  SavepointRestoreError,
  type ExternalRestore,
} from './checkpoint/savepoint-restore.js';
import { configuredJobOptions, InvalidRestartStrategyError } from './configured-job-options.js';

export interface RunRequest {
  jarId: string;
  parallelism?: number;
  programArgs: string[];
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  /** A job id chosen by the caller (Flink's `jobId`, 32 hex characters); a new one otherwise. */
  jobId?: string;
  /** Settings of this job only, over the cluster's (Flink's `flinkConfiguration`): checkpointing, restarts, state. */
  config?: ConfigMap;
}

/** Keys a job may set for itself; the rest belong to the processes (ports, addresses, security). */
const JOB_CONFIG_PREFIXES = [
  'execution.',
  'restart-strategy.',
  'state.',
  'parallelism.default',
  'pipeline.',
  'web.exception-history-size',
  'web.checkpoints.history',
  'slot.request.timeout',
  'task.cancellation.timeout',
];

/** Whether a job may set `key` for itself (POST /jars/:jarid/run keeps only these of Flink's flinkConfiguration). */
export function isJobConfigKey(key: string): boolean {
  return JOB_CONFIG_PREFIXES.some((p) => key === p || (p.endsWith('.') && key.startsWith(p)));
}

/** The cluster's configuration with a job's own settings over it; refuses keys and values that cannot apply (deployments check their spec with it). */
export function jobConfiguration(conf: Configuration, overrides: ConfigMap | undefined): Configuration {
  if (!overrides || Object.keys(overrides).length === 0) return conf;
  const refused = Object.keys(overrides).filter((k) => !isJobConfigKey(k));
  if (refused.length)
    throw new RequestError(
      `these settings cannot be set per job (they belong to the cluster's processes): ${refused.join(', ')}`,
    );
  const merged = new Configuration({ ...conf.toMap(), ...overrides });
  const errors = merged.validate();
  if (errors.length) throw new RequestError(`invalid job configuration: ${errors.join('; ')}`);
  return merged;
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

const JOB_ID = /^[0-9a-f]{32}$/;

/** Bad savepoints and refused restores are the caller's to fix: a 400 with the message as it is. */
function asRequestError(e: unknown): never {
  if (e instanceof SavepointRestoreError) throw new RequestError(e.message);
  throw e;
}

export function newJobId(): string {
  return randomBytes(16).toString('hex');
}

export class Dispatcher {
  readonly jobs = new Map<string, JobMaster>();
  /** Savepoint, stop, manual checkpoint and disposal requests the REST API polls. */
  readonly operations = new AsyncOperations();
  /** Submissions being planned and started: the spare planner waits for them too. */
  private submissions = 0;
  private readonly planners = new SparePlanner(
    undefined,
    () => this.submissions === 0 && ![...this.jobs.values()].some((j) => !isGloballyTerminal(j.status)),
  );
  /** End-of-job work (checkpoint retention, archiving) that shutdown waits for. */
  private readonly endings = new Set<Promise<void>>();
  /** High availability: every job's record, so that a new JobManager takes the running ones over. */
  private recorder: JobRecorder | undefined;
  /** Shutting down with high availability: jobs are suspended for the next JobManager, not ended. */
  private suspending = false;

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
  ) {
    // Ended jobs the store let go of (jobstore.expiration-time / max-capacity) leave memory too.
    archive.onRemoved((jobIds) => this.forget(jobIds));
  }

  useJobRecorder(recorder: JobRecorder): void {
    this.recorder = recorder;
  }

  /**
   * Plans and starts a job. With `recovery` it is a job another JobManager ran (same id): it
   * restores its latest checkpoint and continues its history.
   */
  async runJar(req: RunRequest, recovery?: JobRecovery): Promise<string> {
    this.submissions++;
    try {
      return await this.submit(req, recovery);
    } finally {
      this.submissions--;
    }
  }

  private async submit(req: RunRequest, recovery?: JobRecovery): Promise<string> {
    const jar = this.checkRunRequest(req, recovery);
    const savepoint = await this.readInitialRestore(req, recovery);
    // main() plans the job while the savepoint's state files are hashed. A refused savepoint is the
    // answer even if planning failed too, so planning's failure is kept for later.
    const planning = this.planJobGraph(jar, req);
    planning.catch(() => undefined);
    const initialRestore = savepoint && (await this.verifyInitialRestore(savepoint, req, recovery));
    const { jobGraph, conf, defaultParallelism } = await planning;
    const jobId = req.jobId ?? newJobId();
    for (const w of jobGraph.warnings) this.log.warn({ jobId, jobName: jobGraph.name }, w);
    if (initialRestore && !recovery) this.checkRestoreMapping(jobId, initialRestore, jobGraph, req);
    const jm = new JobMaster(
      {
        ...this.jobMasterOptions(conf, jobId, jobGraph, jar, req, defaultParallelism),
        ...(initialRestore ? { initialRestore } : {}),
        ...(recovery ? { recovery } : {}),
      },
      this.rm,
      this.log.child({ jobId }),
    );
    // The job id is only returned once a new JobManager could take the job over.
    if (this.recorder) await this.recordSubmission(this.recorder, jm, jobId, jobGraph.name, jar, req);
    this.jobs.set(jobId, jm);
    this.watchJob(jm, jobId, jobGraph.name);
    this.logSubmitted(jobId, jobGraph, jar, defaultParallelism, initialRestore, recovery);
    jm.start();
    return jobId;
  }

  /** The jar to run; refuses a bad parallelism or job id before anything else happens. */
  private checkRunRequest(req: RunRequest, recovery: JobRecovery | undefined): JarInfo {
    const jar = this.jars.get(req.jarId);
    if (!jar) throw new RequestError(`jar '${req.jarId}' not found`, 404);
    if (req.parallelism !== undefined && (!Number.isInteger(req.parallelism) || req.parallelism < 1)) {
      throw new RequestError(`parallelism must be a positive integer, got ${req.parallelism}`);
    }
    if (req.jobId !== undefined) {
      if (!JOB_ID.test(req.jobId))
        throw new RequestError(`invalid jobId '${req.jobId}' (expected 32 lowercase hex characters)`);
      if (this.jobs.has(req.jobId) || (!recovery && this.archive.get(req.jobId)))
        throw new RequestError(`a job with id ${req.jobId} already exists`, 409);
    }
    return jar;
  }

  /**
   * The savepoint (or retained checkpoint) the job starts from, its `_metadata` read: a bad
   * savepoint path is refused before any user code runs. A recovered job needs it only if it never
   * completed a checkpoint, which its JobMaster finds out.
   */
  private async readInitialRestore(
    req: RunRequest,
    recovery: JobRecovery | undefined,
  ): Promise<ExternalRestore | undefined> {
    if (!req.savepointPath) return undefined;
    return readExternalRestore(req.savepointPath).catch((e: unknown) => this.unreadableRestore(e, req, recovery));
  }

  /** The savepoint once its state files are checked (undefined for a recovered job whose savepoint is damaged now). */
  private async verifyInitialRestore(
    restore: ExternalRestore,
    req: RunRequest,
    recovery: JobRecovery | undefined,
  ): Promise<ExternalRestore | undefined> {
    return verifyExternalRestore(restore, req.savepointPath!).then(
      () => restore,
      (e: unknown) => this.unreadableRestore(e, req, recovery),
    );
  }

  private unreadableRestore(e: unknown, req: RunRequest, recovery: JobRecovery | undefined): undefined {
    if (!recovery) return asRequestError(e);
    this.log.warn(
      { jobId: req.jobId, savepoint: req.savepointPath, err: (e as Error).message },
      'the savepoint the recovered job started from is not readable any more',
    );
    return undefined;
  }

  /** Runs the bundle's main() in a planner process, with the job's configuration over the cluster's. */
  private async planJobGraph(
    jar: JarInfo,
    req: RunRequest,
  ): Promise<{ jobGraph: JobGraph; conf: Configuration; defaultParallelism: number }> {
    const entryPath = await this.jars.entryPath(jar.bundleId).catch((e: Error) => {
      throw new RequestError(e.message);
    });
    const conf = jobConfiguration(this.conf, req.config);
    const defaultParallelism = req.parallelism ?? conf.getInt('parallelism.default');
    const jobGraph = await planJob(entryPath, {
      programArgs: req.programArgs,
      defaultParallelism,
      timeoutMs: conf.getDuration('dispatcher.planner.timeout'),
      fallbackName: jar.manifest.name,
      spare: this.planners,
    }).catch((e: Error) => {
      throw new RequestError(`Job planning failed: ${e.message}`);
    });
    return { jobGraph, conf, defaultParallelism };
  }

  /** Every operator with state in the savepoint must have a home in the job, unless its state may be dropped. */
  private checkRestoreMapping(jobId: string, restore: ExternalRestore, jobGraph: JobGraph, req: RunRequest): void {
    let dropped;
    try {
      dropped = checkStateMapping(restore, jobGraph, req.allowNonRestoredState === true);
    } catch (e) {
      throw asRequestError(e);
    }
    for (const op of dropped) {
      this.log.warn(
        { jobId, operatorId: op.operatorId, uid: op.uid, name: op.name, savepoint: restore.dir },
        'state of an operator that is not in the new job is skipped (allowNonRestoredState)',
      );
    }
  }

  /** How the job runs, restarts and checkpoints, from its configuration. */
  private jobMasterOptions(
    conf: Configuration,
    jobId: string,
    jobGraph: JobGraph,
    jar: JarInfo,
    req: RunRequest,
    defaultParallelism: number,
  ): JobMasterOptions {
    let configured;
    try {
      configured = configuredJobOptions(conf, jobGraph, resolve(this.checkpointsDir));
    } catch (e) {
      if (e instanceof InvalidRestartStrategyError) throw new RequestError(e.message);
      throw e;
    }
    return {
      jobId,
      jobGraph,
      bundleId: jar.bundleId,
      programArgs: req.programArgs,
      defaultParallelism,
      ...configured,
      jarId: jar.id,
      exceptionHistorySize: conf.getInt('web.exception-history-size'),
    };
  }

  /** High availability: the job's record, so that a new JobManager can take it over. */
  private async recordSubmission(
    recorder: JobRecorder,
    jm: JobMaster,
    jobId: string,
    jobName: string,
    jar: JarInfo,
    req: RunRequest,
  ): Promise<void> {
    const submission = {
      jobId,
      jobName,
      jarName: jar.name,
      bundleId: jar.bundleId,
      programArgs: req.programArgs,
      ...(req.parallelism !== undefined ? { parallelism: req.parallelism } : {}),
      ...(req.savepointPath ? { savepointPath: req.savepointPath } : {}),
      ...(req.allowNonRestoredState ? { allowNonRestoredState: true } : {}),
      ...(req.config && Object.keys(req.config).length ? { config: req.config } : {}),
    };
    await recorder.submit(jm, submission, this.jars.bundlePath(jar.bundleId)).catch((e: Error) => {
      jm.dispose();
      throw new RequestError(`cannot record the job in the high-availability storage: ${e.message}`, 500);
    });
  }

  /** Alerts on the job's failures and checkpoint storage problems; ends it when it reaches a terminal state. */
  private watchJob(jm: JobMaster, jobId: string, jobName: string): void {
    jm.on('statusChanged', (status, cause) => {
      if (ALERT_STATES.has(status)) {
        this.alerts.notify({
          type: 'job-alert',
          jobId,
          jobName,
          state: status,
          cause: cause ?? jm.rootCause(),
          timestamp: Date.now(),
          jobManager: this.restUrl(),
        });
      }
      if (status === 'FINISHED' || status === 'FAILED' || status === 'CANCELED') this.jobEnded(jm, status);
    });
    jm.on('checkpointStorageFailure', (f, checkpointId) => {
      this.alerts.notify({
        type: 'checkpoint-storage',
        jobId,
        jobName,
        directory: f.directory,
        error: f.code,
        cause: f.message,
        checkpointId,
        timestamp: Date.now(),
        jobManager: this.restUrl(),
      });
    });
  }

  private logSubmitted(
    jobId: string,
    jobGraph: JobGraph,
    jar: JarInfo,
    parallelism: number,
    initialRestore: ExternalRestore | undefined,
    recovery: JobRecovery | undefined,
  ): void {
    this.log.info(
      {
        jobId,
        jobName: jobGraph.name,
        jarId: jar.id,
        parallelism,
        vertices: jobGraph.vertices.length,
        ...(initialRestore
          ? { restoreFrom: initialRestore.dir, restoreCheckpointId: initialRestore.metadata.checkpointId }
          : {}),
      },
      recovery
        ? 'job recovered from the high-availability storage'
        : initialRestore
          ? `job submitted, restoring from ${initialRestore.metadata.savepoint ? 'savepoint' : 'checkpoint'} ${initialRestore.dir}`
          : 'job submitted',
    );
  }

  /**
   * A job reached a terminal state: its retained checkpoints go or stay as
   * execution.checkpointing.externalized-checkpoint-retention says (the statistics say so at once,
   * before the job is archived), then its views enter the job store.
   */
  private jobEnded(jm: JobMaster, status: 'FINISHED' | 'FAILED' | 'CANCELED'): void {
    // A job suspended for the next JobManager keeps its checkpoints and its record, and is not archived.
    if (this.suspending) return;
    const cleanup = jm.checkpointing?.coordinator.shutdown(status) ?? Promise.resolve();
    const archived = this.archive.put(this.archiveViews(jm));
    const recorder = this.recorder;
    const done = Promise.all([cleanup, archived.then(() => recorder?.ended(jm.jobId))]).then(
      () => undefined,
      (e: unknown) =>
        this.log.error({ err: e, jobId: jm.jobId }, 'cannot archive the ended job or clean up its checkpoints'),
    );
    this.endings.add(done);
    void done.finally(() => this.endings.delete(done));
  }

  /** Drops ended jobs the job store removed; a job still running is never dropped. */
  private forget(jobIds: string[]): void {
    for (const id of jobIds) {
      const jm = this.jobs.get(id);
      if (!jm || !isGloballyTerminal(jm.status)) continue;
      jm.dispose();
      jm.checkpointing?.coordinator.dispose();
      this.jobs.delete(id);
    }
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
    if (!(job instanceof JobMaster))
      throw new RequestError(
        `job ${jobId} has ended (${String(job.overview.state)}) before this JobManager started`,
        409,
      );
    return job;
  }

  /** A job that has not ended, for savepoints and stop (a 409 otherwise, as a conflict with its state). */
  liveJob(jobId: string, action: string): JobMaster {
    const job = this.job(jobId);
    if (isGloballyTerminal(job.status))
      throw new RequestError(`cannot ${action}: job ${jobId} is ${job.status}, not running`, 409);
    return job;
  }

  /** Overviews of every job: live ones and ended ones from earlier JobManager runs. */
  overviews(view: (jm: JobMaster) => Record<string, unknown>): Record<string, unknown>[] {
    const live = [...this.jobs.values()].map(view);
    const archived = this.archive
      .list()
      .filter((a) => !this.jobs.has(a.jid))
      .map((a) => a.overview);
    return [...live, ...archived].sort((a, b) => Number(b['start-time']) - Number(a['start-time']));
  }

  cancel(jobId: string): void {
    this.job(jobId).cancel();
  }

  /** Where a savepoint goes: the request's directory (absolute), else state.savepoints.dir. */
  savepointTarget(requested: string | undefined | null): string {
    if (requested !== undefined && requested !== null && requested !== '') {
      if (typeof requested !== 'string' || !isAbsolute(requested))
        throw new RequestError(
          `the savepoint target directory must be an absolute path, got ${JSON.stringify(requested)}`,
        );
      return requested;
    }
    const configured = this.conf.getOptionalString('state.savepoints.dir');
    if (!configured) {
      throw new RequestError(
        'No savepoint directory: the request names no target directory and state.savepoints.dir is not configured. Give one (weir savepoint <jobid> <dir>) or set state.savepoints.dir.',
      );
    }
    return resolve(configured);
  }

  /** Deletes a savepoint (Flink's savepoint disposal): only the files its `_metadata` lists. */
  disposeSavepoint(path: string): Promise<void> {
    return disposeSavepoint(path, this.log);
  }

  /**
   * Cancels every running job (JobManager shutdown). With high availability the jobs are suspended
   * instead: their tasks stop, but their records and checkpoints stay for the next JobManager.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.planners.close();
    if (this.recorder) {
      // The records as they are now (statistics included) are what the next JobManager continues from.
      await this.recorder.close();
      this.suspending = true;
    }
    const running = [...this.jobs.values()].filter((j) => !['FINISHED', 'FAILED', 'CANCELED'].includes(j.status));
    for (const j of running) j.cancel();
    const deadline = Date.now() + timeoutMs;
    while (running.some((j) => !['FINISHED', 'FAILED', 'CANCELED'].includes(j.status)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const j of this.jobs.values()) {
      j.dispose();
      j.checkpointing?.coordinator.dispose();
    }
    // Ended jobs' checkpoint cleanup and archiving finish before the store closes.
    await Promise.race([
      Promise.allSettled([...this.endings]),
      new Promise((r) => setTimeout(r, Math.max(1000, deadline - Date.now())).unref()),
    ]);
    await this.alerts.drain(3000);
  }
}
