// Flink's MiniCluster, for one job: the real JobMaster (scheduling, failover and restart
// strategies, the CheckpointCoordinator) and one in-process TaskManager with as many slots as the
// job needs, all on this thread. Checkpoints and on-disk state go to a temporary directory that is
// removed when the job ends. No ports, no processes, no bundle: the tasks get the job's functions
// directly (copied per subtask).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm as removeDir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { Configuration } from '../../common/config.js';
import { bufferDebloatConfigOf } from '../../taskmanager/runtime/buffer-debloater.js';
import { requiredSlots, validateJobGraph, type JobGraph } from '../../common/jobgraph.js';
import { silentLogger, type Logger } from '../../common/logging.js';
import { isGloballyTerminal } from '../../common/states.js';
import { configuredJobOptions } from '../../jobmanager/configured-job-options.js';
import { JobMaster } from '../../jobmanager/job-master.js';
import { ResourceManager, type TaskManagerInfo } from '../../jobmanager/resource-manager.js';
import { UserCodeError } from '../../taskmanager/operators/operator.js';
import type { JobClient } from './job-client.js';
import { JobExecutionException, JobExecutionResult } from './job-execution-result.js';
import { LocalTaskExecutor } from './local-task-executor.js';

export interface MiniClusterJob {
  jobGraph: JobGraph;
  userCode: ReadonlyMap<string, unknown>;
  /** Configuration keys, as a cluster's config file has them. */
  configuration: Readonly<Record<string, string>>;
  log?: Logger;
}

/** The error the user's function threw, unwrapped from the runtime's tag. */
function userErrorOf(cause: unknown): unknown {
  return cause instanceof UserCodeError ? cause.cause : cause;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** Starts the job; the returned client resolves its result once the job and its tasks have ended. */
export async function startMiniClusterJob(job: MiniClusterJob): Promise<JobClient> {
  const { jobGraph } = job;
  const conf = checkedConfiguration(job);
  const log = job.log ?? silentLogger();
  const jobId = randomBytes(16).toString('hex');
  const workDir = await mkdtemp(join(tmpdir(), `weir-minicluster-${jobId.slice(0, 8)}-`));
  const checkpointsDir = resolve(conf.getOptionalString('state.checkpoints.dir') ?? join(workDir, 'checkpoints'));

  const slots = requiredSlots(jobGraph);
  const taskManagerId = `minicluster-${jobId.slice(0, 8)}`;
  const executor = new LocalTaskExecutor({
    taskManagerId,
    slots,
    segmentSize: conf.getMemorySize('taskmanager.memory.segment-size'),
    buffersPerChannel: conf.getInt('taskmanager.network.memory.buffers-per-channel'),
    bufferTimeoutMs: conf.getDuration('execution.buffer-timeout'),
    bufferDebloat: bufferDebloatConfigOf(conf),
    stateDir: join(workDir, 'state'),
    userCode: job.userCode,
    log,
  });
  const rm = localResourceManager(conf, log, executor, { id: taskManagerId, slots, workDir });
  let jm: JobMaster;
  try {
    jm = createJobMaster(conf, jobId, jobGraph, checkpointsDir, rm, log);
  } catch (e) {
    await removeDir(workDir, { recursive: true, force: true });
    throw e;
  }
  executor.attach(jm);
  const started = Date.now();
  jm.start();

  const result = jobResult(jm, jobGraph, executor, rm, workDir, started);
  // A caller that never asks for the result must not see an unhandled rejection.
  result.catch(() => undefined);

  return {
    getJobID: () => jobId,
    getJobStatus: () => Promise.resolve(jm.status),
    async cancel() {
      if (!isGloballyTerminal(jm.status)) jm.cancel();
      await result.catch(() => undefined);
    },
    getJobExecutionResult: () => result,
  };
}

/** The job's configuration; refuses an invalid job graph or configuration before anything starts. */
function checkedConfiguration(job: MiniClusterJob): Configuration {
  const graphErrors = validateJobGraph(job.jobGraph);
  if (graphErrors.length) throw new Error(`invalid job graph: ${graphErrors.join('; ')}`);
  const conf = new Configuration({ ...job.configuration });
  const confErrors = conf.validate();
  if (confErrors.length) throw new Error(`invalid configuration: ${confErrors.join('; ')}`);
  return conf;
}

/** A ResourceManager that knows one TaskManager: the in-process `executor`, with every slot the job needs. */
function localResourceManager(
  conf: Configuration,
  log: Logger,
  executor: LocalTaskExecutor,
  taskManager: { id: string; slots: number; workDir: string },
): ResourceManager {
  const { id, slots, workDir } = taskManager;
  // Not started: its heartbeats would only ask this thread whether it is alive.
  const rm = new ResourceManager(
    randomBytes(16).toString('hex'),
    conf.getDuration('heartbeat.interval'),
    conf.getDuration('heartbeat.timeout'),
    log,
  );
  const now = Date.now();
  const tm: TaskManagerInfo = {
    id,
    rpcAddress: 'in-process',
    slotDataAddresses: new Array<string>(slots).fill('in-process'),
    hostname: hostname(),
    pid: process.pid,
    workingDir: workDir,
    metricsAddress: '',
    slots,
    allocations: new Array<string | null>(slots).fill(null),
    registeredAt: now,
    lastHeartbeat: now,
    failedRequests: 0,
    rssBytes: 0,
    heapUsedBytes: 0,
    client: executor.gateway() as unknown as grpc.Client,
  };
  rm.taskManagers.set(tm.id, tm);
  return rm;
}

/** The real JobMaster, with the job's restart strategy and checkpointing. */
function createJobMaster(
  conf: Configuration,
  jobId: string,
  jobGraph: JobGraph,
  checkpointsDir: string,
  rm: ResourceManager,
  log: Logger,
): JobMaster {
  return new JobMaster(
    {
      jobId,
      jobGraph,
      bundleId: '0'.repeat(64),
      programArgs: [],
      defaultParallelism: 1,
      ...configuredJobOptions(conf, jobGraph, checkpointsDir),
    },
    rm,
    log.child({ jobId }),
  );
}

/**
 * Once the job and its tasks have ended, releases everything the job used and settles as Flink's
 * JobClient does: its result, or a JobExecutionException with the user's error as its cause.
 */
async function jobResult(
  jm: JobMaster,
  jobGraph: JobGraph,
  executor: LocalTaskExecutor,
  rm: ResourceManager,
  workDir: string,
  started: number,
): Promise<JobExecutionResult> {
  const jobId = jm.jobId;
  const status = await jm.whenTerminal();
  const netRuntime = Date.now() - started;
  try {
    await executor.close();
    await jm.checkpointing.coordinator.shutdown(status as 'FINISHED' | 'FAILED' | 'CANCELED');
  } finally {
    jm.dispose();
    jm.checkpointing.coordinator.dispose();
    rm.stop();
    await removeDir(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
  if (status === 'FINISHED') return new JobExecutionResult(jobId, jobGraph.name, netRuntime);
  if (status === 'CANCELED') throw new JobExecutionException(jobId, `Job ${jobGraph.name} (${jobId}) was canceled`);
  const rootCause = jm.rootCause() ?? 'no cause recorded';
  // The error object itself when a task's failure is the root cause (not an earlier attempt's, not the JobMaster's own).
  const thrown = userErrorOf(executor.lastFailure);
  const cause = thrown instanceof Error && rootCause.includes(thrown.message) ? thrown : new Error(rootCause);
  const reason = cause === thrown ? `${cause.name}: ${cause.message}` : firstLine(rootCause);
  throw new JobExecutionException(jobId, `Job ${jobGraph.name} (${jobId}) failed: ${reason}`, { cause });
}
