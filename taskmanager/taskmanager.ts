// The TaskManager process. Its main thread is the control plane: the gRPC server the JobManager
// calls (TaskExecutorGateway), registration, heartbeats both ways, bundles and the log file. Each
// slot runs on a thread of its own (TaskSlot), with its tasks and its own gRPC data server.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { Configuration } from '../common/config.js';
import { taskExecutorServiceDefinition, type RegisterTaskManagerRequest } from '../common/control.js';
import { createLogger, exitOnUnhandledRejection, logFileOptions, type Logger } from '../common/logging.js';
import { bindServer, shutdownServer } from '../common/rpc.js';
import { createRpcServer, serverCredentials } from '../common/security/grpc-security.js';
import {
  describeInternalSecurity,
  internalSecurityFrom,
  type InternalSecurity,
} from '../common/security/internal-security.js';
import { ENGINE_VERSION, PROTOCOL_VERSION } from '../common/version.js';
import { BundleCache } from './bundle-cache.js';
import { applyGarbageCollectionSettings } from './gc-settings.js';
import { JobManagerConnection } from './jobmanager-connection.js';
import { JobManagerRegistration, registrationTimeouts } from './jobmanager-registration.js';
import { TaskManagerMetricsServer } from './metrics-server.js';
import { slotConfig } from './slot-config.js';
import { slotListener } from './slot-listener.js';
import { TaskSlot } from './slot/task-slot.js';
import { TaskExecutor } from './task-executor.js';

export { RegistrationRejectedError } from './jobmanager-registration.js';

export interface TaskManagerHandle {
  id: string;
  rpcAddress: string;
  close(): Promise<void>;
}

export async function startTaskManager(
  conf: Configuration,
  opts: { workingDir: string; jobManagerAddress: string },
): Promise<TaskManagerHandle> {
  // User stack traces should point into the job's own sources (bundles carry inline source maps).
  process.setSourceMapsEnabled(true);
  applyGarbageCollectionSettings(conf);
  const workingDir = resolve(opts.workingDir);
  mkdirSync(workingDir, { recursive: true });
  const id = `tm-${randomBytes(4).toString('hex')}`;
  const { rootLog, log, logFile } = startLogging(conf, workingDir, id);
  const timeouts = registrationTimeouts(conf);
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
  const registration = new JobManagerRegistration(id, conn, timeouts, log);

  const config = slotConfig(conf, { taskManagerId: id, slots, workingDir, security, ...timeouts });
  const listener = slotListener({
    taskManagerId: id,
    conn,
    bundles,
    log,
    rootLog,
    closed: () => registration.closed,
    // Slots reach the executor only once they run tasks.
    connect: (producerDataAddress, port) => executor.connect(producerDataAddress, port),
  });
  const taskSlots = Array.from({ length: slots }, (_, i) => new TaskSlot(i, config, listener, log));
  const slotDataAddresses = await startSlots(taskSlots, conn, log);
  const executor = new TaskExecutor({
    slots: taskSlots,
    log,
    logFile,
    onJobManagerHeartbeat: (from) => registration.onJobManagerHeartbeat(from),
    registeredWith: (from) => registration.registeredWith(from),
  });

  const { server, rpcAddress } = await startRpcService(conf, config, security, executor, log);
  const { metrics, metricsAddress } = await startMetricsServer(conf, config, id, executor, log);
  const req = registrationRequest(id, { rpcAddress, metricsAddress, slots, slotDataAddresses, workingDir });
  await registration
    .register(req)
    .catch((e: unknown) =>
      abortStart(log, e, [
        () => shutdownServer(server, 100),
        () => metrics.close(),
        () => Promise.all(taskSlots.map((s) => s.close())),
        () => conn.close(),
      ]),
    );
  onNewLeader = registration.startHeartbeats(executor, req);
  logStarted(log, req, security);

  let closing: Promise<void> | undefined;
  const close = () => (closing ??= shutDown({ log, taskSlots, executor, registration, server, metrics, conn }));
  return { id, rpcAddress, close };
}

/** The TaskManager's log file in its working directory; `log` carries its id. */
function startLogging(
  conf: Configuration,
  workingDir: string,
  id: string,
): { rootLog: Logger; log: Logger; logFile: string } {
  const logFile = join(workingDir, 'taskmanager.log');
  const rootLog = createLogger('taskmanager', logFile, logFileOptions(conf));
  const log = rootLog.child({ taskManagerId: id });
  // User code runs on the slots' threads; a rejection nobody handles here is the runtime's own bug.
  exitOnUnhandledRejection(log, 'TaskManager');
  return { rootLog, log, logFile };
}

/** Starts every slot's thread; resolves with their data addresses, by slot index. */
async function startSlots(taskSlots: TaskSlot[], conn: JobManagerConnection, log: Logger): Promise<string[]> {
  try {
    return await Promise.all(taskSlots.map((s) => s.start()));
  } catch (e) {
    return abortStart(log, e, [() => Promise.all(taskSlots.map((s) => s.close())), () => conn.close()]);
  }
}

/** The gRPC server the JobManager calls (the TaskExecutor service). */
async function startRpcService(
  conf: Configuration,
  addresses: { host: string; bindHost: string },
  security: InternalSecurity,
  executor: TaskExecutor,
  log: Logger,
): Promise<{ server: grpc.Server; rpcAddress: string }> {
  const server = createRpcServer(security, log);
  server.addService(taskExecutorServiceDefinition(), executor.service());
  const port = await bindServer(
    server,
    addresses.bindHost,
    conf.getInt('taskmanager.rpc.port'),
    serverCredentials(security),
  );
  return { server, rpcAddress: `${addresses.host}:${port}` };
}

/** The Prometheus endpoint of the tasks' metrics; a TaskManager without one still runs. */
async function startMetricsServer(
  conf: Configuration,
  addresses: { host: string; bindHost: string },
  id: string,
  executor: TaskExecutor,
  log: Logger,
): Promise<{ metrics: TaskManagerMetricsServer; metricsAddress: string }> {
  const metrics = new TaskManagerMetricsServer(id, executor);
  let metricsAddress = '';
  try {
    metricsAddress = `${addresses.host}:${await metrics.listen(addresses.bindHost, conf.getInt('metrics.reporter.prom.port'))}`;
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'Prometheus metrics endpoint not available');
  }
  return { metrics, metricsAddress };
}

/** What the TaskManager announces when it registers. */
function registrationRequest(
  taskManagerId: string,
  at: Pick<RegisterTaskManagerRequest, 'rpcAddress' | 'metricsAddress' | 'slots' | 'slotDataAddresses' | 'workingDir'>,
): RegisterTaskManagerRequest {
  return {
    taskManagerId,
    rpcAddress: at.rpcAddress,
    slots: at.slots,
    slotDataAddresses: at.slotDataAddresses,
    protocolVersion: PROTOCOL_VERSION,
    engineVersion: ENGINE_VERSION,
    pid: process.pid,
    hostname: hostname(),
    workingDir: at.workingDir,
    metricsAddress: at.metricsAddress,
  };
}

function logStarted(log: Logger, req: RegisterTaskManagerRequest, security: InternalSecurity): void {
  const { rpcAddress, metricsAddress, slots, slotDataAddresses, workingDir } = req;
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
}

/** Releases what started so far, in order, logs why the TaskManager could not start, and rethrows. */
async function abortStart(log: Logger, e: unknown, release: (() => Promise<unknown>)[]): Promise<never> {
  for (const r of release) await r();
  log.fatal({ err: (e as Error).message }, 'TaskManager failed to start');
  await flushLog(log);
  throw e;
}

/** Cancels the tasks, leaves the JobManager, then stops the slots, the servers and the connection. */
async function shutDown(tm: {
  log: Logger;
  taskSlots: TaskSlot[];
  executor: TaskExecutor;
  registration: JobManagerRegistration;
  server: grpc.Server;
  metrics: TaskManagerMetricsServer;
  conn: JobManagerConnection;
}): Promise<void> {
  const { log, taskSlots, executor } = tm;
  log.info('TaskManager shutting down');
  for (const slot of taskSlots) slot.beginShutdown();
  executor.cancelAll();
  await executor.awaitAll(5000);
  await tm.registration.disconnect();
  await Promise.all(taskSlots.map((s) => s.close()));
  await shutdownServer(tm.server, 1000);
  await tm.metrics.close();
  await tm.conn.close();
  log.info('TaskManager stopped');
  await flushLog(log);
}

function flushLog(log: Logger): Promise<void> {
  return new Promise<void>((r) => log.flush(() => r()));
}
