// The TaskManager process: one gRPC server for the control plane (TaskExecutorGateway) and the
// data plane (DataExchange), registration with the JobManager, and heartbeats both ways.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Configuration } from '../common/config.js';
import { jobManagerClient, taskExecutorServiceDefinition, type Ack, type RegisterTaskManagerResponse } from '../common/control.js';
import { createLogger, logFileOptions } from '../common/logging.js';
import { bindServer, shutdownServer, unary } from '../common/rpc.js';
import { ENGINE_VERSION, PROTOCOL_VERSION } from '../common/version.js';
import { BundleCache } from './bundle-cache.js';
import { NetworkEnvironment } from './network/network-environment.js';
import { TaskManagerMetricsServer } from './metrics-server.js';
import { TaskExecutor } from './task-executor.js';
import type { TaskStateListener } from './task.js';

export interface TaskManagerHandle {
  id: string;
  rpcAddress: string;
  close(): Promise<void>;
}

/** Thrown when the JobManager refuses this TaskManager for good (e.g. another protocol version). */
export class RegistrationRejectedError extends Error {}

export async function startTaskManager(conf: Configuration, opts: { workingDir: string; jobManagerAddress: string }): Promise<TaskManagerHandle> {
  // User stack traces should point into the job's own sources (bundles carry inline source maps).
  process.setSourceMapsEnabled(true);
  const workingDir = resolve(opts.workingDir);
  mkdirSync(workingDir, { recursive: true });
  const logFile = join(workingDir, 'taskmanager.log');
  const id = `tm-${randomBytes(4).toString('hex')}`;
  const log = createLogger('taskmanager', logFile, logFileOptions(conf)).child({ taskManagerId: id });
  // User code may leave rejected promises behind (an async sink's fire-and-forget, say); log them
  // rather than lose every task of this TaskManager.
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection in user code or runtime (ignored)'));
  const intervalMs = conf.getDuration('heartbeat.interval');
  const timeoutMs = conf.getDuration('heartbeat.timeout');
  const slots = conf.getInt('taskmanager.numberOfTaskSlots');

  const jm = jobManagerClient(opts.jobManagerAddress);
  const network = new NetworkEnvironment({
    taskManagerId: id,
    segmentSize: conf.getMemorySize('taskmanager.memory.segment-size'),
    buffersPerChannel: conf.getInt('taskmanager.network.memory.buffers-per-channel'),
    logger: log,
  });
  const bundles = new BundleCache(join(workingDir, 'bundles'), () => jm);
  let jobManagerId = '';
  let lastJobManagerContact = Date.now();
  let closed = false;

  const onTaskState: TaskStateListener = (task, state, failure) => {
    if (closed && state !== 'CANCELED' && state !== 'FAILED' && state !== 'FINISHED') return;
    const terminal = state === 'FINISHED' || state === 'FAILED' || state === 'CANCELED';
    const update = {
      taskManagerId: id,
      jobId: task.tdd.jobId,
      executionId: task.executionId,
      state,
      error: failure?.message ?? '',
      errorName: failure?.name ?? '',
      operatorName: failure?.operatorName ?? '',
      timestamp: Date.now(),
      metrics: terminal ? task.metrics() : null,
    };
    log.info({ jobId: task.tdd.jobId, task: task.name, state }, 'task state');
    unary<typeof update, Ack>(jm, 'UpdateTaskExecutionState', update, 5000).catch((e: Error) =>
      log.warn({ err: e.message, task: task.name, state }, 'cannot report task state to the JobManager'),
    );
  };

  const executor = new TaskExecutor({
    network,
    bundles,
    bufferTimeoutMs: conf.getDuration('execution.buffer-timeout'),
    log,
    logFile,
    onTaskState,
    stateDir: join(workingDir, 'state'),
    checkpointResponder: {
      acknowledge: (ack) => {
        unary<{ jobId: string; ackJson: string }, Ack>(jm, 'AcknowledgeCheckpoint', { jobId: ack.jobId, ackJson: JSON.stringify(ack) }, 10_000).catch((e: Error) =>
          log.warn({ err: e.message, checkpointId: ack.checkpointId }, 'cannot acknowledge checkpoint to the JobManager'),
        );
      },
      decline: (jobId, executionId, checkpointId, reason) => {
        unary(jm, 'DeclineCheckpoint', { jobId, executionId, checkpointId, reason }, 10_000).catch((e: Error) =>
          log.warn({ err: e.message, checkpointId }, 'cannot decline checkpoint to the JobManager'),
        );
      },
    },
    onJobManagerHeartbeat: (from) => {
      lastJobManagerContact = Date.now();
      return from === jobManagerId;
    },
  });

  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService(taskExecutorServiceDefinition(), executor.service());
  network.addToServer(server);
  const host = conf.getString('taskmanager.host');
  const port = await bindServer(server, host, conf.getInt('taskmanager.rpc.port'));
  const rpcAddress = `${host}:${port}`;
  const metrics = new TaskManagerMetricsServer(id, () => [...executor.tasks.values()].map((t) => ({ jobId: t.tdd.jobId, name: t.name, subtaskIndex: t.tdd.subtaskIndex, metrics: () => t.metrics() })));
  let metricsAddress = '';
  try {
    metricsAddress = `${host}:${await metrics.listen(host, conf.getInt('metrics.reporter.prom.port'))}`;
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'Prometheus metrics endpoint not available');
  }

  const register = async (): Promise<void> => {
    const req = { taskManagerId: id, rpcAddress, slots, protocolVersion: PROTOCOL_VERSION, engineVersion: ENGINE_VERSION, pid: process.pid, hostname: hostname(), workingDir, metricsAddress };
    let attempt = 0;
    for (;;) {
      if (closed) return;
      try {
        const res = await unary<typeof req, RegisterTaskManagerResponse>(jm, 'RegisterTaskManager', req, 5000);
        if (!res.accepted) throw new RegistrationRejectedError(`the JobManager at ${opts.jobManagerAddress} refused this TaskManager: ${res.reason}`);
        jobManagerId = res.jobManagerId;
        lastJobManagerContact = Date.now();
        log.info({ jobManager: opts.jobManagerAddress, rpcAddress, slots }, 'TaskManager registered');
        return;
      } catch (e) {
        if (e instanceof RegistrationRejectedError) throw e;
        if (attempt++ % 10 === 0) log.warn({ jobManager: opts.jobManagerAddress, err: (e as Error).message }, 'cannot reach the JobManager; retrying');
        await new Promise((r) => setTimeout(r, Math.min(1000, 100 * attempt)));
      }
    }
  };

  try {
    await register();
  } catch (e) {
    await shutdownServer(server, 100);
    await metrics.close();
    network.close();
    jm.close();
    log.fatal({ err: (e as Error).message }, 'TaskManager failed to start');
    await new Promise<void>((r) => log.flush(() => r()));
    throw e;
  }

  // Heartbeats to the JobManager carry task metrics; silence from it means its tasks are orphans.
  let reRegistering = false;
  const heartbeat = setInterval(() => {
    if (closed || reRegistering) return;
    const mem = process.memoryUsage();
    const hb = { taskManagerId: id, jobManagerId, tasks: [...executor.tasks.values()].map((t) => t.metrics()), rssBytes: mem.rss, heapUsedBytes: mem.heapUsed };
    unary<typeof hb, { known: boolean }>(jm, 'SendHeartbeat', hb, intervalMs)
      .then((res) => {
        lastJobManagerContact = Date.now();
        if (!res.known) recover('the JobManager does not know this TaskManager');
      })
      .catch(() => {
        if (Date.now() - lastJobManagerContact > timeoutMs) recover(`no contact with the JobManager for ${Date.now() - lastJobManagerContact} ms`);
      });
  }, intervalMs);

  const recover = (why: string) => {
    if (reRegistering || closed) return;
    reRegistering = true;
    log.warn({ reason: why, tasks: executor.tasks.size }, 'lost the JobManager: canceling tasks and registering again');
    executor.cancelAll();
    register()
      .catch((e: Error) => log.error({ err: e.message }, 'registration failed'))
      .finally(() => {
        reRegistering = false;
      });
  };

  log.info({ rpcAddress, metricsAddress, slots, workingDir, version: ENGINE_VERSION }, 'TaskManager started');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info('TaskManager shutting down');
      executor.cancelAll();
      await executor.awaitAll(5000);
      closed = true;
      clearInterval(heartbeat);
      await unary(jm, 'DisconnectTaskManager', { taskManagerId: id, reason: 'TaskManager shut down' }, 2000).catch(() => undefined);
      network.close();
      await shutdownServer(server, 1000);
      await metrics.close();
      jm.close();
      log.info('TaskManager stopped');
      await new Promise<void>((r) => log.flush(() => r()));
    })());
  return { id, rpcAddress, close };
}
