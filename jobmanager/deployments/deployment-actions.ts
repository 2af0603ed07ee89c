// The reconciler's actions on one deployment, each run under the deployment's name lock: create,
// update (settings only), savepoint (savepointNonce), suspend, and replace (upgrade, restart,
// resume) with rollback to the previous spec from the same savepoint when the new version cannot
// start. Every step that matters is written to the store before the next, so that a JobManager
// that stops half-way leaves a record saying where it stopped.
import { existsSync } from 'node:fs';
import { diffSpecs, isJobChange } from '../../common/deployment-diff.js';
import type { DeploymentSpec } from '../../common/deployment-spec.js';
import type { Logger } from '../../common/logging.js';
import type { AlertNotifier } from '../alerts.js';
import type { JobMaster } from '../job-master.js';
import {
  addVersion,
  DEPLOYMENT_RECORD_VERSION,
  type DeploymentAction,
  type DeploymentRecord,
  type VersionEntry,
} from './deployment-record.js';
import { fromWhere, pastTense, type ApplyResult } from './deployment-result.js';
import type { DeploymentStore } from './deployment-store.js';
import type { JobControl } from './job-control.js';
import type { Plan } from './reconcile-plan.js';

/** The version to run again if a new one fails, and the state both start from. */
export interface RollbackTarget {
  spec: DeploymentSpec;
  version: number;
  restore: string | undefined;
  /** The version's job had FINISHED before the upgrade: a rollback does not run it again. */
  finishedJobId?: string;
}

export interface ActionContext {
  store: DeploymentStore;
  control: JobControl;
  alerts: AlertNotifier;
  log: Logger;
  restUrl: () => string;
  savepointDir(name: string): string;
  /** Watches a new job for the rollback window; without a target a failure only marks the deployment FAILED. */
  watch(name: string, jobId: string, version: number, rollback: RollbackTarget | undefined): void;
}

interface TakenDown {
  restore: string | undefined;
  savepoint: string | undefined;
  notes: string[];
  /** The old job had FINISHED. */
  finished?: string;
}

/** First line only: a deployment's cause is read in tables; the job's exceptions keep the whole trace. */
const message = (e: unknown) => firstLine(e instanceof Error ? e.message : String(e));

export function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

/** The version whose job a new one replaces (within its rollback window, before it was STABLE) says so. */
function retire(record: DeploymentRecord, jobId: string): void {
  for (const v of record.history) if (v.jobId === jobId && v.outcome === 'DEPLOYED') v.outcome = 'REPLACED';
}

function result(
  record: DeploymentRecord,
  action: DeploymentAction,
  text: string,
  plan: Plan,
  extra: Partial<ApplyResult> = {},
): ApplyResult {
  return {
    name: record.name,
    action,
    dryRun: false,
    message: text,
    changes: plan.changes,
    status: record.status,
    version: record.specVersion,
    ...(record.jobId ? { jobId: record.jobId } : {}),
    ...(record.cause && (action === 'failed' || action === 'rolled-back') ? { cause: record.cause } : {}),
    ...extra,
  };
}

export class DeploymentActions {
  constructor(private readonly ctx: ActionContext) {}

  private save(record: DeploymentRecord): Promise<void> {
    return this.ctx.store.put(record);
  }

  async create(name: string, desired: DeploymentSpec, plan: Plan): Promise<ApplyResult> {
    const now = Date.now();
    const record: DeploymentRecord = {
      formatVersion: DEPLOYMENT_RECORD_VERSION,
      name,
      spec: desired,
      specVersion: 0,
      status: 'DEPLOYED',
      history: [],
      nextVersion: 1,
      createdAt: now,
      updatedAt: now,
    };
    if (desired.state === 'suspended') {
      record.status = 'SUSPENDED';
      record.specVersion = addVersion(record, {
        action: 'created',
        changes: [],
        spec: desired,
        outcome: 'SUSPENDED',
      }).version;
      await this.save(record);
      return result(record, 'created', 'created (suspended: no job runs until state: running)', plan);
    }
    let jobId: string;
    try {
      jobId = await this.ctx.control.run(desired, undefined);
    } catch (e) {
      record.status = 'FAILED';
      record.cause = `the job could not start: ${message(e)}`;
      record.specVersion = addVersion(record, {
        action: 'created',
        changes: [],
        spec: desired,
        outcome: 'FAILED',
        cause: record.cause,
      }).version;
      await this.save(record);
      this.alert(record, record.specVersion, null, null, null);
      return result(record, 'failed', `failed: ${record.cause}`, plan);
    }
    const entry = addVersion(record, { action: 'created', changes: [], spec: desired, jobId, outcome: 'DEPLOYED' });
    this.ctx.watch(name, jobId, entry.version, undefined);
    Object.assign(record, { jobId, specVersion: entry.version, running: { spec: desired, version: entry.version } });
    await this.save(record);
    return result(record, 'created', `created: job ${jobId} (version ${entry.version})`, plan);
  }

  /** Settings that need no new job (upgradeMode, allowNonRestoredState), a suspended deployment's spec, or back to the spec that runs. */
  async update(record: DeploymentRecord, desired: DeploymentSpec, plan: Plan, jobLive: boolean): Promise<ApplyResult> {
    const entry = addVersion(record, {
      action: 'updated',
      changes: plan.changes,
      spec: desired,
      ...(record.jobId ? { jobId: record.jobId } : {}),
      outcome: desired.state === 'suspended' ? 'SUSPENDED' : 'UPDATED',
    });
    record.spec = desired;
    record.specVersion = entry.version;
    const suspended = desired.state === 'suspended' || record.status === 'SUSPENDED';
    // A suspended deployment keeps the spec that ran last: resuming compares against it.
    if (!suspended) record.running = { spec: desired, version: entry.version };
    if (suspended) record.status = 'SUSPENDED';
    else if (jobLive && record.status !== 'DEPLOYED') record.status = 'STABLE';
    if (record.status !== 'FAILED' && record.status !== 'ROLLED_BACK') delete record.cause;
    await this.save(record);
    const note = plan.note ? ` (${plan.note})` : '';
    return result(
      record,
      'updated',
      `updated without a new job: ${plan.changes.map((c) => c.text).join(', ') || 'status cleared'}${note}`,
      plan,
    );
  }

  /** savepointNonce: a savepoint of the running job, which keeps running. */
  async savepoint(record: DeploymentRecord, desired: DeploymentSpec, plan: Plan): Promise<ApplyResult> {
    const jm = this.ctx.control.live(record.jobId);
    // The nonce is recorded only once the savepoint exists, so applying again tries again.
    if (!jm)
      return result(
        record,
        'failed',
        `failed: no savepoint taken: job ${record.jobId ?? '(none)'} is ${this.ctx.control.state(record.jobId) ?? 'gone'}`,
        plan,
      );
    let path: string;
    try {
      path = await this.ctx.control.savepoint(jm, this.ctx.savepointDir(record.name));
    } catch (e) {
      return result(record, 'failed', `failed: the savepoint of job ${jm.jobId} failed: ${message(e)}`, plan);
    }
    record.lastSavepoint = { path, time: Date.now(), jobId: jm.jobId, reason: 'savepointNonce' };
    const entry = addVersion(record, {
      action: 'savepoint',
      changes: plan.changes,
      spec: desired,
      jobId: jm.jobId,
      savepoint: path,
      outcome: 'COMPLETED',
    });
    record.spec = desired;
    record.specVersion = entry.version;
    record.running = { spec: desired, version: entry.version };
    await this.save(record);
    return result(record, 'savepoint', `savepoint ${path} (job ${jm.jobId} keeps running)`, plan, {
      savepointPath: path,
    });
  }

  /** state: suspended: stop with a savepoint (stateless: cancel), kept as the resume point. */
  async suspend(record: DeploymentRecord, desired: DeploymentSpec, plan: Plan): Promise<ApplyResult> {
    const jm = this.ctx.control.live(record.jobId);
    const before = record.status;
    record.status = 'UPGRADING';
    await this.save(record);
    let savepoint: string | undefined;
    try {
      if (jm && (desired.upgradeMode !== 'stateless' || plan.savepointRequested)) {
        savepoint =
          desired.upgradeMode === 'stateless'
            ? await this.ctx.control.savepoint(jm, this.ctx.savepointDir(record.name))
            : await this.ctx.control.stopWithSavepoint(jm, this.ctx.savepointDir(record.name));
      }
      if (jm && this.ctx.control.live(jm.jobId)) await this.ctx.control.cancel(jm);
    } catch (e) {
      const alive = this.ctx.control.live(jm?.jobId);
      record.status = alive ? before : 'FAILED';
      record.cause = `the suspend failed: ${message(e)}${alive ? `; job ${jm!.jobId} keeps running` : ''}`;
      if (!alive) record.spec = desired;
      await this.save(record);
      return result(record, 'failed', `failed: ${record.cause}`, plan);
    }
    if (jm) retire(record, jm.jobId);
    if (savepoint && jm)
      record.lastSavepoint = { path: savepoint, time: Date.now(), jobId: jm.jobId, reason: 'suspend' };
    const entry = addVersion(record, {
      action: 'suspended',
      changes: plan.changes,
      spec: desired,
      ...(jm ? { jobId: jm.jobId } : {}),
      ...(savepoint ? { savepoint } : {}),
      outcome: 'SUSPENDED',
    });
    Object.assign(record, { spec: desired, specVersion: entry.version, status: 'SUSPENDED' });
    delete record.cause;
    await this.save(record);
    const how = !jm
      ? `no job was running (job ${record.jobId ?? '(none)'} is ${this.ctx.control.state(record.jobId) ?? 'gone'})`
      : savepoint
        ? `job ${jm.jobId} stopped with savepoint ${savepoint}`
        : `job ${jm.jobId} canceled (stateless)`;
    return result(record, 'suspended', `suspended: ${how}`, plan, savepoint ? { savepointPath: savepoint } : {});
  }

  /**
   * Upgrade, restart and resume: the old job goes as the upgrade mode says, the new spec starts
   * from its state; a new spec that cannot start is replaced by the previous one from that state.
   */
  async replace(record: DeploymentRecord, desired: DeploymentSpec, plan: Plan): Promise<ApplyResult> {
    const action = pastTense(plan.action);
    const old = this.ctx.control.live(record.jobId);
    const previous = record.running ?? { spec: record.spec, version: record.specVersion };
    record.status = 'UPGRADING';
    await this.save(record);

    let down: TakenDown;
    try {
      down =
        plan.action === 'resume' ? this.resumePoint(record, desired) : await this.takeDown(record, old, desired, plan);
    } catch (e) {
      const alive = this.ctx.control.live(old?.jobId);
      const cause = `${plan.action} failed: ${message(e)}${alive ? `; job ${old!.jobId} keeps running version ${previous.version}` : ''}`;
      const entry = addVersion(record, {
        action,
        changes: plan.changes,
        spec: desired,
        ...(old ? { previousJobId: old.jobId } : {}),
        outcome: 'FAILED',
        cause,
      });
      // FAILED, so that applying the same spec again tries again; an old job still running keeps serving meanwhile.
      Object.assign(record, { status: 'FAILED', cause, spec: desired, specVersion: entry.version });
      await this.save(record);
      this.alert(record, entry.version, alive ? previous.version : null, null, alive ? old!.jobId : null);
      return result(record, 'failed', `failed: ${cause}`, plan);
    }
    if (record.jobId) retire(record, record.jobId);
    if (plan.note) down.notes.unshift(plan.note);
    if (down.savepoint && old)
      record.lastSavepoint = {
        path: down.savepoint,
        time: Date.now(),
        jobId: old.jobId,
        reason: plan.action === 'restart' ? 'restart' : 'upgrade',
      };

    const base = {
      action,
      changes: plan.changes,
      spec: desired,
      ...(record.jobId ? { previousJobId: record.jobId } : {}),
      ...(down.restore ? { restoredFrom: down.restore } : {}),
      ...(down.savepoint ? { savepoint: down.savepoint } : {}),
      ...(down.notes.length ? { note: down.notes.join('; ') } : {}),
    };
    // A changed job can be rolled back to the one that ran; a restart or resume of the same spec cannot.
    const target: RollbackTarget | undefined = diffSpecs(previous.spec, desired).some(isJobChange)
      ? { ...previous, restore: down.restore, ...(down.finished ? { finishedJobId: down.finished } : {}) }
      : undefined;
    let jobId: string;
    try {
      jobId = await this.ctx.control.run(desired, down.restore);
    } catch (e) {
      const cause = `version ${record.nextVersion} could not start: ${message(e)}`;
      const failed = addVersion(record, { ...base, outcome: target ? 'ROLLED_BACK' : 'FAILED', cause });
      Object.assign(record, { spec: desired, specVersion: failed.version });
      if (target) return this.rollBack(record, failed, target, cause, plan);
      Object.assign(record, { status: 'FAILED', cause });
      await this.save(record);
      this.alert(record, failed.version, null, null, null);
      return result(record, 'failed', `failed: ${cause}`, plan);
    }
    const entry = addVersion(record, { ...base, jobId, outcome: 'DEPLOYED' });
    // Watched from the start, so that no early failure is missed; the watch waits for this lock.
    this.ctx.watch(record.name, jobId, entry.version, target);
    const previousJobId = record.jobId;
    Object.assign(record, {
      jobId,
      spec: desired,
      specVersion: entry.version,
      running: { spec: desired, version: entry.version },
      status: 'DEPLOYED',
    });
    delete record.cause;
    await this.save(record);
    const from = plan.action === 'resume' ? '' : `job ${previousJobId ?? '(none)'} → `;
    const notes = down.notes.length ? ` (${down.notes.join('; ')})` : '';
    return result(
      record,
      action,
      `${action}: ${from}job ${jobId} ${fromWhere(down.restore)} (version ${entry.version})${notes}`,
      plan,
      {
        ...(previousJobId ? { previousJobId } : {}),
        ...(down.savepoint ? { savepointPath: down.savepoint } : {}),
        ...(down.restore ? { restoredFrom: down.restore } : {}),
      },
    );
  }

  /** A suspended deployment resumes from the savepoint its suspend took (stateless: from nothing). */
  private resumePoint(record: DeploymentRecord, desired: DeploymentSpec): TakenDown {
    const sp = record.lastSavepoint?.path;
    if (desired.upgradeMode === 'stateless' || !sp)
      return {
        restore: undefined,
        savepoint: undefined,
        notes: desired.upgradeMode === 'stateless' ? [] : ['no savepoint to resume from'],
      };
    if (!existsSync(sp)) throw new Error(`the savepoint to resume from, ${sp}, is gone`);
    return { restore: sp, savepoint: undefined, notes: [] };
  }

  /** Ends the old job as the upgrade mode says; returns what the new job starts from. */
  private async takeDown(
    record: DeploymentRecord,
    old: JobMaster | undefined,
    desired: DeploymentSpec,
    plan: Plan,
  ): Promise<TakenDown> {
    const c = this.ctx.control;
    const dir = this.ctx.savepointDir(record.name);
    const mode = desired.upgradeMode;
    const notes: string[] = [];
    if (!old) {
      const state = c.state(record.jobId);
      if (mode === 'stateless') return { restore: undefined, savepoint: undefined, notes };
      // A finished job's input is done: a new run starts over rather than from an older savepoint.
      if (state === 'FINISHED')
        return {
          restore: undefined,
          savepoint: undefined,
          notes: [`job ${record.jobId} had FINISHED`],
          finished: record.jobId,
        };
      const checkpoint = record.jobId ? await c.latestCheckpoint(record.jobId) : undefined;
      const sp =
        record.lastSavepoint?.path && existsSync(record.lastSavepoint.path) ? record.lastSavepoint.path : undefined;
      const restore = checkpoint ?? sp;
      notes.push(
        `job ${record.jobId ?? '(none)'} was ${state ?? 'gone'}${restore ? '' : ', no checkpoint or savepoint to start from'}`,
      );
      return { restore, savepoint: undefined, notes };
    }
    if (mode === 'stateless') {
      const savepoint = plan.savepointRequested ? await c.savepoint(old, dir) : undefined;
      await c.cancel(old);
      return { restore: undefined, savepoint, notes };
    }
    if (mode === 'last-state') {
      const retains = c.retainsOnCancel(old);
      if (retains && c.hasCompletedCheckpoint(old)) {
        const savepoint = plan.savepointRequested ? await c.savepoint(old, dir) : undefined;
        await c.cancel(old);
        const restore = await c.latestCheckpoint(old.jobId);
        if (!restore)
          throw new Error(`job ${old.jobId} was canceled but left no valid checkpoint in its checkpoint directory`);
        return { restore, savepoint, notes };
      }
      // Its checkpoints would go with the cancel (or there are none yet): a savepoint carries the state instead.
      notes.push(
        retains
          ? `job ${old.jobId} has completed no checkpoint yet: upgraded through a savepoint`
          : `job ${old.jobId} does not retain checkpoints on cancel (${old.checkpointing.coordinator.retentionPolicy}): upgraded through a savepoint`,
      );
    }
    const savepoint = await c.stopWithSavepoint(old, dir);
    return { restore: savepoint, savepoint, notes };
  }

  /**
   * The new version failed: the previous spec runs again from the same state; ROLLED_BACK, with an
   * alert. A previous version whose job had FINISHED is not run again (it would write its results a
   * second time): the deployment goes back to that finished job.
   */
  async rollBack(
    record: DeploymentRecord,
    failed: VersionEntry,
    target: RollbackTarget,
    cause: string,
    plan?: Plan,
  ): Promise<ApplyResult> {
    const p: Plan = plan ?? { action: 'upgrade', changes: [], jobChanges: [], savepointRequested: false };
    failed.outcome = 'ROLLED_BACK';
    failed.cause = cause;
    const finished = target.finishedJobId;
    let jobId: string;
    if (finished) jobId = finished;
    else {
      record.status = 'ROLLING_BACK';
      await this.save(record);
      try {
        jobId = await this.ctx.control.run(target.spec, target.restore);
      } catch (e) {
        Object.assign(record, {
          status: 'FAILED',
          cause: `${cause}; the rollback to version ${target.version} failed too: ${message(e)}`,
        });
        failed.outcome = 'FAILED';
        await this.save(record);
        this.alert(record, failed.version, null, failed.jobId ?? null, null);
        return result(record, 'failed', `failed: ${record.cause}`, p);
      }
    }
    const entry = addVersion(record, {
      action: 'rolled-back',
      changes: diffSpecs(failed.spec, target.spec),
      spec: target.spec,
      jobId,
      ...(failed.jobId ? { previousJobId: failed.jobId } : {}),
      ...(target.restore ? { restoredFrom: target.restore } : {}),
      outcome: finished ? 'FINISHED' : 'DEPLOYED',
      rollbackTo: target.version,
      note: `version ${failed.version} failed${finished ? `; version ${target.version} had FINISHED and is not run again` : ''}`,
    });
    Object.assign(record, {
      status: 'ROLLED_BACK',
      cause,
      jobId,
      running: { spec: target.spec, version: target.version },
    });
    await this.save(record);
    this.alert(record, failed.version, target.version, failed.jobId ?? null, finished ? null : jobId);
    this.ctx.log.warn(
      {
        deployment: record.name,
        failedVersion: failed.version,
        version: target.version,
        jobId,
        restore: target.restore,
        finished: Boolean(finished),
        cause,
      },
      'deployment rolled back',
    );
    const how = finished
      ? `had FINISHED as job ${jobId} and is not run again`
      : `runs again as job ${jobId} ${fromWhere(target.restore)}`;
    return result(
      record,
      'rolled-back',
      `rolled back: version ${failed.version} failed (${cause}); version ${target.version} ${how} (entry ${entry.version})`,
      p,
      {
        ...(target.restore ? { restoredFrom: target.restore } : {}),
        ...(failed.jobId ? { previousJobId: failed.jobId } : {}),
      },
    );
  }

  /** A new job without a rollback target failed within the window. */
  async markFailed(record: DeploymentRecord, entry: VersionEntry | undefined, cause: string): Promise<void> {
    Object.assign(record, { status: 'FAILED', cause });
    if (entry) Object.assign(entry, { outcome: 'FAILED', cause });
    await this.save(record);
    this.alert(record, entry?.version ?? record.specVersion, null, record.jobId ?? null, null);
  }

  alert(
    record: DeploymentRecord,
    fromVersion: number,
    toVersion: number | null,
    jobId: string | null,
    rollbackJobId: string | null,
  ): void {
    this.ctx.alerts.notify({
      type: 'deployment-alert',
      deployment: record.name,
      status: record.status === 'ROLLED_BACK' ? 'ROLLED_BACK' : 'FAILED',
      cause: record.cause ?? 'unknown',
      fromVersion,
      toVersion,
      jobId,
      rollbackJobId,
      timestamp: Date.now(),
      jobManager: this.ctx.restUrl(),
    });
  }
}
