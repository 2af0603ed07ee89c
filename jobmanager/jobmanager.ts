// The JobManager process: ResourceManager, Dispatcher, gRPC control plane, REST and web UI.
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
import { bindServer, shutdownServer } from '../common/rpc.js';
import { createRpcServer, serverCredentials } from '../common/security/grpc-security.js';
import { describeInternalSecurity, internalSecurityFrom } from '../common/security/internal-security.js';
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
import { startHighAvailability } from './ha/ha-services.js';
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
  exitOnUnhandledRejection(log, 'JobManager');

  const rm = new ResourceManager(
    jobManagerId,
    conf.getDuration('heartbeat.interval'),
    conf.getDuration('heartbeat.timeout'),
    log,
    security,
  );
  const jars = new JarStore(join(workingDir, 'bundles'));
  await jars.open();
  const archive = new JobArchive(join(workingDir, 'store'), log, jobStoreOptions(conf));
  try {
    await archive.open();
  } catch (e) {
    const msg = `cannot open the JobManager store at ${join(workingDir, 'store')}: ${(e as Error).message} (is another JobManager using this directory?)`;
    log.fatal(msg);
    throw new Error(msg);
  }
  const alerts = new AlertNotifier(log, { webhookUrl: conf.getOptionalString('alerts.webhook.url') });
  let restUrl = '';
  const checkpointsDir = conf.getOptionalString('state.checkpoints.dir') ?? join(workingDir, 'checkpoints');
  const dispatcher = new Dispatcher(conf, jars, rm, log, archive, archivedViews, alerts, () => restUrl, checkpointsDir);
  const metrics = new JobManagerMetrics(rm, () => dispatcher);
  let ha;
  try {
    ha = await startHighAvailability(conf, dispatcher, log);
  } catch (e) {
    await archive.close().catch(() => undefined);
    log.fatal((e as Error).message);
    throw e;
  }
  // Deployments (weir apply) beside the job records with high availability, where a standby sees them.
  let deployments: DeploymentService;
  try {
    deployments = await DeploymentService.open({
      conf,
      dispatcher,
      log,
      alerts,
      restUrl: () => restUrl,
      dir: join(ha?.store.storageDir ?? workingDir, 'deployments'),
      checkpointsDir,
    });
  } catch (e) {
    await ha?.close();
    await archive.close().catch(() => undefined);
    log.fatal((e as Error).message);
    throw e;
  }

  const rpc = createRpcServer(security, log);
  rpc.addService(jobManagerServiceDefinition(), jobManagerService(rm, dispatcher, jars, log));
  const rpcHost = conf.getString('jobmanager.rpc.address');
  let rpcPort: number;
  try {
    rpcPort = await bindServer(rpc, rpcHost, conf.getInt('jobmanager.rpc.port'), serverCredentials(security));
  } catch (e) {
    log.fatal({ err: e }, 'JobManager failed to start');
    throw e;
  }
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
  const restHost = conf.getString('rest.bind-address');
  try {
    await rest.listen({ host: restHost, port: conf.getInt('rest.port') });
  } catch (e) {
    await shutdownServer(rpc, 100);
    rm.stop();
    await archive.close().catch(() => undefined);
    const msg = `cannot start the REST endpoint on ${restHost}:${conf.getInt('rest.port')}: ${(e as Error).message}`;
    log.fatal(msg);
    throw new Error(msg);
  }
  const addr = rest.server.address();
  const restPort = typeof addr === 'object' && addr ? addr.port : conf.getInt('rest.port');
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
  // Jobs the previous JobManager ran continue here (high availability); with etcd once elected.
  await ha?.lead({
    leader: { jobManagerId, restUrl, rpcAddress },
    alerts,
    onLeadershipLost: (reason) => {
      // Fencing: another JobManager may lead within the lease time; this one must not deploy or commit anything more.
      exitAfterLogging(log, 1, { reason }, 'leadership lost: the JobManager stops now (start it again to stand by)');
    },
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info('JobManager shutting down');
      deployments.close();
      await dispatcher.shutdown(5000);
      await ha?.close();
      await archive.close().catch(() => undefined);
      await rest.close();
      rm.stop();
      await shutdownServer(rpc, 1000);
      log.info('JobManager stopped');
      await new Promise<void>((r) => log.flush(() => r()));
    })());
  return { restUrl, rpcAddress, logFile, log, close };
}
