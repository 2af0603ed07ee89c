// The JobManager process: ResourceManager, Dispatcher, gRPC control plane, REST and web UI.
import type * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Configuration } from '../common/config.js';
import { jobManagerServiceDefinition } from '../common/control.js';
import {
  createLogger,
  exitAfterLogging,
  exitOnUnhandledRejection,
  logFileOptions,
  type Logger,
} from '../common/logging.js';
import { LeadershipLostError } from './ha/leadership-fence.js';
import { bindServer, shutdownServer } from '../common/rpc.js';
import { createRpcServer, serverCredentials } from '../common/security/grpc-security.js';
import {
  describeInternalSecurity,
  internalSecurityFrom,
  type InternalSecurity,
} from '../common/security/internal-security.js';
import { ENGINE_VERSION } from '../common/version.js';
import { Dispatcher } from './dispatcher.js';
import { JarStore } from './jar-store.js';
import { JobManagerMetrics } from './metrics.js';
import { ResourceManager } from './resource-manager.js';
import { AlertNotifier } from './alerts.js';
import { JobArchive, jobStoreOptions } from './job-archive.js';
import { archivedViews } from './rest/job-json.js';
import { createRestServer } from './rest/server.js';
import { restSecurity } from './rest/rest-security.js';
import { restScheme } from './rest/rest-tls.js';
import { jobManagerService } from './rpc-service.js';
import { startHighAvailability, type HighAvailabilityServices } from './ha/ha-services.js';
import { standbyGuard } from './ha/standby-guard.js';
import { DeploymentService } from './deployments/deployment-service.js';

export interface JobManagerHandle {
  restUrl: string;
  rpcAddress: string;
  logFile: string;
  log: Logger;
  close(): Promise<void>;
}

export async function startJobManager(conf: Configuration, opts: { workingDir: string }): Promise<JobManagerHandle> {
  const workingDir = resolve(opts.workingDir);
  mkdirSync(workingDir, { recursive: true });
  const logFile = join(workingDir, 'jobmanager.log');
  const log = createLogger('jobmanager', logFile, logFileOptions(conf));
  // Internal secret and mutual TLS guard every gRPC call from and to TaskManagers.
  const security = internalSecurityFrom(conf);
  // REST token and TLS settings are checked before anything binds (an open non-loopback REST port refuses to start).
  restSecurity(conf);
  const jobManagerId = randomBytes(8).toString('hex');
  exitOnUnhandledRejection(log, 'JobManager', (reason) => reason instanceof LeadershipLostError);

  const rm = new ResourceManager(
    jobManagerId,
    conf.getDuration('heartbeat.interval'),
    conf.getDuration('heartbeat.timeout'),
    log,
    security,
  );
  const jars = new JarStore(join(workingDir, 'bundles'));
  await jars.open();
  const archive = await openJobArchive(conf, workingDir, log);
  const alerts = new AlertNotifier(log, { webhookUrl: conf.getOptionalString('alerts.webhook.url') });
  // Late-bound: known once the REST endpoint listens.
  let restUrl = '';
  const checkpointsDir = conf.getOptionalString('state.checkpoints.dir') ?? join(workingDir, 'checkpoints');
  const dispatcher = new Dispatcher(conf, jars, rm, log, archive, archivedViews, alerts, () => restUrl, checkpointsDir);
  const metrics = new JobManagerMetrics(rm, () => dispatcher);
  const ha = await startHighAvailability(conf, dispatcher, log).catch((e: unknown) =>
    abortStart(log, e, [() => archive.close().catch(() => undefined)]),
  );
  // Deployments (weir apply) beside the job records with high availability, where a standby sees them.
  const deployments = await DeploymentService.open({
    conf,
    dispatcher,
    log,
    alerts,
    restUrl: () => restUrl,
    dir: join(ha?.store.storageDir ?? workingDir, 'deployments'),
    checkpointsDir,
  }).catch((e: unknown) => abortStart(log, e, [async () => ha?.close(), () => archive.close().catch(() => undefined)]));

  const { rpc, rpcHost, rpcPort } = await startRpcService(conf, security, rm, dispatcher, jars, log);
  rm.start();
  const rest = await createRestServer({ conf, log, logFile, rm, dispatcher, metrics, deployments });
  if (ha)
    rest.addHook(
      'onRequest',
      standbyGuard(
        () => ha.isLeader(),
        () => ha.leaderRestUrl(),
      ),
    );
  const restPort = await startRestEndpoint(conf, rest, log, [
    () => shutdownServer(rpc, 100),
    async () => rm.stop(),
    () => archive.close().catch(() => undefined),
  ]);
  restUrl = `${restScheme(conf)}://${conf.getString('rest.address')}:${restPort}`;
  const rpcAddress = `${rpcHost}:${rpcPort}`;
  log.info(
    {
      restUrl,
      rpcAddress,
      restPort,
      rpcPort,
      workingDir,
      version: ENGINE_VERSION,
      jobManagerId,
      highAvailability: ha?.type ?? 'none',
      ...describeInternalSecurity(security),
    },
    'JobManager started',
  );
  await leadWithHighAvailability(ha, { jobManagerId, restUrl, rpcAddress }, alerts, log);

  let closing: Promise<void> | undefined;
  const close = () => (closing ??= shutDown({ log, deployments, dispatcher, ha, archive, rest, rm, rpc }));
  return { restUrl, rpcAddress, logFile, log, close };
}

/** The store of ended jobs; a directory another JobManager holds open is refused. */
async function openJobArchive(conf: Configuration, workingDir: string, log: Logger): Promise<JobArchive> {
  const archive = new JobArchive(join(workingDir, 'store'), log, jobStoreOptions(conf));
  try {
    await archive.open();
  } catch (e) {
    const msg = `cannot open the JobManager store at ${join(workingDir, 'store')}: ${(e as Error).message} (is another JobManager using this directory?)`;
    log.fatal(msg);
    throw new Error(msg, { cause: e });
  }
  return archive;
}

/** Releases what started so far, in order, logs why the JobManager could not start, and rethrows. */
async function abortStart(log: Logger, e: unknown, release: (() => Promise<unknown>)[]): Promise<never> {
  for (const r of release) await r();
  log.fatal((e as Error).message);
  throw e;
}

/** The gRPC server TaskManagers call (registration, heartbeats, task states, checkpoint acknowledgements). */
async function startRpcService(
  conf: Configuration,
  security: InternalSecurity,
  rm: ResourceManager,
  dispatcher: Dispatcher,
  jars: JarStore,
  log: Logger,
): Promise<{ rpc: grpc.Server; rpcHost: string; rpcPort: number }> {
  const rpc = createRpcServer(security, log);
  rpc.addService(jobManagerServiceDefinition(), jobManagerService(rm, dispatcher, jars, log));
  const rpcHost = conf.getString('jobmanager.rpc.address');
  try {
    const rpcPort = await bindServer(rpc, rpcHost, conf.getInt('jobmanager.rpc.port'), serverCredentials(security));
    return { rpc, rpcHost, rpcPort };
  } catch (e) {
    log.fatal({ err: e }, 'JobManager failed to start');
    throw e;
  }
}

/** Starts the REST endpoint listening; resolves with its port. When it cannot, releases `release` in order. */
async function startRestEndpoint(
  conf: Configuration,
  rest: FastifyInstance,
  log: Logger,
  release: (() => Promise<unknown>)[],
): Promise<number> {
  const restHost = conf.getString('rest.bind-address');
  try {
    await rest.listen({ host: restHost, port: conf.getInt('rest.port') });
  } catch (e) {
    for (const r of release) await r();
    const msg = `cannot start the REST endpoint on ${restHost}:${conf.getInt('rest.port')}: ${(e as Error).message}`;
    log.fatal(msg);
    throw new Error(msg, { cause: e });
  }
  const addr = rest.server.address();
  return typeof addr === 'object' && addr ? addr.port : conf.getInt('rest.port');
}

/** Jobs the previous JobManager ran continue here (high availability); with etcd once elected. */
async function leadWithHighAvailability(
  ha: HighAvailabilityServices | undefined,
  leader: { jobManagerId: string; restUrl: string; rpcAddress: string },
  alerts: AlertNotifier,
  log: Logger,
): Promise<void> {
  await ha?.lead({
    leader,
    alerts,
    onLeadershipLost: (reason) => {
      // Fencing: another JobManager may lead within the lease time; this one must not deploy or commit anything more.
      exitAfterLogging(log, 1, { reason }, 'leadership lost: the JobManager stops now (start it again to stand by)');
    },
  });
}

async function shutDown(jm: {
  log: Logger;
  deployments: DeploymentService;
  dispatcher: Dispatcher;
  ha: HighAvailabilityServices | undefined;
  archive: JobArchive;
  rest: FastifyInstance;
  rm: ResourceManager;
  rpc: grpc.Server;
}): Promise<void> {
  const log = jm.log;
  log.info('JobManager shutting down');
  jm.deployments.close();
  await jm.dispatcher.shutdown(5000);
  await jm.ha?.close();
  await jm.archive.close().catch(() => undefined);
  await jm.rest.close();
  jm.rm.stop();
  await shutdownServer(jm.rpc, 1000);
  log.info('JobManager stopped');
  await new Promise<void>((r) => log.flush(() => r()));
}
