// The deployment reconciler of the JobManager (behind PUT/GET/DELETE /deployments): checks a
// desired spec, plans the least action that reaches it, and carries it out under the deployment's
// name lock, so that two applies of one name never run two jobs. New jobs are watched for the
// rollback window (someone must be there to roll back, so the reconciler lives here, not in the CLI).
import { join, resolve } from 'node:path';
import type { Configuration } from '../../common/config.js';
import {
  checkDeploymentName,
  describeProblem,
  validateDeploymentSpec,
  type DeploymentSpec,
} from '../../common/deployment-spec.js';
import type { Logger } from '../../common/logging.js';
import type { AlertNotifier } from '../alerts.js';
import { jobConfiguration, RequestError, type Dispatcher } from '../dispatcher.js';
import { DeploymentActions, type RollbackTarget } from './deployment-actions.js';
import { findVersion, type DeploymentRecord } from './deployment-record.js';
import { dryRunMessage, pastTense, type ApplyResult } from './deployment-result.js';
import { DeploymentStore } from './deployment-store.js';
import {
  deploymentDetails,
  deploymentSummary,
  effectiveStatus,
  type DeploymentDetails,
  type DeploymentSummary,
} from './deployment-view.js';
import { JobControl } from './job-control.js';
import { planReconcile, type Observed } from './reconcile-plan.js';
import { NameLocks } from './name-lock.js';
import { watchNewJob } from './rollback-watch.js';

export interface DeploymentServiceOptions {
  conf: Configuration;
  dispatcher: Dispatcher;
  log: Logger;
  alerts: AlertNotifier;
  restUrl: () => string;
  /** Where records live: <HA storage>/deployments, else <working dir>/deployments. */
  dir: string;
  /** The Dispatcher's checkpoint directory (a directory every process reaches). */
  checkpointsDir: string;
}

/** A rollback waits for a running apply at most this long (an apply holds the lock for seconds). */
const ROLLBACK_LOCK_TIMEOUT_MS = 10 * 60_000;

export class DeploymentService {
  private readonly locks = new NameLocks();
  private readonly watches = new Map<string, () => void>();
  private readonly control: JobControl;
  private readonly actions: DeploymentActions;
  private readonly lockTimeoutMs: number;
  private readonly rollbackWindowMs: number;
  private closed = false;

  private constructor(
    private readonly opts: DeploymentServiceOptions,
    private readonly store: DeploymentStore,
  ) {
    this.control = new JobControl(opts.dispatcher, store, opts.checkpointsDir, opts.log);
    this.lockTimeoutMs = opts.conf.getDuration('deployment.apply.lock-timeout');
    this.rollbackWindowMs = opts.conf.getDuration('deployment.rollback.window');
    this.actions = new DeploymentActions({
      store,
      control: this.control,
      alerts: opts.alerts,
      log: opts.log,
      restUrl: opts.restUrl,
      savepointDir: (name) => this.savepointDir(name),
      watch: (name, jobId, version, target) => this.watch(name, jobId, version, target),
    });
  }

  static async open(opts: DeploymentServiceOptions): Promise<DeploymentService> {
    const store = new DeploymentStore(opts.dir, opts.log.child({ component: 'deployments' }));
    await store.open();
    return new DeploymentService(opts, store);
  }

  get dir(): string {
    return this.store.dir;
  }

  /**
   * Savepoints of a deployment: under state.savepoints.dir, else beside the checkpoints (a directory
   * every TaskManager reaches, which a restore needs, and which REST path checks allow).
   */
  savepointDir(name: string): string {
    const configured = this.opts.conf.getOptionalString('state.savepoints.dir');
    return configured
      ? join(resolve(configured), name)
      : join(resolve(this.opts.checkpointsDir), 'deployment-savepoints', name);
  }

  async list(): Promise<DeploymentSummary[]> {
    return (await this.store.list()).map((r) => deploymentSummary(r, this.control, this.locks.isHeld(r.name)));
  }

  async get(name: string): Promise<DeploymentDetails> {
    return deploymentDetails(await this.record(name), this.control, this.locks.isHeld(name));
  }

  private async record(name: string): Promise<DeploymentRecord> {
    const problem = checkDeploymentName(name);
    if (problem) throw new RequestError(problem);
    const record = await this.store.get(name);
    if (!record) throw new RequestError(`deployment ${name} not found`, 404);
    return record;
  }

  /** PUT /deployments/:name: reconcile to `body.spec` (with `dryRun`, only say what that would do). */
  async apply(name: string, body: unknown, dryRun: boolean): Promise<ApplyResult> {
    const nameProblem = checkDeploymentName(name);
    if (nameProblem) throw new RequestError(nameProblem);
    const { spec: desired, jarId } = this.parseBody(body);
    if (dryRun) {
      const record = await this.store.get(name);
      const observed = this.observe(record, false);
      const plan = planReconcile(observed, desired);
      const bundleKnown =
        this.store.hasBundle(desired.bundleHash) ||
        this.opts.dispatcher.jars.list().some((j) => j.bundleId === desired.bundleHash);
      return {
        name,
        action: pastTense(plan.action),
        dryRun: true,
        message: dryRunMessage(plan, desired.upgradeMode, record?.jobId, observed.jobLive),
        changes: plan.changes,
        ...(record
          ? { status: effectiveStatus(record, this.locks.isHeld(name)).status, version: record.specVersion }
          : {}),
        ...(record?.jobId ? { jobId: record.jobId } : {}),
        bundleKnown,
      };
    }
    if (this.closed) throw new RequestError('the JobManager is shutting down', 503);
    const release = await this.locks.acquire(name, 'an apply', this.lockTimeoutMs);
    try {
      await this.keepBundle(desired, jarId);
      const record = await this.store.get(name);
      const observed = this.observe(record, true);
      const plan = planReconcile(observed, desired);
      this.opts.log.info(
        { deployment: name, action: plan.action, changes: plan.changes.map((c) => c.text) },
        'deployment apply',
      );
      if (!record) return await this.actions.create(name, desired, plan);
      if (['upgrade', 'restart', 'suspend', 'resume'].includes(plan.action)) this.unwatch(name);
      switch (plan.action) {
        case 'unchanged': {
          const state = this.control.state(record.jobId);
          const job = record.jobId ? `job ${record.jobId} ${state ?? 'gone'}` : 'no job';
          return {
            name,
            action: 'unchanged',
            dryRun: false,
            message: `unchanged (${job})${plan.note ? `: ${plan.note}` : ''}`,
            changes: [],
            status: record.status,
            version: record.specVersion,
            ...(record.jobId ? { jobId: record.jobId } : {}),
          };
        }
        case 'update':
          return await this.actions.update(record, desired, plan, observed.jobLive);
        case 'savepoint':
          return await this.actions.savepoint(record, desired, plan);
        case 'suspend':
          return await this.actions.suspend(record, desired, plan);
        default:
          return await this.actions.replace(record, desired, plan);
      }
    } finally {
      release();
      void this.store
        .collectBundles()
        .catch((e: Error) => this.opts.log.warn({ err: e.message }, 'cannot remove unused deployment bundles'));
    }
  }

  /** DELETE /deployments/:name: the job stops (with a savepoint unless stateless) and the record goes. */
  async delete(name: string): Promise<ApplyResult> {
    await this.record(name);
    const release = await this.locks.acquire(name, 'a delete', this.lockTimeoutMs);
    try {
      const record = await this.record(name);
      this.unwatch(name);
      const jm = this.control.live(record.jobId);
      let savepointPath: string | undefined;
      if (jm && record.spec.upgradeMode !== 'stateless') {
        savepointPath = await this.control.stopWithSavepoint(jm, this.savepointDir(name)).catch((e: Error) => {
          throw new RequestError(
            `cannot stop job ${jm.jobId} with a savepoint: ${e.message}; the deployment is kept (cancel the job, then delete again)`,
            409,
          );
        });
      } else if (jm) await this.control.cancel(jm);
      await this.store.remove(name);
      this.opts.log.info({ deployment: name, jobId: record.jobId, savepointPath }, 'deployment deleted');
      const how = jm
        ? savepointPath
          ? `job ${jm.jobId} stopped with savepoint ${savepointPath}`
          : `job ${jm.jobId} canceled`
        : 'no job was running';
      return {
        name,
        action: 'deleted',
        dryRun: false,
        message: `deleted: ${how}`,
        changes: [],
        ...(record.jobId ? { jobId: record.jobId } : {}),
        ...(savepointPath ? { savepointPath } : {}),
      };
    } finally {
      release();
      void this.store.collectBundles().catch(() => undefined);
    }
  }

  /** Stops watching (JobManager shutdown); records stay as they are. */
  close(): void {
    this.closed = true;
    for (const stop of this.watches.values()) stop();
    this.watches.clear();
  }

  private parseBody(body: unknown): { spec: DeploymentSpec; jarId?: string } {
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new RequestError('the request body must be a JSON object: {"spec": {...}, "jarId": "..."}');
    const extra = Object.keys(body).filter((k) => k !== 'spec' && k !== 'jarId');
    if (extra.length)
      throw new RequestError(
        `unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k.slice(0, 60))).join(', ')} (expected spec and jarId)`,
      );
    const { spec: raw, jarId } = body as { spec?: unknown; jarId?: unknown };
    if (jarId !== undefined && (typeof jarId !== 'string' || !/^[A-Za-z0-9._-]{1,255}$/.test(jarId)))
      throw new RequestError('jarId must be the id of an uploaded jar (POST /jars/upload)');
    const { spec, problems } = validateDeploymentSpec(raw);
    if (!spec) throw new RequestError(problems.map(describeProblem).join('; '));
    try {
      jobConfiguration(this.opts.conf, spec.config);
    } catch (e) {
      throw new RequestError(`spec.config: ${(e as Error).message}`);
    }
    return { spec, ...(jarId !== undefined ? { jarId: jarId as string } : {}) };
  }

  /** The deployment keeps its own copy of the bundle it runs. */
  private async keepBundle(spec: DeploymentSpec, jarId: string | undefined): Promise<void> {
    if (this.store.hasBundle(spec.bundleHash)) return;
    const jars = this.opts.dispatcher.jars;
    const jar = jarId !== undefined ? jars.get(jarId) : jars.list().find((j) => j.bundleId === spec.bundleHash);
    if (jarId !== undefined && !jar)
      throw new RequestError(`jar '${jarId}' not found: upload the bundle first (POST /jars/upload)`, 404);
    if (!jar)
      throw new RequestError(
        `the JobManager does not have bundle ${spec.bundleHash}: upload it (POST /jars/upload) and send its jarId`,
      );
    if (jar.bundleId !== spec.bundleHash)
      throw new RequestError(`jar '${jar.id}' holds bundle ${jar.bundleId}, not spec.bundleHash ${spec.bundleHash}`);
    await this.store.putBundle(spec.bundleHash, jars.bundlePath(spec.bundleHash));
  }

  /** `holding`: this call holds the name lock, so an UPGRADING record is one a stopped JobManager left. */
  private observe(record: DeploymentRecord | undefined, holding: boolean): Observed {
    const jobLive = !!this.control.live(record?.jobId);
    const jobState = this.control.state(record?.jobId);
    const unfinished = record?.status === 'UPGRADING' || record?.status === 'ROLLING_BACK';
    return {
      record,
      jobLive,
      ...(jobState ? { jobState } : {}),
      interrupted: unfinished && (holding || !this.locks.isHeld(record!.name)),
    };
  }

  private unwatch(name: string): void {
    this.watches.get(name)?.();
    this.watches.delete(name);
  }

  /** Watches a deployment's new job; a failure within the window rolls back (or marks FAILED). */
  private watch(name: string, jobId: string, version: number, target: RollbackTarget | undefined): void {
    this.unwatch(name);
    const jm = this.opts.dispatcher.jobs.get(jobId);
    if (!jm || this.rollbackWindowMs <= 0 || this.closed) return;
    const stop = watchNewJob(jm, this.rollbackWindowMs, {
      failed: (cause) =>
        void this.afterWatch(name, jobId, version, (record) => this.onFailure(record, version, target, cause)),
      stable: () =>
        void this.afterWatch(name, jobId, version, async (record) => {
          const entry = findVersion(record, version);
          if (record.status === 'DEPLOYED') record.status = 'STABLE';
          if (entry?.outcome === 'DEPLOYED') entry.outcome = 'STABLE';
          await this.store.put(record);
        }),
    });
    this.watches.set(name, stop);
  }

  /** Runs `f` under the name lock if the deployment still runs the watched job. */
  private async afterWatch(
    name: string,
    jobId: string,
    version: number,
    f: (record: DeploymentRecord) => Promise<unknown>,
  ): Promise<void> {
    if (this.watches.has(name)) this.watches.delete(name);
    let release: (() => void) | undefined;
    try {
      release = await this.locks.acquire(name, 'a rollback', ROLLBACK_LOCK_TIMEOUT_MS);
      const record = await this.store.get(name);
      // Superseded: a later apply replaced the job meanwhile.
      if (!record || record.jobId !== jobId || this.closed) return;
      await f(record);
    } catch (e) {
      this.opts.log.error(
        { deployment: name, jobId, version, err: (e as Error).message },
        'deployment watch action failed',
      );
    } finally {
      release?.();
    }
  }

  private async onFailure(
    record: DeploymentRecord,
    version: number,
    target: RollbackTarget | undefined,
    cause: string,
  ): Promise<void> {
    const entry = findVersion(record, version);
    this.opts.log.warn(
      { deployment: record.name, jobId: record.jobId, version, cause, rollback: !!target },
      'a deployment job failed within the rollback window',
    );
    if (!target || !entry) return this.actions.markFailed(record, entry, cause);
    const jm = this.control.live(record.jobId);
    if (jm) await this.control.cancel(jm);
    await this.actions.rollBack(record, entry, target, cause);
  }
}
