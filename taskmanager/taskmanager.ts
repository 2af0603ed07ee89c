// The TaskManager process. Its main thread is the control plane: the gRPC server the JobManager
// calls (TaskExecutorGateway), registration, heartbeats both ways, bundles and the log file. Each
// slot runs on a thread of its own (TaskSlot), with its tasks and its own gRPC data server.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import type { TaskCheckpointAck } from '../common/checkpoint.js';
import type { Configuration } from '../common/config.js';
import {
  taskExecutionState,
  taskExecutorServiceDefinition,
  type Ack,
  type RegisterTaskManagerResponse,
} from '../common/control.js';
import { createLogger, exitOnUnhandledRejection, logFileOptions, writeLogLine } from '../common/logging.js';
import { bindServer, shutdownServer, unary } from '../common/rpc.js';
import { createRpcServer, permanentRefusal, serverCredentials } from '../common/security/grpc-security.js';
import { describeInternalSecurity, internalSecurityFrom } from '../common/security/internal-security.js';
import { ENGINE_VERSION, PROTOCOL_VERSION } from '../common/version.js';
import { BundleCache } from './bundle-cache.js';
import { JobManagerConnection } from './jobmanager-connection.js';
import { TaskManagerMetricsServer } from './metrics-server.js';
import { slotDataPorts } from './slot/data-ports.js';
import { TaskSlot, type TaskStateUpdate } from './slot/task-slot.js';
import { TaskExecutor } from './task-executor.js';

export interface TaskManagerHandle {
  id: string;
  rpcAddress: string;
  close(): Promise<void>;
}

/** Thrown when the JobManager refuses this TaskManager for good (e.g. another protocol version). */
export class RegistrationRejectedError extends Error {}

export async function startTaskManager(
  conf: Configuration,
  opts: { workingDir: string; jobManagerAddress: string },
): Promise<TaskManagerHandle> {
  // User stack traces should point into the job's own sources (bundles carry inline source maps).
  process.setSourceMapsEnabled(true);
  const workingDir = resolve(opts.workingDir);
  mkdirSync(workingDir, { recursive: true });
  const logFile = join(workingDir, 'taskmanager.log');
  const id = `tm-${randomBytes(4).toString('hex')}`;
  const rootLog = createLogger('taskmanager', logFile, logFileOptions(conf));
  const log = rootLog.child({ taskManagerId: id });
  // User code runs on the slots' threads; a rejection nobody handles here is the runtime's own bug.
  exitOnUnhandledRejection(log, 'TaskManager');
  const intervalMs = conf.getDuration('heartbeat.interval');
  const timeoutMs = conf.getDuration('heartbeat.timeout');
  const slots = conf.getInt('taskmanager.numberOfTaskSlots');

  // Internal secret and mutual TLS: for the JobManager's calls, ours, and the slots' data servers and clients.
  const security = internalSecurityFrom(conf);
  // Late-bound: with etcd, a new leader makes the TaskManager drop its tasks and register there.
  let onNewLeader = (_why: string): void => undefined;
  const conn = await JobManagerConnection.open(
    opts.jobManagerAddress,
    conf.getString('high-availability.cluster-id'),
    security,
    log,
    (why) => onNewLeader(why),
  );
  const bundles = new BundleCache(join(workingDir, 'bundles'), () => conn.client);
  let jobManagerId = '';
  let lastJobManagerContact = Date.now();
  let closed = false;

  const onTaskState = (task: TaskStateUpdate) => {
    const { state, failure } = task;
    if (closed && state !== 'CANCELED' && state !== 'FAILED' && state !== 'FINISHED') return;
    const update = taskExecutionState(id, task, state, failure, () => task.metrics ?? null);
    log.info({ jobId: task.jobId, task: task.name, state }, 'task state');
    unary<typeof update, Ack>(conn.client, 'UpdateTaskExecutionState', update, 5000).catch((e: Error) =>
      log.warn({ err: e.message, task: task.name, state }, 'cannot report task state to the JobManager'),
    );
  };

  // Announced to others; behind NAT the servers bind another address (taskmanager.bind-host).
  const host = conf.getString('taskmanager.host');
  const bindHost = conf.getOptionalString('taskmanager.bind-host') ?? host;
  const slotConfig = {
    taskManagerId: id,
    host,
    bindHost,
    dataPorts: slotDataPorts(conf, slots),
    segmentSize: conf.getMemorySize('taskmanager.memory.segment-size'),
    buffersPerChannel: conf.getInt('taskmanager.network.memory.buffers-per-channel'),
    requestBackoff: {
      initialMs: conf.getDuration('taskmanager.network.request-backoff.initial'),
      maxMs: conf.getDuration('taskmanager.network.request-backoff.max'),
    },
    bufferTimeoutMs: conf.getDuration('execution.buffer-timeout'),
    stateDir: join(workingDir, 'state'),
    metricsIntervalMs: Math.max(50, Math.min(500, intervalMs)),
    cancellationTimeoutMs: conf.getDuration('task.cancellation.timeout'),
    security,
  };
  // Set below; slots reach it only once they run tasks.
  let executor: TaskExecutor;
  const slotListener = {
    onTaskState,
    acknowledge: (ack: TaskCheckpointAck) => {
      unary<{ jobId: string; ackJson: string }, Ack>(
        conn.client,
        'AcknowledgeCheckpoint',
        { jobId: ack.jobId, ackJson: JSON.stringify(ack) },
        10_000,
      ).catch((e: Error) =>
        log.warn({ err: e.message, checkpointId: ack.checkpointId }, 'cannot acknowledge checkpoint to the JobManager'),
      );
    },
    decline: (jobId: string, executionId: string, checkpointId: number, reason: string) => {
      unary(conn.client, 'DeclineCheckpoint', { jobId, executionId, checkpointId, reason }, 10_000).catch((e: Error) =>
        log.warn({ err: e.message, checkpointId }, 'cannot decline checkpoint to the JobManager'),
      );
    },
    bundle: (bundleId: string) => bundles.entryPath(bundleId),
    connect: (producerDataAddress: string, port: MessagePort) => executor.connect(producerDataAddress, port),
    log: (line: string) => writeLogLine(rootLog, line),
  };
  const taskSlots = Array.from({ length: slots }, (_, i) => new TaskSlot(i, slotConfig, slotListener, log));
  let slotDataAddresses: string[];
  try {
    slotDataAddresses = await Promise.all(taskSlots.map((s) => s.start()));
  } catch (e) {
    await Promise.all(taskSlots.map((s) => s.close()));
    await conn.close();
    log.fatal({ err: (e as Error).message }, 'TaskManager failed to start');
    await new Promise<void>((r) => log.flush(() => r()));
    throw e;
  }
  executor = new TaskExecutor({
    slots: taskSlots,
    log,
    logFile,
    onJobManagerHeartbeat: (from) => {
      lastJobManagerContact = Date.now();
      return from === jobManagerId;
    },
    registeredWith: (from) => from === jobManagerId,
  });

  const server = createRpcServer(security, log);
  server.addService(taskExecutorServiceDefinition(), executor.service());
  const port = await bindServer(server, bindHost, conf.getInt('taskmanager.rpc.port'), serverCredentials(security));
  const rpcAddress = `${host}:${port}`;
  const metrics = new TaskManagerMetricsServer(id, () => executor.taskViews());
  let metricsAddress = '';
  try {
    metricsAddress = `${host}:${await metrics.listen(bindHost, conf.getInt('metrics.reporter.prom.port'))}`;
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'Prometheus metrics endpoint not available');
  }

  const register = async (): Promise<void> => {
    const req = {
      taskManagerId: id,
      rpcAddress,
      slots,
      slotDataAddresses,
      protocolVersion: PROTOCOL_VERSION,
      engineVersion: ENGINE_VERSION,
      pid: process.pid,
      hostname: hostname(),
      workingDir,
      metricsAddress,
    };
    let attempt = 0;
    for (;;) {
      if (closed) return;
      try {
        const res = await unary<typeof req, RegisterTaskManagerResponse>(conn.client, 'RegisterTaskManager', req, 5000);
        if (!res.accepted)
          throw new RegistrationRejectedError(
            `the JobManager at ${conn.address} refused this TaskManager: ${res.reason}`,
          );
        jobManagerId = res.jobManagerId;
        lastJobManagerContact = Date.now();
        log.info({ jobManager: conn.address, rpcAddress, slots }, 'TaskManager registered');
        return;
      } catch (e) {
        if (e instanceof RegistrationRejectedError) throw e;
        // A wrong or missing internal secret does not get better by asking again.
        const refusal = permanentRefusal(e);
        if (refusal)
          throw new RegistrationRejectedError(`the JobManager at ${conn.address} refused this TaskManager: ${refusal}`);
        if (attempt++ % 10 === 0)
          log.warn({ jobManager: conn.address, err: (e as Error).message }, 'cannot reach the JobManager; retrying');
        await new Promise((r) => setTimeout(r, Math.min(1000, 100 * attempt)));
      }
    }
  };

  try {
    await register();
  } catch (e) {
    await shutdownServer(server, 100);
    await metrics.close();
    await Promise.all(taskSlots.map((s) => s.close()));
    await conn.close();
    log.fatal({ err: (e as Error).message }, 'TaskManager failed to start');
    await new Promise<void>((r) => log.flush(() => r()));
    throw e;
  }

  // Heartbeats to the JobManager carry task metrics; silence from it means its tasks are orphans.
  let reRegistering = false;
  const heartbeat = setInterval(() => {
    if (closed || reRegistering) return;
    const mem = process.memoryUsage();
    const hb = {
      taskManagerId: id,
      jobManagerId,
      tasks: executor.metrics(),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed + executor.slotHeapUsedBytes(),
    };
    unary<typeof hb, { known: boolean }>(conn.client, 'SendHeartbeat', hb, intervalMs)
      .then((res) => {
        lastJobManagerContact = Date.now();
        if (!res.known) recover('the JobManager does not know this TaskManager');
      })
      .catch(() => {
        if (Date.now() - lastJobManagerContact > timeoutMs)
          recover(`no contact with the JobManager for ${Date.now() - lastJobManagerContact} ms`);
      });
  }, intervalMs);

  onNewLeader = (why) => recover(why);
  const recover = (why: string) => {
    if (reRegistering || closed) return;
    reRegistering = true;
    log.warn({ reason: why, tasks: executor.numTasks() }, 'lost the JobManager: canceling tasks and registering again');
    executor.cancelAll();
    // A new JobManager must never find tasks of the old one still running in the slots it is offered.
    executor
      .awaitAll(conf.getDuration('task.cancellation.timeout'))
      .then(() => register())
      .catch((e: Error) => log.error({ err: e.message }, 'registration failed'))
      .finally(() => {
        reRegistering = false;
      });
  };

  log.info(
    {
      rpcAddress,
      metricsAddress,
      slots,
      slotDataAddresses,
      workingDir,
      version: ENGINE_VERSION,
      ...describeInternalSecurity(security),
    },
    'TaskManager started',
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info('TaskManager shutting down');
      for (const slot of taskSlots) slot.beginShutdown();
      executor.cancelAll();
      await executor.awaitAll(5000);
      closed = true;
      clearInterval(heartbeat);
      await unary(
        conn.client,
        'DisconnectTaskManager',
        { taskManagerId: id, reason: 'TaskManager shut down' },
        2000,
      ).catch(() => undefined);
      await Promise.all(taskSlots.map((s) => s.close()));
      await shutdownServer(server, 1000);
      await metrics.close();
      await conn.close();
      log.info('TaskManager stopped');
      await new Promise<void>((r) => log.flush(() => r()));
    })());
  return { id, rpcAddress, close };
}
