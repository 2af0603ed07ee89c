// What the reconciler does to jobs, through the Dispatcher as the REST API would: start a spec
// (from a savepoint or a retained checkpoint), stop with a savepoint, take a savepoint, cancel,
// and find the newest checkpoint a canceled job retained.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RETENTION_KEY, type DeploymentSpec } from '../../common/deployment-spec.js';
import type { Logger } from '../../common/logging.js';
import { isGloballyTerminal, type JobStatus } from '../../common/states.js';
import { CheckpointStorage } from '../checkpoint/checkpoint-storage.js';
import type { Dispatcher } from '../dispatcher.js';
import type { JobMaster } from '../job-master.js';
import type { DeploymentStore } from './deployment-store.js';

/** A job that was only just started takes a moment to deploy its tasks before it can take a savepoint. */
const READY_TIMEOUT_MS = 60_000;

export class JobControl {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly store: DeploymentStore,
    /** The Dispatcher's checkpoint directory: <dir>/<jobId>/chk-<n>. */
    private readonly checkpointsDir: string,
    private readonly log: Logger,
  ) {}

  /** The job, when it has not ended. */
  live(jobId: string | undefined): JobMaster | undefined {
    const jm = jobId ? this.dispatcher.jobs.get(jobId) : undefined;
    return jm && !isGloballyTerminal(jm.status) ? jm : undefined;
  }

  /** The job's state, live or from the job store; undefined when the JobManager no longer knows it. */
  state(jobId: string | undefined): string | undefined {
    if (!jobId) return undefined;
    const jm = this.dispatcher.jobs.get(jobId);
    if (jm) return jm.status;
    const archived = this.dispatcher.archive.get(jobId);
    return archived ? String(archived.overview.state) : undefined;
  }

  /** Starts `spec` as a new job; throws the Dispatcher's error (planning, restore, configuration). */
  async run(spec: DeploymentSpec, restorePath: string | undefined): Promise<string> {
    const jarId = await this.jarFor(spec);
    const config = { ...spec.config };
    // last-state: a canceled job must keep its latest checkpoint, the next job starts from it.
    if (spec.upgradeMode === 'last-state' && config[RETENTION_KEY] === undefined)
      config[RETENTION_KEY] = 'RETAIN_ON_CANCELLATION';
    return this.dispatcher.runJar({
      jarId,
      programArgs: spec.args,
      ...(spec.parallelism !== undefined ? { parallelism: spec.parallelism } : {}),
      ...(restorePath ? { savepointPath: restorePath, allowNonRestoredState: spec.allowNonRestoredState } : {}),
      config,
    });
  }

  /** The jar of the bundle: an uploaded one, else registered again from the deployment store's copy. */
  private async jarFor(spec: DeploymentSpec): Promise<string> {
    const uploaded = this.dispatcher.jars.list().find((j) => j.bundleId === spec.bundleHash);
    if (uploaded) return uploaded.id;
    const data = await readFile(this.store.bundlePath(spec.bundleHash)).catch((e: Error) => {
      throw new Error(
        `bundle ${spec.bundleHash} is neither uploaded nor kept in ${this.store.bundlesDir}: ${e.message}`,
      );
    });
    return (await this.dispatcher.jars.add(spec.bundleName, data)).id;
  }

  /** Waits (bounded) until every task runs, as savepoints require. */
  async whenRunning(jm: JobMaster): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (isGloballyTerminal(jm.status)) throw new Error(`job ${jm.jobId} is ${jm.status}`);
      const execs = jm.graph.allExecutions();
      if (jm.status === 'RUNNING' && execs.every((e) => e.state === 'RUNNING' || e.state === 'FINISHED')) return;
      if (Date.now() > deadline)
        throw new Error(`job ${jm.jobId} is ${jm.status} with tasks not running after ${READY_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Flink's stop-with-savepoint (not drained): resolves with the savepoint once the job FINISHED. */
  async stopWithSavepoint(jm: JobMaster, dir: string): Promise<string> {
    await this.whenRunning(jm);
    return jm.stopWithSavepoint(dir, false);
  }

  async savepoint(jm: JobMaster, dir: string): Promise<string> {
    await this.whenRunning(jm);
    return jm.triggerSavepoint(dir, false);
  }

  async cancel(jm: JobMaster): Promise<JobStatus> {
    jm.cancel();
    return jm.whenTerminal();
  }

  /** Whether cancelling the job keeps its checkpoints (last-state upgrades need it). */
  retainsOnCancel(jm: JobMaster): boolean {
    return jm.checkpointing.coordinator.retentionPolicy === 'RETAIN_ON_CANCELLATION';
  }

  /** The newest valid checkpoint an ended job left in its checkpoint directory. */
  async latestCheckpoint(jobId: string): Promise<string | undefined> {
    const storage = new CheckpointStorage(join(this.checkpointsDir, jobId), 1, this.log);
    // A checkpoint subsumed while it is read looks damaged; the retention work of a job that just ended settles quickly.
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await storage.latestValid().catch(() => undefined);
      if (found) return found.dir;
      if ((await storage.listCompleted().catch(() => [])).length === 0) return undefined;
      await new Promise((r) => setTimeout(r, 200));
    }
    return undefined;
  }

  /** Has the running job completed a checkpoint (so that a last-state upgrade has something to start from)? */
  hasCompletedCheckpoint(jm: JobMaster): boolean {
    return jm.checkpointing.coordinator.stats().latest.completed !== null;
  }
}
