// The processes of a JobManager high-availability benchmark, started one by one so that it can
// kill and start JobManagers at will: every process gets the same -D settings (HA type, storage
// and checkpoint directories in one temp directory); stop() (also on SIGINT / SIGTERM) ends all.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RestClient } from '../../cli/rest-client.js';
import { runJar, uploadBundle } from '../../cli/submit.js';
import { createBundle } from '../../common/bundle.js';
import { packageRoot } from '../../common/package-root.js';
import { stopOnExit } from './cleanup.js';
import { stopProcess } from './stop-process.js';
import { spawnWeir, type JobManagerProcess, type TaskManagerProcess, type WeirProcess } from './weir-process.js';

export class HaCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'weir-bench-ha-'));
  readonly config: Record<string, string>;
  private readonly processes: WeirProcess[] = [];
  private readonly unregister = stopOnExit(() => this.stop());
  private stopped = false;

  /** `config`: settings besides high-availability.type and the directories. */
  constructor(type: 'file' | 'etcd', config: Record<string, string> = {}) {
    this.config = {
      'high-availability.type': type,
      'high-availability.storageDir': join(this.dir, 'ha'),
      // Shared by every JobManager: a standby restores the checkpoints the leader completed.
      'state.checkpoints.dir': join(this.dir, 'checkpoints'),
      ...config,
    };
  }

  private defines(): string[] {
    return Object.entries(this.config).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  }

  /** A JobManager named `name` (its .out file and working directory), on the given ports (0: free ones). */
  async startJobManager(name: string, restPort = 0, rpcPort = 0): Promise<JobManagerProcess> {
    const args = [
      '--port',
      String(restPort),
      '--rpc-port',
      String(rpcPort),
      '--dir',
      join(this.dir, name),
      ...this.defines(),
    ];
    return this.track(await spawnWeir('jobmanager', { name, dir: this.dir, args }));
  }

  /** A TaskManager registered with `jobManager` (host:port, or etcd://... to follow the leader). */
  async startTaskManager(name: string, jobManager: string, slots: number): Promise<TaskManagerProcess> {
    const args = [
      '--jobmanager',
      jobManager,
      '--slots',
      String(slots),
      '--dir',
      join(this.dir, name),
      ...this.defines(),
    ];
    return this.track(await spawnWeir('taskmanager', { name, dir: this.dir, args }));
  }

  private track<P extends WeirProcess>(p: P): P {
    if (this.stopped) {
      p.proc.kill('SIGKILL');
      throw new Error('the benchmark cluster was stopped');
    }
    this.processes.push(p);
    return p;
  }

  /** SIGKILL, and wait until the process is gone. */
  kill(p: WeirProcess): Promise<void> {
    return stopProcess(p.proc, 'SIGKILL', 5_000);
  }

  /** Bundles the job (path relative to the package root), uploads it through `client` and runs it. */
  async submit(client: RestClient, entry: string, args: string[], parallelism: number): Promise<string> {
    const bundle = join(this.dir, 'job.weir');
    await createBundle(join(packageRoot(), entry), bundle);
    return runJar(client, await uploadBundle(client, bundle), { programArgs: args, parallelism });
  }

  /** TaskManagers first (they cancel their tasks), then the JobManagers; removes the directory. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unregister();
    const byRole = (role: string) => this.processes.filter((p) => p.ready.role === role);
    await Promise.all(byRole('taskmanager').map((p) => stopProcess(p.proc, 'SIGTERM', 10_000)));
    await Promise.all(byRole('jobmanager').map((p) => stopProcess(p.proc, 'SIGTERM', 10_000)));
    if (!process.env.WEIR_BENCH_KEEP_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}
