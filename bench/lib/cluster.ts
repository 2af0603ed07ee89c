// A real cluster for a benchmark: one JobManager and N TaskManagers as child processes (the
// compiled `weir` CLI, through LocalCluster) on free ports in a fresh temp directory. stop() is
// registered for SIGINT / SIGTERM, so nothing outlives the benchmark.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../../cli/local-cluster.js';
import { RestClient } from '../../cli/rest-client.js';
import { runJar, uploadBundle } from '../../cli/submit.js';
import { createBundle } from '../../common/bundle.js';
import { packageRoot } from '../../common/package-root.js';
import { stopOnExit } from './cleanup.js';
import { freePorts } from './ports.js';
import type { CheckpointingStatistics, JobDetails } from './rest-types.js';
import { isRunning, stopProcess } from './stop-process.js';
import { spawnWeir, type TaskManagerProcess } from './weir-process.js';

const TERMINAL = new Set(['FINISHED', 'FAILED', 'CANCELED']);

export interface BenchClusterOptions {
  taskManagers: number;
  slots: number;
  /** Configuration keys passed to every process as -D key=value. */
  config?: Record<string, string>;
}

export class BenchCluster {
  readonly client: RestClient;
  /** TaskManagers started by hand, e.g. under `node --cpu-prof`, or to be killed by a benchmark. */
  private readonly extra: TaskManagerProcess[] = [];
  private readonly bundles = new Map<string, Promise<string>>();
  private unexpectedExit: string | undefined;
  private unregister: () => void = () => {};
  private stopped = false;

  private constructor(
    readonly dir: string,
    private readonly local: LocalCluster,
    private readonly opts: BenchClusterOptions,
  ) {
    this.client = new RestClient(local.restUrl);
  }

  static async start(opts: BenchClusterOptions): Promise<BenchCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'weir-bench-'));
    const [restPort, rpcPort] = await freePorts(2);
    let self: BenchCluster | undefined;
    const local = new LocalCluster({
      dir,
      taskManagers: opts.taskManagers,
      slots: opts.slots,
      restPort: restPort!,
      rpcPort: rpcPort!,
      // Savepoints go under the cluster's directory, which the REST API must then allow.
      define: Object.entries({ 'state.savepoints.dir': join(dir, 'savepoints'), ...opts.config }).map(
        ([k, v]) => `${k}=${v}`,
      ),
      onUnexpectedExit: (name, how, outFile) => {
        if (self) self.unexpectedExit = `${name} exited unexpectedly (${how}); see ${outFile}`;
      },
    });
    const stopEarly = async () => {
      await local.stop(5_000);
      rmSync(dir, { recursive: true, force: true });
    };
    const unregisterEarly = stopOnExit(stopEarly);
    try {
      await local.start();
    } catch (e) {
      await stopEarly();
      throw e;
    } finally {
      unregisterEarly();
    }
    self = new BenchCluster(dir, local, opts);
    self.unregister = stopOnExit(() => self!.stop());
    return self;
  }

  get restUrl(): string {
    return this.local.restUrl;
  }

  /**
   * Starts one more TaskManager as `node <nodeArgs> bin/weir.js taskmanager ...` (for profiling,
   * or to kill later) and waits until the JobManager lists it; returns its id.
   */
  async addTaskManager(nodeArgs: string[], slots = this.opts.slots): Promise<string> {
    const name = `taskmanager-extra-${this.extra.length + 1}`;
    const args = ['--jobmanager', this.local.rpcAddress, '--slots', String(slots), '--dir', join(this.dir, name)];
    for (const [k, v] of Object.entries(this.opts.config ?? {})) args.push('-D', `${k}=${v}`);
    const tm = await spawnWeir('taskmanager', { name, dir: this.dir, args, nodeArgs });
    this.extra.push(tm);
    const id = tm.ready.id;
    // By id, not by count: a TaskManager lost meanwhile would leave the count unchanged.
    await this.poll(
      `${name} to register`,
      async () =>
        (await this.client.get<{ taskmanagers: { id: string }[] }>('/taskmanagers')).taskmanagers.some(
          (t) => t.id === id,
        ),
      30_000,
      50,
    );
    return id;
  }

  /** SIGKILLs a TaskManager started by addTaskManager() and waits until the process is gone. */
  async killTaskManager(id: string): Promise<void> {
    const tm = this.extra.find((t) => t.ready.id === id);
    if (!tm) throw new Error(`no TaskManager ${id} was started by addTaskManager()`);
    await stopProcess(tm.proc, 'SIGKILL', 5_000);
  }

  /** Ids of the TaskManagers started by addTaskManager() that still run. */
  liveTaskManagers(): string[] {
    return this.extra.filter((t) => isRunning(t.proc)).map((t) => t.ready.id);
  }

  /** Bundles a job source (path relative to the package root) once per cluster. */
  bundle(entry: string): Promise<string> {
    let p = this.bundles.get(entry);
    if (!p) {
      const out = join(this.dir, 'bundles', entry.replace(/[^A-Za-z0-9]/g, '_') + '.weir');
      p = createBundle(join(packageRoot(), entry), out).then(() => out);
      this.bundles.set(entry, p);
    }
    return p;
  }

  async upload(bundlePath: string): Promise<string> {
    return uploadBundle(this.client, bundlePath);
  }

  /** Submits a job once every slot that ran tasks has its spare thread loaded. */
  async run(jarId: string, args: string[], parallelism: number): Promise<string> {
    await this.awaitSpareThreads();
    return runJar(this.client, jarId, { programArgs: args, parallelism });
  }

  /**
   * A slot that ran tasks loads a spare thread (about a third of a second of a core) once it has been
   * empty for a second, or once its tasks have run for 5 s. A measured job waits for those loads, so
   * that they land between jobs, not inside one, as they would between a real cluster's rare deployments.
   */
  async awaitSpareThreads(): Promise<void> {
    await this.poll('the TaskManagers to load their spare slot threads', () => this.sparesLoaded(), 30_000, 50);
  }

  private async sparesLoaded(): Promise<boolean> {
    const missing = await Promise.all(
      (await this.taskManagers()).map(async ({ metricsAddress }) => {
        const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
        return Number(/^weir_taskmanager_slots_without_spare_thread\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
      }),
    );
    return missing.every((n) => n === 0);
  }

  /** Process ids of the TaskManagers registered now, as their heartbeats report them. */
  async taskManagerPids(): Promise<number[]> {
    return (await this.taskManagers()).map((t) => t.pid);
  }

  private async taskManagers(): Promise<{ pid: number; metricsAddress: string }[]> {
    return (await this.client.get<{ taskmanagers: { pid: number; metricsAddress: string }[] }>('/taskmanagers'))
      .taskmanagers;
  }

  job(jobId: string): Promise<JobDetails> {
    return this.client.get<JobDetails>(`/jobs/${jobId}`);
  }

  checkpoints(jobId: string): Promise<CheckpointingStatistics> {
    return this.client.get<CheckpointingStatistics>(`/jobs/${jobId}/checkpoints`);
  }

  /**
   * Waits until the job ends; throws with the root exception unless it FINISHED. The polls back off
   * from 100 ms to a second: at ten a second, they cost the JobManager and this process about 5 % of
   * a core, taken from TaskManagers that use both cores. Rates come from the JobManager's subtask
   * timestamps, so a later poll does not change them.
   */
  async waitForFinished(jobId: string, timeoutMs = 300_000): Promise<JobDetails> {
    let nextMs = 100;
    const job = await this.poll(
      `job ${jobId} to end`,
      async () => {
        const j = await this.job(jobId);
        return TERMINAL.has(j.state) ? j : undefined;
      },
      timeoutMs,
      () => {
        const ms = nextMs;
        nextMs = Math.min(1000, nextMs * 1.5);
        return ms;
      },
    );
    if (job.state !== 'FINISHED') {
      const ex = await this.client
        .get<{ 'root-exception'?: string }>(`/jobs/${jobId}/exceptions`)
        .catch(() => ({}) as { 'root-exception'?: string });
      throw new Error(`job ${jobId} ended ${job.state}: ${ex['root-exception'] ?? 'no exception recorded'}`);
    }
    return job;
  }

  /** Cancels a running job and waits until it is CANCELED. */
  async cancel(jobId: string): Promise<void> {
    await this.client.patch(`/jobs/${jobId}?mode=cancel`);
    await this.poll(
      `job ${jobId} to be canceled`,
      async () => TERMINAL.has((await this.job(jobId)).state),
      60_000,
      100,
    );
  }

  async poll<T>(
    what: string,
    fn: () => Promise<T | undefined | false>,
    timeoutMs: number,
    /** ms between polls, or a function giving each wait in turn */
    interval: number | (() => number) = 200,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.unexpectedExit) throw new Error(this.unexpectedExit);
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await new Promise((r) => setTimeout(r, typeof interval === 'number' ? interval : interval()));
    }
  }

  /** Stops every process (hand-started TaskManagers first) and removes the directory. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unregister();
    await Promise.all(this.extra.map((t) => stopProcess(t.proc, 'SIGTERM', 15_000)));
    await this.local.stop(10_000);
    if (!process.env.WEIR_BENCH_KEEP_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}
