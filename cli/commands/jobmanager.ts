// weir jobmanager: runs a JobManager in this process until SIGTERM / SIGINT.
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { ConfigMap } from '../../common/config.js';
import { runUntilStopped, notifyReady, exitWithParent } from '../daemon.js';
import { CliError, firstLine } from '../errors.js';
import { addServerConfigOptions, port, serverConfiguration, type ServerConfigFlags } from '../options.js';

interface Flags extends ServerConfigFlags {
  port?: number;
  rpcPort?: number;
  dir?: string;
}

export function jobManagerCommand(): Command {
  return addServerConfigOptions(
    new Command('jobmanager')
      .description('run a JobManager (REST API, web UI, scheduler) in the foreground')
      .option('--port <port>', 'REST and web UI port (rest.port, default 8081)', port('--port'))
      .option(
        '--rpc-port <port>',
        'gRPC port TaskManagers connect to (jobmanager.rpc.port, default 6123)',
        port('--rpc-port'),
      )
      .option(
        '--dir <dir>',
        'working directory for logs, bundles and job data (process.working-dir, default .weir/jobmanager)',
      ),
  ).action(async (flags: Flags) => {
    const startupDone = exitWithParent();
    const keys: ConfigMap = {};
    if (flags.port !== undefined) keys['rest.port'] = String(flags.port);
    if (flags.rpcPort !== undefined) keys['jobmanager.rpc.port'] = String(flags.rpcPort);
    if (flags.dir !== undefined) keys['process.working-dir'] = resolve(flags.dir);
    const conf = serverConfiguration(flags, keys);
    const workingDir = resolve(conf.getOptionalString('process.working-dir') ?? '.weir/jobmanager');
    conf.set('process.working-dir', workingDir);
    // Loaded on demand: client commands need none of the server's dependencies.
    const { startJobManager } = await import('../../jobmanager/jobmanager.js');
    let jm;
    try {
      jm = await startJobManager(conf, { workingDir });
    } catch (e) {
      throw new CliError(`cannot start the JobManager: ${firstLine((e as Error).message)}`);
    }
    process.stderr.write(
      `JobManager started: REST and web UI at ${jm.restUrl}, RPC at ${jm.rpcAddress}, working directory ${workingDir}\n`,
    );
    startupDone();
    runUntilStopped('JobManager', jm, conf.getDuration('cluster.shutdown.timeout'));
    notifyReady({ type: 'ready', role: 'jobmanager', restUrl: jm.restUrl, rpcAddress: jm.rpcAddress });
  });
}
