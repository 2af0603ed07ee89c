// weir taskmanager: runs a TaskManager in this process until SIGTERM / SIGINT.
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { ConfigMap, Configuration } from '../../common/config.js';
import { exitWithParent, notifyReady, runUntilStopped } from '../daemon.js';
import { CliError, firstLine } from '../errors.js';
import { addServerConfigOptions, positiveInt, serverConfiguration, type ServerConfigFlags } from '../options.js';

interface Flags extends ServerConfigFlags {
  jobmanager?: string;
  slots?: number;
  dir?: string;
}

export function taskManagerCommand(): Command {
  return addServerConfigOptions(
    new Command('taskmanager')
      .description('run a TaskManager in the foreground, registered with a JobManager')
      .option(
        '--jobmanager <address>',
        'gRPC address of the JobManager (host:port), or etcd://host:2379[,host:2379] to follow the leader (default with high-availability.type: etcd)',
      )
      .option('--slots <n>', 'task slots to offer (taskmanager.numberOfTaskSlots, default 4)', positiveInt('--slots'))
      .option(
        '--dir <dir>',
        'working directory for logs and state (process.working-dir, default .weir/taskmanager-<pid>)',
      ),
  ).action(async (flags: Flags) => {
    const startupDone = exitWithParent();
    const keys: ConfigMap = {};
    if (flags.slots !== undefined) keys['taskmanager.numberOfTaskSlots'] = String(flags.slots);
    if (flags.dir !== undefined) keys['process.working-dir'] = resolve(flags.dir);
    const conf = serverConfiguration(flags, keys);
    const jobManagerAddress = jobManagerTarget(flags.jobmanager, conf);
    const workingDir = resolve(conf.getOptionalString('process.working-dir') ?? `.weir/taskmanager-${process.pid}`);
    conf.set('process.working-dir', workingDir);
    // Loaded on demand: client commands need none of the server's dependencies.
    const { startTaskManager } = await import('../../taskmanager/taskmanager.js');
    let tm;
    try {
      tm = await startTaskManager(conf, { workingDir, jobManagerAddress });
    } catch (e) {
      throw new CliError(`cannot start the TaskManager: ${firstLine((e as Error).message)}`);
    }
    process.stderr.write(
      `TaskManager ${tm.id} started, registered with ${jobManagerAddress}, working directory ${workingDir}\n`,
    );
    startupDone();
    runUntilStopped(`TaskManager ${tm.id}`, tm, conf.getDuration('cluster.shutdown.timeout'));
    notifyReady({ type: 'ready', role: 'taskmanager', id: tm.id });
  });
}

/** host:port, or etcd://... (given, or from high-availability.etcd.endpoints when high-availability.type is etcd). */
function jobManagerTarget(flag: string | undefined, conf: Configuration): string {
  if (flag !== undefined) {
    if (/^etcds?:\/\/\S+$/i.test(flag) || /^[^\s:]+:\d+$/.test(flag)) return flag;
    throw new CliError(`--jobmanager must be host:port or etcd://host:port[,host:port], got '${flag}'`);
  }
  const endpoints = conf.getOptionalString('high-availability.etcd.endpoints');
  if (conf.getOptionalString('high-availability.type')?.toLowerCase() === 'etcd' && endpoints) {
    return `etcd://${endpoints
      .split(',')
      .map((e) => e.trim().replace(/^https?:\/\//, ''))
      .join(',')}`;
  }
  throw new CliError('--jobmanager is required (host:port, or etcd://host:2379 with high availability)');
}
