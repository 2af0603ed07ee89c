// The JobManager process: ResourceManager, Dispatcher, gRPC control plane, REST and web UI.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Configuration } from '../common/config.js';
import { jobManagerServiceDefinition } from '../common/control.js';
import { createLogger, logFileOptions, type Logger } from '../common/logging.js';
import { bindServer, shutdownServer } from '../common/rpc.js';
import { ENGINE_VERSION } from '../common/version.js';
import { Dispatcher } from './dispatcher.js';
import { JarStore } from './jar-store.js';
import { JobManagerMetrics } from './metrics.js';
import { ResourceManager } from './resource-manager.js';
import { AlertNotifier } from './alerts.js';
import { JobArchive, jobStoreOptions } from './job-archive.js';
import { archivedViews } from './rest/job-json.js';
import { createRestServer } from './rest/server.js';
import { jobManagerService } from './rpc-service.js';

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
  const jobManagerId = randomBytes(8).toString('hex');
  // A stray rejection in one job's bookkeeping must not take every other job down with the process.
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection (ignored, JobManager keeps running)'));

  const rm = new ResourceManager(jobManagerId, conf.getDuration('heartbeat.interval'), conf.getDuration('heartbeat.timeout'), log);
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

  const rpc = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  rpc.addService(jobManagerServiceDefinition(), jobManagerService(rm, dispatcher, jars, log));
  const rpcHost = conf.getString('jobmanager.rpc.address');
  let rpcPort: number;
  try {
    rpcPort = await bindServer(rpc, rpcHost, conf.getInt('jobmanager.rpc.port'));
  } catch (e) {
    log.fatal({ err: e }, 'JobManager failed to start');
    throw e;
  }
  rm.start();

  const rest = await createRestServer({ conf, log, logFile, rm, dispatcher, metrics });
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
  restUrl = `http://${conf.getString('rest.address')}:${restPort}`;
  const rpcAddress = `${rpcHost}:${rpcPort}`;
  log.info({ restUrl, rpcAddress, restPort, rpcPort, workingDir, version: ENGINE_VERSION, jobManagerId }, 'JobManager started');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info('JobManager shutting down');
      await dispatcher.shutdown(5000);
      await archive.close().catch(() => undefined);
      await rest.close();
      rm.stop();
      await shutdownServer(rpc, 1000);
      log.info('JobManager stopped');
      await new Promise<void>((r) => log.flush(() => r()));
    })());
  return { restUrl, rpcAddress, logFile, log, close };
}
