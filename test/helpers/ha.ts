// A cluster whose JobManager can be killed and started again (high availability): fixed ports, so
// that TaskManagers find the new JobManager where the old one was, and one working directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAndWait, startProcess, type ProcessHandle } from './cluster.js';
import { freePort } from './ports.js';
import { restApi } from './rest-api.js';
import { removeAfterTest } from './test-dirs.js';

export interface HaCluster {
  dir: string;
  restUrl: string;
  jobManager: ProcessHandle;
  taskManagers: ProcessHandle[];
  api: ReturnType<typeof restApi>;
  /** Starts the JobManager again after a kill (same ports, same directories). */
  startJobManager(): Promise<ProcessHandle>;
  killJobManager(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

function defines(config: Record<string, string>): string[] {
  return Object.entries(config).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
}

export async function startHaCluster(
  opts: { taskManagers?: number; slots?: number; config?: Record<string, string> } = {},
): Promise<HaCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-ha-'));
  const removeDir = removeAfterTest(dir);
  const [restPort, rpcPort] = [await freePort(), await freePort()];
  const config = {
    'heartbeat.interval': '300 ms',
    'heartbeat.timeout': '2 s',
    'high-availability.type': 'file',
    'high-availability.storageDir': join(dir, 'ha'),
    'state.checkpoints.dir': join(dir, 'checkpoints'),
    ...(opts.config ?? {}),
  };
  const taskManagers: ProcessHandle[] = [];
  let jobManager: ProcessHandle | undefined;
  let starts = 0;
  const startJobManager = async () => {
    const { handle } = await startProcess(
      dir,
      `jobmanager-${starts++}`,
      [
        'jobmanager',
        '--port',
        String(restPort),
        '--rpc-port',
        String(rpcPort),
        '--dir',
        join(dir, 'jobmanager'),
        ...defines(config),
      ],
      60_000,
    );
    jobManager = handle;
    return handle;
  };
  const stop = async () => {
    await Promise.all(taskManagers.map((t) => killAndWait(t.proc, 'SIGTERM', 8000)));
    if (jobManager) await killAndWait(jobManager.proc, 'SIGTERM', 8000);
    removeDir();
  };
  try {
    await startJobManager();
    for (let i = 0; i < (opts.taskManagers ?? 2); i++) {
      const { handle } = await startProcess(dir, `taskmanager-${i}`, [
        'taskmanager',
        '--jobmanager',
        `127.0.0.1:${rpcPort}`,
        '--slots',
        String(opts.slots ?? 2),
        '--dir',
        join(dir, `taskmanager-${i}`),
        ...defines(config),
      ]);
      taskManagers.push(handle);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    dir,
    restUrl: `http://127.0.0.1:${restPort}`,
    get jobManager() {
      return jobManager!;
    },
    taskManagers,
    api: restApi(() => `http://127.0.0.1:${restPort}`, dir),
    startJobManager,
    killJobManager: (signal = 'SIGKILL') => killAndWait(jobManager!.proc, signal, 8000),
    stop,
  };
}
